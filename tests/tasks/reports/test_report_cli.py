"""The ``elmo-report`` command and :func:`report` on a results folder."""

from __future__ import annotations

import pytest
from report_rows import make_row, scored_row, write_row, write_scored

from tasks.reports.cli import main, report
from tasks.reports.significance import PAIRED_BOOTSTRAP


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


def test_compare_prints_one_contrast_per_task_and_writes_nothing(results, capsys):
    assert main([str(results), "--compare", "elmo", "glove"]) == 0

    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "ner (conll2003, test f1, bilstm):",
        "  elmo: 91.00 [88.52, 93.48] (n=3)",
        "  glove: 88.50 [82.15, 94.85] (n=2)",
        "  elmo − glove = +2.50 [0.01, 4.99], p = 0.0494 (Welch t-test over seeds)",
        "sentiment (sst5, test accuracy, bilstm):",
        "  elmo: 51.00 [38.29, 63.71] (n=2)",
        "  glove: 45.00 (n=1)",
        "  elmo − glove = +6.00 (no test: a side has one seed and no per-example scores)",
    ]
    assert not (results / "summary.md").exists()


def test_compare_with_per_example_scores_uses_the_bootstrap(tmp_path, capsys):
    for embedder, num in (("elmo", [1.0, 1.0, 1.0, 0.0]), ("glove", [1.0, 0.0, 1.0, 0.0])):
        write_scored(tmp_path, *scored_row(embedder, 0, num, [1.0] * 4))

    assert main([str(tmp_path), "--compare", "elmo", "glove"]) == 0

    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("  elmo − glove = +25.00 [")
    assert last.endswith(f"({PAIRED_BOOTSTRAP})")


def test_compare_without_a_shared_task_exits_2(results, capsys):
    assert main([str(results), "--compare", "elmo", "fasttext"]) == 2

    err = capsys.readouterr().err
    assert err.strip().endswith("no task has runs of both 'elmo' and 'fasttext'")
