"""The biLM against bilm-tf's own outputs for the AllenNLP fixture model."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch

from elmo import BiLM


def _fixture_batches(folder):
    sentences = json.loads((folder / "sentences.json").read_text())
    # Batch i is sentence i of each of the three lists, whitespace-tokenized.
    return [[sentences[k][i].split() for k in range(3)] for i in range(10)]


def _expected(folder, k: int, i: int) -> np.ndarray:
    with h5py.File(folder / f"lm_embeddings_{k}.hdf5", "r") as f:
        forward, backward = f[str(i)][...]
    return np.concatenate([forward, backward], axis=-1)  # (n_tokens, 2 * proj)


def _top_layers(bilm: BiLM, batch: list[list[str]]) -> list[np.ndarray]:
    with torch.no_grad():
        out = bilm(bilm.characters.encode_batch(batch))
    return [out.layers[row, -1, : len(s)].numpy() for row, s in enumerate(batch)]


def test_stateful_replay_matches_bilm_tf(elmo_fixtures):
    bilm = BiLM.from_allennlp(
        elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5", stateful=True
    )
    worst = 0.0
    for i, batch in enumerate(_fixture_batches(elmo_fixtures)):
        for k, actual in enumerate(_top_layers(bilm, batch)):
            expected = _expected(elmo_fixtures, k, i)
            assert actual.shape == expected.shape
            assert np.allclose(actual, expected, atol=1e-6), f"batch {i}, sentence {k}"
            worst = max(worst, float(np.abs(actual - expected).max()))
    assert worst < 1e-6


def test_without_state_only_the_first_batch_matches(elmo_fixtures):
    """bilm-tf's outputs depend on the carried state: a stateless run must differ after batch 0."""
    bilm = BiLM.from_allennlp(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    batches = _fixture_batches(elmo_fixtures)
    matches = [
        all(
            np.allclose(actual, _expected(elmo_fixtures, k, i), atol=1e-6)
            for k, actual in enumerate(_top_layers(bilm, batch))
        )
        for i, batch in enumerate(batches)
    ]
    assert matches == [True] + [False] * 9


def test_reset_states_restarts_the_replay(elmo_fixtures):
    bilm = BiLM.from_allennlp(
        elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5", stateful=True
    )
    first = _fixture_batches(elmo_fixtures)[0]
    before = _top_layers(bilm, first)
    assert not np.allclose(_top_layers(bilm, first)[0], before[0], atol=1e-6)
    bilm.reset_states()
    assert np.allclose(_top_layers(bilm, first)[0], before[0], atol=0)


def test_token_representations_match(elmo_fixtures):
    words = (elmo_fixtures / "vocab_test.txt").read_text(encoding="utf-8").strip().split("\n")
    with h5py.File(elmo_fixtures / "elmo_token_embeddings.hdf5", "r") as f:
        expected = f["embedding"][...]
    bilm = BiLM.from_allennlp(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    ids = torch.tensor([bilm.characters.encode_token(w) for w in words])
    with torch.no_grad():
        actual = bilm.token_embedding(ids).numpy()
    assert len(words) == 458 and actual.shape == expected.shape == (458, 16)
    assert np.allclose(actual, expected, atol=1e-6)


@pytest.mark.parametrize("batch_size", [1, 4, 32])
def test_reference_implementation_agrees(elmo_fixtures, batch_size):
    """The fast path equals the plain per-timestep loop on every layer, at any batching."""
    from benchmarks.reference_bilm import ReferenceBiLM

    options, weights = elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5"
    sentences = [s for batch in _fixture_batches(elmo_fixtures) for s in batch]
    expected = ReferenceBiLM(options, weights).embed_batch(sentences)
    actual = BiLM.from_allennlp(options, weights).embed_sentences(sentences, batch_size=batch_size)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape == (3, e.shape[1], 32)
        assert np.allclose(a.numpy(), e.numpy(), atol=1e-6)  # as the fixture check
