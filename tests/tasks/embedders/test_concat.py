"""Embedders side by side: static vectors repeated beside every ELMo layer (``glove+elmo``)."""

from __future__ import annotations

import pytest
import torch

from tasks.embedders.concat import ConcatEmbedder
from tasks.embedders.elmo import ElmoEmbedder
from tasks.embedders.static import RandomEmbedder, StaticEmbedder
from tests.tasks.vector_helpers import DATA

SENTENCES = [["The", "cat", "sat", "."], ["A", "dog"]]


def test_a_one_layer_member_is_repeated_beside_every_layer(elmo_fixtures):
    files = (elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    static, elmo = StaticEmbedder(str(DATA / "glove_tiny.txt")), ElmoEmbedder(*files)
    both = ConcatEmbedder([static, elmo])
    assert (both.num_layers, both.dim) == (3, 3 + 32) and both.cacheable
    assert both.parts() == [static, elmo]
    out = both(SENTENCES)
    alone_static, alone_elmo = static(SENTENCES), elmo(SENTENCES)
    assert out.layers.shape == (2, 3, 4, 35) and torch.equal(out.mask, alone_elmo.mask)
    for layer in range(3):
        assert torch.equal(out.layers[:, layer, :, :3], alone_static.layers[:, 0])
    torch.testing.assert_close(out.layers[..., 3:], alone_elmo.layers, rtol=0, atol=0)
    assert both.coverage(SENTENCES) == static.coverage(SENTENCES)
    cased = ConcatEmbedder([StaticEmbedder(str(DATA / "glove_tiny.txt"), lowercase=False), elmo])
    assert cased.fingerprint() != both.fingerprint()


def test_members_are_fitted_and_must_agree_on_their_layers(elmo_fixtures):
    random = RandomEmbedder(dim=4)
    ConcatEmbedder([random]).fit([["the", "cat"]])
    assert random.words == ["cat", "the"]
    files = (elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    with pytest.raises(ValueError, match="same number of layers"):
        ConcatEmbedder([ElmoEmbedder(*files), ElmoEmbedder(*files, layers=[0, 2])])
    with pytest.raises(ValueError, match="at least one embedder"):
        ConcatEmbedder([])
