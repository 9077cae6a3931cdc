"""Test helpers for the data readers: the offline copies of the real datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def shared_file(folder: str, name: str) -> Path:
    """A file of the offline datasets; skips the test when its folder is absent."""
    path = SHARED_DATA / folder / name
    if not path.is_file():
        pytest.skip(f"dataset file {name} not found in {path.parent}")
    return path
