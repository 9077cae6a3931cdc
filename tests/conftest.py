"""Shared test helpers: where the datasets and the AllenNLP fixtures live."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ELMO_FIXTURES = SHARED / "fixtures" / "allennlp_elmo"


@pytest.fixture(scope="session")
def elmo_fixtures() -> Path:
    """The AllenNLP ELMo fixture folder; skips the test when it is absent."""
    if not (ELMO_FIXTURES / "lm_weights.hdf5").is_file():
        pytest.skip(f"AllenNLP ELMo fixtures not found at {ELMO_FIXTURES}")
    return ELMO_FIXTURES
