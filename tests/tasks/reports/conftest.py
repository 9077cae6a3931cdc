"""The results folder the report tests read: the hand-made rows, a prediction file, a list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_rows import ROWS, write_row


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A sweep folder holding :data:`report_rows.ROWS` and two JSON files that are not rows."""
    folder = tmp_path / "results" / "sweep"
    for row in ROWS:
        write_row(folder, row)
    predictions = folder / "runs" / "squad" / "glove" / "seed0-bilstm.predictions.json"
    predictions.write_text(json.dumps({"q1": "Denver Broncos"}), encoding="utf-8")
    (folder / "runs" / "list.json").write_text("[1, 2]", encoding="utf-8")
    return folder
