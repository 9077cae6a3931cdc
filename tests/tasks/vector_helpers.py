"""Test helpers for word vectors: the tiny files' expected content, and word2vec binaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

DATA = Path(__file__).parent / "data" / "vectors"
CONF = Path(__file__).resolve().parents[2] / "conf" / "embedder"

GLOVE_WORDS = ["the", "cat", "sat", ".", "new york"]
GLOVE_VECTORS = np.array(
    [[0.1, 0.2, 0.3], [-1, 0.5, 0.25], [0, 0, 1], [1, 1, 1], [0.5, -0.5, 0.25]], dtype=np.float32
)
BINARY_WORDS = ["the", "cat", "sat", ".", "new_york"]  # a word in a binary file ends at a space


def write_word2vec_binary(path: Path, words: list[str], vectors: np.ndarray) -> Path:
    """word2vec's binary format, written by gensim."""
    keyed = KeyedVectors(vectors.shape[1])
    keyed.add_vectors(words, vectors)
    keyed.save_word2vec_format(str(path), binary=True)
    return path
