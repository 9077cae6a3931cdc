"""Static embedders: the GloVe package, lookups in cased and uncased tables, fingerprints,
and the random-vector floor."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from gensim.models.fasttext import load_facebook_vectors
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tasks.embedders.static import RandomEmbedder, StaticEmbedder
from tasks.embedders.vector_files import glove_6b_50d, read_vectors
from tests.tasks.vector_helpers import CONF, DATA, GLOVE_VECTORS, write_word2vec_binary

# ----------------------------------------------------------------------------- GloVe package


def test_the_glove_package_is_the_full_stanford_table():
    table = glove_6b_50d()
    assert len(table) == 400_000 and table.dim == 50 and table.vectors.shape == (400_000, 50)
    assert table.words[0] == "the" and table.index["the"] == 0 and table.lowercase
    assert np.allclose(table.vectors[0, :5], [0.418, 0.24968, -0.41242, 0.1217, 0.34527])
    embedder = instantiate(OmegaConf.load(CONF / "glove.yaml"))
    out = embedder([["The", "Cat"], ["qqzzxxyy"]])
    assert out.layers.shape == (2, 1, 2, 50) and embedder.num_layers == 1
    assert torch.equal(out.layers[0, 0, 0], torch.from_numpy(np.array(table.vectors[0])))
    coverage = embedder.coverage([["The", "Cat"], ["qqzzxxyy"]])
    assert coverage == {"tokens": 3, "found": 2, "share": 2 / 3}


# ----------------------------------------------------------------------------- StaticEmbedder


def test_uncased_tables_match_case_insensitively_and_unknown_words_are_zero():
    sentences = [["The", "cat", "sat", "."], ["A", "dog", "sat"]]
    embedder = StaticEmbedder(str(DATA / "glove_tiny.txt"))
    out = embedder(sentences)
    assert embedder.lowercase and embedder.dim == 3
    assert out.layers.shape == (2, 1, 4, 3)
    assert out.mask.tolist() == [[True] * 4, [True, True, True, False]]
    zero = np.zeros(3, dtype=np.float32)
    expected = torch.from_numpy(
        np.stack([GLOVE_VECTORS[:4], np.stack([zero, zero, GLOVE_VECTORS[2], zero])])
    )
    assert torch.equal(out.layers[:, 0], expected)  # unknown words and padding are zero
    assert embedder.coverage(sentences) == {"tokens": 7, "found": 5, "share": 5 / 7}
    exact = StaticEmbedder(str(DATA / "glove_tiny.txt"), lowercase=False)
    assert not exact.lowercase and exact(sentences).layers[0, 0, 0].abs().sum() == 0
    assert exact.coverage(sentences) == {"tokens": 7, "found": 4, "share": 4 / 7}


def test_cased_tables_match_exactly():
    embedder = StaticEmbedder(str(DATA / "word2vec_tiny.vec"))
    out = embedder([["The", "the", "paris"]])
    assert out.layers[0, 0, :, 0].tolist() == pytest.approx([0.1, 0.4, 0.0])


def test_the_table_is_frozen_and_left_out_of_checkpoints():
    embedder = StaticEmbedder(str(DATA / "glove_tiny.txt"))
    assert list(embedder.parameters()) == [] and embedder.state_dict() == {}
    head = torch.nn.Linear(3, 2)
    out = embedder([["the", "cat"]])
    assert not out.layers.requires_grad
    head(out.layers).sum().backward()
    assert head.weight.grad is not None


def test_an_empty_batch_and_empty_sentences():
    embedder = StaticEmbedder(str(DATA / "glove_tiny.txt"))
    assert embedder([]).layers.shape == (0, 1, 0, 3)
    out = embedder([[], ["cat"]])
    assert out.layers.shape == (2, 1, 1, 3) and out.mask.tolist() == [[False], [True]]
    with pytest.raises(ValueError, match="no tokens"):
        embedder.coverage([[]])


def test_fingerprint_follows_the_content_and_lowercase_not_the_path(tmp_path):
    copy = tmp_path / "copy.txt"
    shutil.copy(DATA / "glove_tiny.txt", copy)
    original = StaticEmbedder(str(DATA / "glove_tiny.txt")).fingerprint()
    copied = StaticEmbedder(str(copy))
    copy.unlink()  # the fingerprint comes from the table in memory, not from the file
    assert copied.fingerprint() == original
    assert StaticEmbedder(str(DATA / "glove_tiny.txt"), lowercase=False).fingerprint() != original
    copy.write_text((DATA / "glove_tiny.txt").read_text().replace("0.3", "0.30001"))
    assert StaticEmbedder(str(copy)).fingerprint() != original


def test_fasttext_fingerprint_covers_the_subword_ngrams(tmp_path, fasttext_bin):
    keyed = load_facebook_vectors(str(fasttext_bin))
    words_only = write_word2vec_binary(tmp_path / "words.bin", keyed.index_to_key, keyed.vectors)
    with_subwords = StaticEmbedder(str(fasttext_bin))
    assert np.array_equal(read_vectors(words_only).vectors, with_subwords.vector_table.vectors)
    assert StaticEmbedder(str(words_only)).fingerprint() != with_subwords.fingerprint()


# ----------------------------------------------------------------------------- RandomEmbedder

TRAIN = [["The", "cat", "sat"], ["the", "cat", "ran", "."]]


def test_random_vectors_cover_the_training_vocabulary_and_share_one_unknown_vector():
    embedder = RandomEmbedder(dim=300, seed=0)
    with pytest.raises(RuntimeError, match="fit"):
        embedder([["cat"]])
    embedder.fit(TRAIN)
    assert embedder.words == [".", "The", "cat", "ran", "sat", "the"]
    out = embedder([["cat", "dog", "bird"], ["the"]])
    layers = out.layers[:, 0]
    assert layers.shape == (2, 3, 300) and embedder.num_layers == 1
    assert torch.equal(layers[0, 1], layers[0, 2]) and torch.equal(layers[0, 1], embedder.unknown)
    assert not torch.equal(layers[0, 0], layers[0, 1])
    assert torch.equal(layers[1, 1:], torch.zeros(2, 300))  # padding
    assert float(embedder.table.std()) == pytest.approx(300**-0.5, rel=0.05)
    assert embedder.coverage([["cat", "dog", "The"]]) == {"tokens": 3, "found": 2, "share": 2 / 3}
    assert list(embedder.parameters()) == [] and embedder.state_dict() == {}


def test_random_vectors_are_fixed_by_the_seed():
    def fitted(seed: int, train: list[list[str]] = TRAIN) -> RandomEmbedder:
        embedder = RandomEmbedder(dim=16, seed=seed)
        embedder.fit(train)
        return embedder

    sentences = [["cat", "dog"]]
    assert torch.equal(fitted(0)(sentences).layers, fitted(0)(sentences).layers)
    assert fitted(0).fingerprint() == fitted(0).fingerprint()
    assert not torch.equal(fitted(0)(sentences).layers, fitted(1)(sentences).layers)
    assert fitted(0).fingerprint() != fitted(1).fingerprint()
    assert fitted(0).fingerprint() != fitted(0, TRAIN + [["dog"]]).fingerprint()


def test_random_min_count_and_the_config():
    embedder = RandomEmbedder(dim=4, min_count=2)
    embedder.fit(TRAIN)
    assert embedder.words == ["cat"]
    with pytest.raises(ValueError, match="no training word occurs 3 times"):
        RandomEmbedder(min_count=3).fit(TRAIN)
    cfg = OmegaConf.load(CONF / "random.yaml")
    cfg.seed = 7
    configured = instantiate(cfg)
    assert (configured.dim, configured.seed, configured.min_count) == (300, 7, 1)


def test_every_static_config_opens_with_a_comment_and_has_no_name():
    for name in ("glove", "word2vec", "fasttext", "random"):
        text = (CONF / f"{name}.yaml").read_text()
        assert text.startswith("# ") and "name:" not in text
        assert OmegaConf.load(CONF / f"{name}.yaml")._target_.startswith("tasks.embedders.static.")
