"""The embedder interface: ``embed`` is the one method the pipeline calls, calling the module
pads it into a batch, and a report name never changes what an embedder computes."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tasks.cache import compute_features
from tasks.embedders.base import Embedder
from tasks.embedders.concat import ConcatEmbedder
from tasks.embedders.elmo import ElmoEmbedder
from tasks.embedders.static import RandomEmbedder, StaticEmbedder
from tests.tasks.vector_helpers import CONF, DATA

SENTENCES = [["a", "bcd"], [], ["ef"]]


class TokenLengths(Embedder):
    """A whole embedder in a few lines: two layers of width 3, +len(token) and -len(token)."""

    @property
    def num_layers(self) -> int:
        return 2

    @property
    def dim(self) -> int:
        return 3

    def fingerprint(self) -> str:
        return "token-lengths"

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        signs = torch.tensor([1.0, -1.0])[:, None, None]
        return [
            signs * torch.tensor([float(len(t)) for t in s]).reshape(1, len(s), 1).expand(2, -1, 3)
            for s in sentences
        ]


def test_embed_and_the_sizes_are_all_a_new_embedder_writes():
    assert Embedder.__abstractmethods__ == {"embed", "num_layers", "dim", "fingerprint"}
    embedder = TokenLengths()
    out = embedder(SENTENCES)
    assert out.layers.shape == (3, 2, 2, 3) and out.layers.dtype == torch.float32
    assert out.mask.tolist() == [[True, True], [False, False], [True, False]]
    assert out.layers[:, 0, :, 0].tolist() == [[1, 3], [0, 0], [2, 0]]  # zero at padding
    assert torch.equal(out.layers[:, 1], -out.layers[:, 0])
    assert embedder.parts() == [embedder] and embedder.name is None
    assert not embedder.cacheable and embedder.coverage(SENTENCES) is None
    store = compute_features(embedder, SENTENCES)  # the pipeline's path: through embed
    assert torch.equal(store.get(0), out.layers[0].permute(1, 0, 2))
    assert store.length(1) == 0


def test_every_embedder_takes_a_report_name_that_leaves_its_output_alone(elmo_fixtures):
    files = (elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    glove = str(DATA / "glove_tiny.txt")

    def built(name: str | None) -> list[Embedder]:
        random = RandomEmbedder(dim=4, name=name)
        random.fit([["the", "cat"]])
        static = StaticEmbedder(glove, name=name)
        parts = [StaticEmbedder(glove), ElmoEmbedder(*files)]
        return [ElmoEmbedder(*files, name=name), static, random, ConcatEmbedder(parts, name=name)]

    for plain, named in zip(built(None), built("report"), strict=True):
        assert plain.name is None and named.name == "report"
        assert named.fingerprint() == plain.fingerprint()


def test_a_config_with_its_name_instantiates_as_it_is(elmo_fixtures):
    cfg = OmegaConf.load(CONF / "glove_elmo.yaml")
    cfg.pop("mix", None)  # a model setting, not the embedder's
    cfg.embedders[0].vectors = str(DATA / "glove_tiny.txt")
    cfg.embedders[1].options_file = str(elmo_fixtures / "options.json")
    cfg.embedders[1].weight_file = str(elmo_fixtures / "lm_weights.hdf5")
    embedder = instantiate(cfg)
    assert isinstance(embedder, ConcatEmbedder) and embedder.name == "glove+elmo"
    assert [type(part) for part in embedder.parts()] == [StaticEmbedder, ElmoEmbedder]
