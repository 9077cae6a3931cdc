"""The results collector on hand-made run rows with means and stds worked out by hand."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest

from tasks.report import (
    CSV_COLUMNS,
    PAPER_CITATION,
    ReportError,
    load_rows,
    main,
    report,
    summarize,
    write_plots,
    write_summary,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SQUAD_NOTE = "SQuAD v1.1 dev split by article (seed 0): train/dev/test 38/5/5 articles"


def make_row(
    task: str,
    dataset: str,
    embedder: str,
    seed: int,
    test: float,
    val: float | None = None,
    *,
    metric: str = "f1",
    head: str = "bilstm",
    mix: list[float] | None = None,
    coverage: float | None = None,
    wall_time_s: float = 100.0,
    **extra: Any,
) -> dict[str, Any]:
    """A run row as the run writer makes it."""
    metrics = {f"test/{metric}": test, "test/precision": test + 1.0}
    if val is not None:
        metrics[f"val/{metric}"] = val
    return {
        "schema": 1,
        "task": task,
        "dataset": dataset,
        "embedder": embedder,
        "head": head,
        "seed": seed,
        "metric": metric,
        "metrics": metrics,
        "scalar_mix": None if mix is None else {"weights": mix, "gamma": 1.0 + seed},
        "coverage": None
        if coverage is None
        else {"tokens": 1000, "found": round(1000 * coverage), "share": coverage},
        "trainable_parameters": 1234,
        "wall_time_s": wall_time_s,
        "tokens_per_second": 5000.0,
        "epochs": 3,
        "git_revision": "abc123",
        "config": {"task": {"name": task}},
        "config_hash": f"{seed}abc",
        "created": "2026-11-24T22:40:00Z",
        **extra,
    }


def write_row(folder: Path, row: dict[str, Any]) -> Path:
    path = folder / "runs" / row["task"] / row["embedder"] / f"seed{row['seed']}-{row['head']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row), encoding="utf-8")
    return path


ROWS = [
    # NER: elmo 90, 91, 92 -> 91 ± 1; glove 88, 89 -> 88.5 ± sqrt(0.5); elmo_lstm1 one seed.
    make_row("ner", "conll2003", "elmo", 0, 90.0, 92.0, mix=[0.2, 0.5, 0.3], wall_time_s=10.0),
    make_row("ner", "conll2003", "elmo", 1, 91.0, 93.0, mix=[0.4, 0.3, 0.3], wall_time_s=20.0),
    make_row("ner", "conll2003", "elmo", 2, 92.0, 94.0, mix=[0.3, 0.4, 0.3], wall_time_s=30.0),
    make_row("ner", "conll2003", "glove", 0, 88.0, 90.0, coverage=0.95),
    make_row("ner", "conll2003", "glove", 1, 89.0, 91.0, coverage=0.95),
    make_row("ner", "conll2003", "elmo_lstm1", 0, 89.5, 90.5),
    # SST-5: glove+elmo 55, 53 -> 54 ± sqrt(2) is best; elmo 50, 52 -> 51 ± sqrt(2).
    make_row("sentiment", "sst5", "elmo", 0, 50.0, 49.0, metric="accuracy", mix=[0.1, 0.6, 0.3]),
    make_row("sentiment", "sst5", "elmo", 1, 52.0, 51.0, metric="accuracy", mix=[0.1, 0.6, 0.3]),
    make_row(
        "sentiment", "sst5", "glove+elmo", 0, 55.0, 50.0, metric="accuracy", mix=[0.2, 0.7, 0.1]
    ),
    make_row(
        "sentiment", "sst5", "glove+elmo", 1, 53.0, 52.0, metric="accuracy", mix=[0.2, 0.7, 0.1]
    ),
    make_row("sentiment", "sst5", "glove", 0, 45.0, 44.0, metric="accuracy", coverage=0.9),
    # SQuAD with its split note; word2vec has no paper figure.
    make_row("squad", "squad_v1.1", "glove", 0, 60.0, 61.0, coverage=0.8, note=SQUAD_NOTE),
    make_row("squad", "squad_v1.1", "word2vec", 0, 58.0, 59.0, coverage=0.7, note=SQUAD_NOTE),
]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "sweep"
    for row in ROWS:
        write_row(folder, row)
    # A prediction file next to a row: JSON, but no schema key.
    predictions = folder / "runs" / "squad" / "glove" / "seed0-bilstm.predictions.json"
    predictions.write_text(json.dumps({"q1": "Denver Broncos"}), encoding="utf-8")
    (folder / "runs" / "list.json").write_text("[1, 2]", encoding="utf-8")
    return folder


def by_embedder(summary: list[dict[str, Any]], task: str) -> dict[str, dict[str, Any]]:
    return {entry["embedder"]: entry for entry in summary if entry["task"] == task}


# ----------------------------------------------------------------------------- reading


def test_load_rows_reads_rows_and_ignores_json_without_schema(results):
    rows = load_rows(results)

    assert len(rows) == len(ROWS)
    assert all("schema" in row for row in rows)


def test_load_rows_names_the_file_and_the_missing_key(tmp_path):
    row = make_row("ner", "conll2003", "elmo", 0, 90.0)
    del row["metrics"]
    path = write_row(tmp_path, row)

    with pytest.raises(ReportError, match=rf"{path}.*'metrics'"):
        load_rows(tmp_path)


def test_load_rows_requires_the_main_test_metric(tmp_path):
    row = make_row("ner", "conll2003", "elmo", 0, 90.0)
    row["metric"] = "accuracy"
    path = write_row(tmp_path, row)

    with pytest.raises(ReportError, match=rf"{path}.*test/accuracy"):
        load_rows(tmp_path)


def test_load_rows_rejects_bad_json_types_schemas_and_repeated_seeds(tmp_path):
    bad = tmp_path / "bad" / "broken.json"
    bad.parent.mkdir()
    bad.write_text('{"schema": 1, "task": ', encoding="utf-8")
    with pytest.raises(ReportError, match=rf"{bad}: not valid JSON"):
        load_rows(bad.parent)

    wrong_type = write_row(tmp_path / "type", make_row("ner", "conll2003", "elmo", 0, 90.0))
    row = json.loads(wrong_type.read_text())
    row["seed"] = "0"
    wrong_type.write_text(json.dumps(row))
    with pytest.raises(ReportError, match=rf"{wrong_type}: key 'seed' should be int, not str"):
        load_rows(tmp_path / "type")

    schema = write_row(tmp_path / "schema", make_row("ner", "conll2003", "elmo", 0, 90.0))
    schema.write_text(json.dumps(make_row("ner", "conll2003", "elmo", 0, 90.0) | {"schema": 2}))
    with pytest.raises(ReportError, match=rf"{schema}: key 'schema' is 2"):
        load_rows(tmp_path / "schema")

    first = write_row(tmp_path / "twice" / "a", make_row("ner", "conll2003", "elmo", 0, 90.0))
    second = write_row(tmp_path / "twice" / "b", make_row("ner", "conll2003", "elmo", 0, 91.0))
    with pytest.raises(ReportError, match=rf"{second}: same .* as {first}"):
        load_rows(tmp_path / "twice")


def test_load_rows_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ReportError, match="no such folder"):
        load_rows(tmp_path / "absent")


# ----------------------------------------------------------------------------- summary


def test_summarize_means_stds_and_seed_counts(results):
    summary = summarize(load_rows(results))
    ner = by_embedder(summary, "ner")
    sentiment = by_embedder(summary, "sentiment")

    assert len(summary) == 8
    assert ner["elmo"]["test_mean"] == pytest.approx(91.0)
    assert ner["elmo"]["test_std"] == pytest.approx(1.0)
    assert ner["elmo"]["val_mean"] == pytest.approx(93.0)
    assert ner["elmo"]["val_std"] == pytest.approx(1.0)
    assert ner["elmo"]["n_seeds"] == 3
    assert ner["elmo"]["seeds"] == [0, 1, 2]
    assert ner["elmo"]["wall_time_s_mean"] == pytest.approx(20.0)
    assert ner["glove"]["test_mean"] == pytest.approx(88.5)
    assert ner["glove"]["test_std"] == pytest.approx(math.sqrt(0.5))
    assert ner["elmo_lstm1"]["n_seeds"] == 1
    assert ner["elmo_lstm1"]["test_std"] is None
    assert sentiment["elmo"]["test_std"] == pytest.approx(math.sqrt(2.0))
    assert sentiment["glove+elmo"]["test_mean"] == pytest.approx(54.0)


def test_summarize_marks_the_best_embedder_per_task(results):
    summary = summarize(load_rows(results))

    best = {(entry["task"], entry["embedder"]) for entry in summary if entry["best"]}
    assert best == {("ner", "elmo"), ("sentiment", "glove+elmo"), ("squad", "glove")}


def test_summarize_puts_the_paper_figures_beside_the_matching_embedders(results):
    summary = summarize(load_rows(results))
    reference = {
        (entry["task"], entry["embedder"]): (entry["paper_setting"], entry["paper_value"])
        for entry in summary
    }

    assert reference[("ner", "elmo")] == ("+ELMo", 92.22)
    assert reference[("ner", "glove")] == ("baseline", 90.15)
    assert reference[("ner", "elmo_lstm1")] == (None, None)
    assert reference[("sentiment", "glove+elmo")] == ("+ELMo", 54.7)
    assert reference[("sentiment", "elmo")] == ("+ELMo", 54.7)
    assert reference[("sentiment", "glove")] == ("baseline", 51.4)
    assert reference[("squad", "glove")] == ("baseline", 81.1)
    assert reference[("squad", "word2vec")] == (None, None)


def test_summarize_averages_mix_weights_and_coverage(results):
    summary = summarize(load_rows(results))
    ner = by_embedder(summary, "ner")

    assert ner["elmo"]["mix_weights"] == pytest.approx([0.3, 0.4, 0.3])
    assert ner["elmo"]["mix_gamma"] == pytest.approx(2.0)
    assert ner["glove"]["mix_weights"] is None
    assert ner["glove"]["coverage_share"] == pytest.approx(0.95)
    assert ner["elmo"]["coverage_share"] is None
    assert by_embedder(summary, "squad")["glove"]["notes"] == [SQUAD_NOTE]


# ----------------------------------------------------------------------------- outputs


def test_write_summary_markdown_table(results, tmp_path):
    path = write_summary(load_rows(results), tmp_path / "out")
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


def test_summary_starts_with_a_task_by_embedder_overview(results, tmp_path):
    text = write_summary(load_rows(results), tmp_path).read_text(encoding="utf-8")
    overview = text.split("## At a glance", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in overview.splitlines() if line.startswith("| task"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    ner = next(line for line in overview.splitlines() if line.startswith("| ner"))
    cells = dict(zip(columns, (cell.strip() for cell in ner.strip("|").split("|")), strict=True))
    assert cells["elmo"] == "**91.00 ± 1.00 (3)**"
    assert cells["glove"] == "88.50 ± 0.71 (2)"
    assert cells["elmo_lstm1"] == "89.50 (1)"


def test_write_summary_csv_columns(results, tmp_path):
    write_summary(load_rows(results), tmp_path)
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


def test_write_plots_writes_valid_pngs_and_nothing_else(results, tmp_path):
    out = tmp_path / "plots"
    written = write_plots(load_rows(results), out)

    names = ["scores.png", "mix_weights.png", "coverage.png"]
    assert written == [out / name for name in names]
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 1000
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_write_plots_skips_plots_without_data(tmp_path, caplog):
    rows = [make_row("pos", "ud_english_ewt", "elmo_char", 0, 95.0, metric="accuracy")]

    with caplog.at_level("INFO", logger="tasks.report"):
        written = write_plots(rows, tmp_path)

    assert written == [tmp_path / "scores.png"]
    assert "skipping mix_weights.png" in caplog.text
    assert "skipping coverage.png" in caplog.text


def test_report_writes_everything_into_the_results_folder_by_default(results):
    assert report(results) == results / "summary.md"
    for name in ["summary.md", "summary.csv", "scores.png", "mix_weights.png", "coverage.png"]:
        assert (results / name).stat().st_size > 0


# ----------------------------------------------------------------------------- command line


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
        row = make_row("ner", "conll2003", "elmo", 0, 90.0)
        del row["metrics"]
        write_row(folder, row)

    assert main([str(folder)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    error_lines = [line for line in captured.err.splitlines() if line.startswith("elmo-report:")]
    assert len(error_lines) == 1
    assert str(folder) in error_lines[0]
    assert "Traceback" not in captured.err
