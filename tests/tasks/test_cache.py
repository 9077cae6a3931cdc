"""The activation cache: exact round trip, warm hits without the biLM, atomic and parallel-safe entries."""

from __future__ import annotations

import multiprocessing
import shutil

import numpy as np
import pytest
import torch

from tasks.cache import ActivationCache, compute_features, main, texts_fingerprint
from tasks.embedders.elmo import ElmoEmbedder

TEXTS = [("The", "cat", "sat", "."), ("Hello",), (), ("A", "much", "longer", "sentence", "than", "the", "others")]


@pytest.fixture()
def embedder(elmo_fixtures):
    return ElmoEmbedder(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")


def test_float32_entry_equals_the_embedder_and_a_warm_hit_never_loads_the_bilm(embedder, elmo_fixtures, tmp_path):
    cache = ActivationCache(tmp_path, dtype="float32")
    written = cache.features(embedder, TEXTS, "test")
    expected = embedder.bilm.embed_sentences(TEXTS)
    assert len(written) == len(TEXTS) and written.num_layers == 3 and written.dim == 32
    for index, layers in enumerate(expected):
        assert torch.equal(written.get(index), layers.permute(1, 0, 2))
    fresh = ElmoEmbedder(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    again = cache.features(fresh, TEXTS)
    assert not fresh.loaded  # the fingerprint hashes the files; the weights are never read
    assert isinstance(again.data, np.memmap)
    assert np.array_equal(np.asarray(again.data), np.asarray(written.data))


def test_float16_halves_the_entry_within_half_precision(embedder, tmp_path):
    exact = compute_features(embedder, TEXTS)
    half = ActivationCache(tmp_path, dtype="float16").features(embedder, TEXTS)
    assert half.data.dtype == np.float16 and half.data.nbytes * 2 == exact.data.nbytes
    np.testing.assert_allclose(np.asarray(half.data, dtype=np.float32), exact.data, rtol=1e-3, atol=1e-3)


def test_entries_are_keyed_by_embedder_texts_and_dtype(embedder, elmo_fixtures, tmp_path):
    cache = ActivationCache(tmp_path)
    fingerprint = embedder.fingerprint()
    base = cache.key(fingerprint, texts_fingerprint(TEXTS))
    assert cache.key(fingerprint, texts_fingerprint(TEXTS[:2])) != base
    assert cache.key(fingerprint, texts_fingerprint([("The cat",)])) != cache.key(fingerprint, texts_fingerprint([("The", "cat")]))
    assert ActivationCache(tmp_path, dtype="float32").key(fingerprint, texts_fingerprint(TEXTS)) != base
    top_only = ElmoEmbedder(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5", layers=[2])
    assert cache.key(top_only.fingerprint(), texts_fingerprint(TEXTS)) != base


def test_a_half_written_entry_is_never_read(embedder, tmp_path):
    cache = ActivationCache(tmp_path)
    key = cache.key(embedder.fingerprint(), texts_fingerprint(TEXTS))
    cache.features(embedder, TEXTS)
    (tmp_path / key / "meta.json").unlink()  # as if killed before the entry was complete
    assert cache.load(key) is None
    shutil.rmtree(tmp_path / key)
    leftover = tmp_path / f".{key}.abc123"  # a killed writer's temporary folder
    leftover.mkdir()
    (leftover / "layers.npy").write_bytes(b"partial")
    assert cache.load(key) is None and cache.entries() == []
    cache.features(embedder, TEXTS)
    assert [entry["key"] for entry in cache.entries()] == [key]


def test_stores_of_different_texts_cannot_be_concatenated(embedder):
    from tasks.cache import ConcatStore

    with pytest.raises(ValueError, match="same texts"):
        ConcatStore((compute_features(embedder, TEXTS), compute_features(embedder, TEXTS[:2])), num_layers=3)


def _fill_entry(args: tuple[str, str, str]) -> list[float]:
    options, weights, root = args
    store = ActivationCache(root).features(ElmoEmbedder(options, weights), TEXTS)
    return [float(np.asarray(store.data, dtype=np.float32).sum())]


def test_parallel_jobs_sharing_an_entry_write_it_once(elmo_fixtures, tmp_path):
    args = (str(elmo_fixtures / "options.json"), str(elmo_fixtures / "lm_weights.hdf5"), str(tmp_path))
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map(_fill_entry, [args] * 3)
    assert results[0] == results[1] == results[2]
    assert len(ActivationCache(tmp_path).entries()) == 1
    assert [p.name for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith(".")] == []


def test_show_and_clear_command(embedder, tmp_path, capsys):
    ActivationCache(tmp_path).features(embedder, TEXTS, "pos/train elmo")
    assert main(["show", "--dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "pos/train elmo" in shown and "1 entries" in shown and "12 tokens" in shown
    assert main(["clear", "--dir", str(tmp_path)]) == 0
    assert "removed 1 entries" in capsys.readouterr().out
    assert ActivationCache(tmp_path).entries() == []


def test_a_concatenation_reuses_its_members_entries(embedder, tmp_path):
    from tasks.cache import embed_texts
    from tasks.embedders.concat import ConcatEmbedder
    from tasks.embedders.static import RandomEmbedder

    static = RandomEmbedder(dim=5, seed=0)
    static.fit(TEXTS)
    cache = ActivationCache(tmp_path, dtype="float32")
    both = embed_texts(ConcatEmbedder([static, embedder]), TEXTS, cache)
    assert len(cache.entries()) == 1  # only the biLM's layers are stored
    alone = embed_texts(embedder, TEXTS, cache)
    assert both.num_layers == 3 and both.dim == 5 + 32 and len(both) == len(TEXTS)
    for index in range(len(TEXTS)):
        torch.testing.assert_close(both.get(index)[:, :, 5:], alone.get(index), rtol=0, atol=0)
    torch.testing.assert_close(both.get(3, 1, 4), both.get(3)[1:4])
    direct = ConcatEmbedder([static, embedder]).embed([list(t) for t in TEXTS])
    for index, layers in enumerate(direct):
        torch.testing.assert_close(both.get(index), layers.permute(1, 0, 2))
