"""Behaviour of the biLM beyond the fixture replay: batching, shapes, freezing, export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from elmo import BiLM, BiLMConfig

SENTENCES = [
    ["The", "cat", "sat", "on", "the", "mat", "."],
    ["Hello"],
    ["A", "much", "longer", "sentence", ",", "with", "many", "more", "tokens", "than", "the", "others", "."],
    ["Zürich", "😀", "naïve", "x" * 300],
]


def random_bilm(seed: int = 0, **lstm) -> BiLM:
    """A small biLM with random weights; clipping values low enough to be exercised."""
    options = {
        "lstm": {"dim": 24, "projection_dim": 8, "n_layers": 2, "cell_clip": 1.5,
                 "proj_clip": 0.5, "use_skip_connections": True, **lstm},
        "char_cnn": {"embedding": {"dim": 4}, "filters": [[1, 4], [2, 6], [3, 8]],
                     "n_highway": 1, "n_characters": 262, "max_characters_per_token": 50,
                     "activation": "relu"},
    }
    bilm = BiLM(BiLMConfig.from_dict(options))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in bilm.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
        bilm.char_cnn.char_embedding[0].zero_()
    return bilm.freeze()


@pytest.fixture(scope="module")
def fixture_bilm(elmo_fixtures) -> BiLM:
    return BiLM.from_allennlp(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")


def test_output_shapes_and_layer_zero(fixture_bilm):
    out = fixture_bilm.embed_sentences(SENTENCES)
    assert [o.shape for o in out] == [(3, len(s), 32) for s in SENTENCES]
    assert all(o.dtype == torch.float32 for o in out)
    # Layer 0 is the token representation, the same in both halves.
    assert torch.equal(out[0][0, :, :16], out[0][0, :, 16:])
    assert fixture_bilm.num_layers == 3 and fixture_bilm.output_dim == 32


@pytest.mark.parametrize("seed", [0, 1])
def test_batch_independence(seed):
    """A sentence alone equals the same sentence in a padded batch, in any order."""
    bilm = random_bilm(seed)
    alone = [bilm.embed_sentences([s])[0] for s in SENTENCES]
    for batch_size in (2, 4):
        for order in (SENTENCES, SENTENCES[::-1]):
            batched = bilm.embed_sentences(order, batch_size=batch_size)
            expected = alone if order is SENTENCES else alone[::-1]
            for a, b in zip(batched, expected, strict=True):
                assert (a - b).abs().max() <= 1e-6


def test_padded_tensor_entry_point_matches_embed_sentences(fixture_bilm):
    ids = fixture_bilm.characters.encode_batch(SENTENCES)
    with torch.no_grad():
        out = fixture_bilm(ids)
    assert out.layers.shape == (4, 3, 13, 32)
    assert out.mask.tolist() == [[i < len(s) for i in range(13)] for s in SENTENCES]
    assert (out.layers[1, :, 1:] == 0).all()  # padding is zero
    for row, expected in enumerate(fixture_bilm.embed_sentences(SENTENCES)):
        assert torch.allclose(out.layers[row, :, : len(SENTENCES[row])], expected, atol=1e-6)


def test_empty_sentences(fixture_bilm):
    assert fixture_bilm.embed_sentences([]) == []
    out = fixture_bilm.embed_sentences([[], ["word"], []])
    assert [o.shape for o in out] == [(3, 0, 32), (3, 1, 32), (3, 0, 32)]
    assert torch.allclose(out[1], fixture_bilm.embed_sentences([["word"]])[0], atol=1e-6)


def test_loaded_model_is_frozen(fixture_bilm):
    assert not fixture_bilm.training
    assert all(not p.requires_grad for p in fixture_bilm.parameters())


def test_gradients_flow_when_trainable():
    bilm = random_bilm()
    bilm.train().requires_grad_(True)
    out = bilm(bilm.characters.encode_batch(SENTENCES[:2]))
    out.layers.sum().backward()
    grads = [p.grad for p in bilm.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert bilm.lstm.recurrent_weights[1].grad.abs().sum() > 0


def test_clipping_bounds_hold():
    bilm = random_bilm()
    out = bilm.embed_sentences(SENTENCES)
    for layer in out:
        assert layer[1:].abs().max() <= 0.5 * 2 + 1e-6  # proj_clip, plus the skip input
        assert layer[1].abs().max() <= 0.5 + 1e-6


def test_save_and_load_round_trip(tmp_path):
    bilm = random_bilm(seed=3)
    bilm.save_allennlp(tmp_path / "options.json", tmp_path / "weights.hdf5")
    loaded = BiLM.from_allennlp(tmp_path / "options.json", tmp_path / "weights.hdf5")
    assert loaded.config == bilm.config
    for a, b in zip(bilm.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(bilm.embed_sentences(SENTENCES), loaded.embed_sentences(SENTENCES), strict=True):
        assert torch.equal(a, b)
    options = json.loads((tmp_path / "options.json").read_text())
    assert options["lstm"]["projection_dim"] == 8 and options["char_cnn"]["filters"][2] == [3, 8]


def test_export_is_readable_by_the_reference_implementation(tmp_path):
    """Our writer produces the layout a plain reader of the bilm-tf format expects."""
    from benchmarks.reference_bilm import ReferenceBiLM

    bilm = random_bilm(seed=4)
    bilm.save_allennlp(tmp_path / "options.json", tmp_path / "weights.hdf5")
    reference = ReferenceBiLM(tmp_path / "options.json", tmp_path / "weights.hdf5")
    for a, b in zip(bilm.embed_sentences(SENTENCES), reference.embed_batch(SENTENCES), strict=True):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_stateful_rows_keep_state_when_the_batch_shrinks():
    bilm = random_bilm()
    bilm.stateful = True
    bilm.embed_sentences(SENTENCES[:3])
    state_row_2 = [h[:, 2].clone() for h, _ in bilm._state]
    bilm.embed_sentences(SENTENCES[:2])
    assert all(torch.equal(h[:, 2], old) for (h, _), old in zip(bilm._state, state_row_2, strict=True))
    assert bilm._state[0][0].shape[1] == 3


def test_word_cache_gives_identical_results_and_follows_weight_changes():
    bilm = random_bilm(seed=5)
    first = bilm.embed_sentences(SENTENCES)
    assert len(bilm._word_cache) == len({w for s in SENTENCES for w in s}) + 2  # + <S>, </S>
    again = bilm.embed_sentences(SENTENCES)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    with torch.no_grad():
        bilm.char_cnn.projection.mul_(2.0)
    changed = bilm.embed_sentences(SENTENCES)
    uncached = BiLM(bilm.config, word_cache_size=0)
    uncached.load_state_dict(bilm.state_dict())
    expected = uncached.freeze().embed_sentences(SENTENCES)
    assert all(torch.equal(a, b) for a, b in zip(changed, expected, strict=True))
    assert not torch.allclose(changed[0], first[0])


def test_word_cache_is_bounded():
    bilm = random_bilm()
    bilm.word_cache_size = 5
    bilm.embed_sentences(SENTENCES)
    assert len(bilm._word_cache) == 5


@pytest.mark.slow
def test_ten_thousand_token_input_matches_the_reference(elmo_fixtures):
    from benchmarks.reference_bilm import ReferenceBiLM

    options, weights = elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5"
    words = (elmo_fixtures / "vocab_test.txt").read_text(encoding="utf-8").split()
    sentence = [words[(7 * i) % len(words)] for i in range(10_000)]
    [actual] = BiLM.from_allennlp(options, weights).embed_sentences([sentence])
    [expected] = ReferenceBiLM(options, weights).embed_batch([sentence])
    assert actual.shape == (3, 10_000, 32)
    assert np.allclose(actual.numpy(), expected.numpy(), atol=1e-6)
