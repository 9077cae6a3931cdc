"""``summary.md`` and ``summary.csv`` from the hand-made rows."""

from __future__ import annotations

import csv

import pytest
from report_rows import ROWS, SQUAD_NOTE

from tasks.reports.paper import PAPER_CITATION
from tasks.reports.stats import summarize
from tasks.reports.tables import CSV_COLUMNS, write_summary


def test_write_summary_markdown_table(tmp_path):
    path = write_summary(summarize(ROWS), tmp_path / "out")
    text = path.read_text(encoding="utf-8")

    assert path == tmp_path / "out" / "summary.md"
    assert f"{len(ROWS)} run rows in 8 groups" in text
    assert SQUAD_NOTE in text
    assert PAPER_CITATION in text
    assert (
        "| **elmo** | bilstm | **91.00 ± 1.00 (n=3)** | 93.00 ± 1.00 | 92.22 (+ELMo) | — | 20 |"
        in text
    )
    assert (
        "| glove | bilstm | 88.50 ± 0.71 (n=2) | 90.50 ± 0.71 | 90.15 (baseline) | 95.00% | 100 |"
        in text
    )
    assert "| elmo_lstm1 | bilstm | 89.50 (n=1) | 90.50 | — | — | 100 |" in text
    assert text.count("\n## ") == 4  # at a glance + one per task


def test_summary_starts_with_a_task_by_embedder_overview(tmp_path):
    text = write_summary(summarize(ROWS), tmp_path).read_text(encoding="utf-8")
    overview = text.split("## At a glance", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in overview.splitlines() if line.startswith("| task"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    ner = next(line for line in overview.splitlines() if line.startswith("| ner"))
    cells = dict(zip(columns, (cell.strip() for cell in ner.strip("|").split("|")), strict=True))
    assert cells["elmo"] == "**91.00 ± 1.00 (3)**"
    assert cells["glove"] == "88.50 ± 0.71 (2)"
    assert cells["elmo_lstm1"] == "89.50 (1)"


def test_write_summary_csv_columns(tmp_path):
    write_summary(summarize(ROWS), tmp_path)
    with open(tmp_path / "summary.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        lines = list(reader)

    assert tuple(reader.fieldnames) == CSV_COLUMNS
    assert len(lines) == 8
    elmo = next(line for line in lines if line["task"] == "ner" and line["embedder"] == "elmo")
    assert float(elmo["test_mean"]) == pytest.approx(91.0)
    assert float(elmo["test_std"]) == pytest.approx(1.0)
    assert elmo["n_seeds"] == "3"
    assert elmo["seeds"] == "0;1;2"
    assert elmo["best"] == "true"
    assert elmo["paper_setting"] == "+ELMo"
    assert float(elmo["paper_value"]) == 92.22
    assert [float(w) for w in elmo["mix_weights"].split(";")] == pytest.approx([0.3, 0.4, 0.3])
    assert elmo["coverage_share"] == ""
    lstm1 = next(line for line in lines if line["embedder"] == "elmo_lstm1")
    assert lstm1["test_std"] == ""
