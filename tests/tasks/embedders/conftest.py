"""Fixtures shared by the embedder tests."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from gensim.models import FastText
from gensim.models.fasttext import save_facebook_model


@pytest.fixture(scope="session")
def fasttext_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fastText model in Facebook's binary format."""
    rng = random.Random(0)
    words = ["walk", "walked", "walking", "talk", "talked", "Paris", "river", "house"]
    sentences = [[rng.choice(words) for _ in range(8)] for _ in range(200)]
    model = FastText(
        sentences, vector_size=8, min_count=1, bucket=2000, epochs=2, workers=1, seed=0
    )
    path = tmp_path_factory.mktemp("fasttext") / "tiny.bin"
    save_facebook_model(model, str(path))
    return path
