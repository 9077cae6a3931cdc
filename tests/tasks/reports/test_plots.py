"""The plots: valid PNG files, and plots without data skipped."""

from __future__ import annotations

from report_rows import ROWS, make_row

from tasks.reports.plots import write_plots
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
