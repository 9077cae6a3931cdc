"""The ELMo embedder: default model, any AllenNLP model by path, frozen while a head trains."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import h5py
import pytest
import torch
from omegaconf import OmegaConf

from elmo import BiLM, ScalarMix
from elmo.bilm import DEFAULT_MODEL_DIR
from tasks.embedders.elmo import ElmoEmbedder
from tasks.run import build_embedder

CONF = DEFAULT_MODEL_DIR.parents[2] / "conf" / "embedder" / "elmo.yaml"
SENTENCES = [["The", "cat", "sat", "."], ["Hello"], []]


def test_config_builds_the_shipped_model_by_default():
    embedder = build_embedder(OmegaConf.create({"embedder": OmegaConf.load(CONF)}))
    assert embedder.weight_file == str(DEFAULT_MODEL_DIR / "weights.hdf5")
    out = embedder(SENTENCES)
    assert out.layers.shape == (3, 3, 4, 512) and embedder.dim == 512 and embedder.num_layers == 3
    assert out.mask.tolist() == [[True] * 4, [True, False, False, False], [False] * 4]
    expected = BiLM.default().embed_sentences(SENTENCES[:1])[0]
    assert torch.allclose(out.layers[0], expected, atol=1e-6, rtol=1e-5)  # batch-independent


def test_any_allennlp_model_is_one_setting_away(elmo_fixtures):
    cfg = OmegaConf.load(CONF)
    cfg.options_file = str(elmo_fixtures / "options.json")
    cfg.weight_file = str(elmo_fixtures / "lm_weights.hdf5")
    embedder = build_embedder(OmegaConf.create({"embedder": cfg}))
    assert embedder(SENTENCES).layers.shape == (3, 3, 4, 32)


def test_stays_frozen_while_a_head_trains(elmo_fixtures):
    embedder = ElmoEmbedder(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    assert not embedder.bilm.training
    before = {k: v.clone() for k, v in embedder.state_dict().items()}
    mix, head = ScalarMix(embedder.num_layers), torch.nn.Linear(embedder.dim, 3)
    model = torch.nn.ModuleDict({"embedder": embedder, "mix": mix, "head": head}).train()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    assert not embedder.bilm.training
    for _ in range(3):
        out = embedder(SENTENCES[:2])
        logits = head(mix(out.layers, out.mask))[out.mask]
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert mix.scalar_parameters.grad is not None
    assert all(torch.equal(before[k], v) for k, v in embedder.state_dict().items())


def test_fingerprint_follows_weights_and_settings(elmo_fixtures, tmp_path):
    weights = tmp_path / "weights.hdf5"
    shutil.copy(elmo_fixtures / "lm_weights.hdf5", weights)
    weights.chmod(0o644)
    first = ElmoEmbedder(elmo_fixtures / "options.json", weights).fingerprint()
    assert ElmoEmbedder(elmo_fixtures / "options.json", weights).fingerprint() == first
    with h5py.File(weights, "a") as f:
        f["CNN_proj/b_proj"][0] += 1e-3
    assert ElmoEmbedder(elmo_fixtures / "options.json", weights).fingerprint() != first
    assert ElmoEmbedder().fingerprint() != first


def test_half_given_paths_are_refused(elmo_fixtures):
    with pytest.raises(ValueError, match="give both options_file and weight_file"):
        ElmoEmbedder(options_file=elmo_fixtures / "options.json")


def test_layer_ablations_select_layers_of_the_full_stack(elmo_fixtures):
    files = (elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    full = ElmoEmbedder(*files)(SENTENCES)
    for layers in ([0], [1], [2], [0, 2]):
        part = ElmoEmbedder(*files, layers=layers)
        out = part(SENTENCES)
        assert part.num_layers == len(layers) and torch.equal(out.layers, full.layers[:, layers])
    assert ElmoEmbedder(*files, layers=[2]).fingerprint() != ElmoEmbedder(*files).fingerprint()
    with pytest.raises(ValueError, match=r"layers must be distinct indices in 0\.\.2"):
        ElmoEmbedder(*files, layers=[3])


def test_a_lazily_loaded_bilm_goes_where_the_embedder_was_moved(elmo_fixtures):
    paths = elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5"
    embedder = ElmoEmbedder(*paths).to("meta")  # meta: a device other than the CPU, on any machine
    assert not embedder.loaded
    assert {p.device.type for p in embedder.bilm.parameters()} == {"meta"}  # loaded after the move
    embedder = ElmoEmbedder(*paths)
    assert {p.device.type for p in embedder.bilm.parameters()} == {"cpu"}
    embedder.to("meta")
    assert {p.device.type for p in embedder.bilm.parameters()} == {"meta"}  # moved once loaded


def test_embed_splits_runs_the_embedder_on_the_trainers_device_then_returns_it(monkeypatch):
    import tasks.cache
    from tasks.run import embed_splits

    class Embedder:
        where = "cpu"

        def to(self, device):
            self.where = str(device)
            return self

    embedder, seen = Embedder(), []
    monkeypatch.setattr(tasks.cache, "embed_texts", lambda e, texts, cache, label: seen.append(e.where) or label)
    cfg = OmegaConf.create({"cache": {"enabled": False}})
    splits = {"train": SimpleNamespace(texts=[("a",)]), "test": SimpleNamespace(texts=[("b",)])}
    assert embed_splits(cfg, embedder, splits, "x", torch.device("cuda")) == {"train": "x/train", "test": "x/test"}
    assert seen == ["cuda", "cuda"] and embedder.where == "cpu"
    seen.clear()
    embed_splits(cfg, embedder, splits, "x", torch.device("cpu"))  # on a CPU trainer nothing moves
    assert seen == ["cpu", "cpu"]
