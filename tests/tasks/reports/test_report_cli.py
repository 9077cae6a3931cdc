"""The ``elmo-report`` command and :func:`report` on a results folder."""

from __future__ import annotations

import pytest
from report_rows import make_row, write_row

from tasks.reports.cli import main, report


def test_report_writes_everything_into_the_results_folder_by_default(results):
    assert report(results) == results / "summary.md"
    for name in ["summary.md", "summary.csv", "scores.png", "mix_weights.png", "coverage.png"]:
        assert (results / name).stat().st_size > 0


def test_main_prints_the_table_and_writes_to_out(results, tmp_path, capsys):
    out = tmp_path / "report"

    assert main([str(results), "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    assert printed == (out / "summary.md").read_text(encoding="utf-8")
    assert "## ner (conll2003): f1" in printed
    assert (out / "scores.png").is_file()
    assert not (results / "summary.md").exists()


@pytest.mark.parametrize("case", ["missing", "empty", "bad row"])
def test_main_exits_2_with_one_line_on_stderr(tmp_path, capsys, case):
    folder = tmp_path / "results"
    if case != "missing":
        folder.mkdir()
        (folder / "x.predictions.json").write_text("{}", encoding="utf-8")
    if case == "bad row":
        row = make_row("ner", "conll2003", "elmo", 0, 90.0).to_dict()
        del row["metrics"]
        write_row(folder, row)

    assert main([str(folder)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    error_lines = [line for line in captured.err.splitlines() if line.startswith("elmo-report:")]
    assert len(error_lines) == 1
    assert str(folder) in error_lines[0]
    assert "Traceback" not in captured.err
