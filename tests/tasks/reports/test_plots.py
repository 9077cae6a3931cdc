"""The plots: valid PNG files, plots without data skipped, intervals and paper lines."""

from __future__ import annotations

import dataclasses

import pytest
from report_rows import ROWS, make_row

from tasks.reports.plots import error_bars, paper_lines, write_plots
from tasks.reports.stats import summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_write_plots_writes_valid_pngs_and_nothing_else(tmp_path):
    out = tmp_path / "plots"
    written = write_plots(summarize(ROWS), out)

    names = ["scores.png", "mix_weights.png", "coverage.png"]
    assert written == [out / name for name in names]
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 1000
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_write_plots_skips_plots_without_data(tmp_path, caplog):
    rows = [make_row("pos", "ud_english_ewt", "elmo_char", 0, 95.0, metric="accuracy")]

    with caplog.at_level("INFO", logger="tasks.reports.plots"):
        written = write_plots(summarize(rows), tmp_path)

    assert written == [tmp_path / "scores.png"]
    assert "skipping mix_weights.png" in caplog.text
    assert "skipping coverage.png" in caplog.text


def test_error_bars_are_the_t_intervals():
    cells = [
        cell for cell in summarize(ROWS).cells if cell.task == "ner"
    ]  # elmo, elmo_lstm1, glove

    bars = error_bars(cells)

    # elmo: 91 ± 2.484138 (n=3); elmo_lstm1: one seed; glove: 88.5 ± 6.353102 (n=2).
    assert bars[0] == pytest.approx([2.484138, 0.0, 6.353102])
    assert bars[1] == pytest.approx(bars[0])


def test_no_paper_line_over_capped_data_which_still_plots(tmp_path):
    rows = [
        make_row("ner", "conll2003", "elmo", 0, 90.0),
        make_row("ner", "conll2003", "glove", 0, 88.0),
    ]
    cells = summarize(rows).cells
    assert paper_lines(cells) == [("+ELMo", 92.22), ("baseline", 90.15)]

    capped = [dataclasses.replace(rows[0], capped=True, stopped_by="max_epochs"), rows[1]]
    assert paper_lines(summarize(capped).cells) == [("baseline", 90.15)]
    assert write_plots(summarize(capped), tmp_path)[0].read_bytes().startswith(PNG_MAGIC)
