"""``summary.md`` and ``summary.csv`` from the hand-made rows."""

from __future__ import annotations

import csv
import dataclasses

import pytest
from report_rows import ROWS, SQUAD_NOTE, make_row

from tasks.reports.paper import PAPER_CITATION
from tasks.reports.stats import summarize
from tasks.reports.tables import COMPARISON_COLUMNS, CSV_COLUMNS, render_markdown, write_summary


def section(text: str, title: str) -> str:
    return text.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


def table_line(text: str, start: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(start))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_write_summary_markdown_table(tmp_path):
    path = write_summary(summarize(ROWS), tmp_path / "out")
    text = path.read_text(encoding="utf-8")

    assert path == tmp_path / "out" / "summary.md"
    assert f"{len(ROWS)} run rows in 8 groups" in text
    # Every hand-made row takes 100 s but the three NER elmo ones (10, 20, 30 s); none
    # records its threads.
    hours = (100 * (len(ROWS) - 3) + 60) / 3600
    assert f"Compute: {hours:.1f} h of run time (the rows' wall times summed); 0.0 CPU" in text
    assert f"{len(ROWS)} rows without a recorded `threads`" in text
    assert SQUAD_NOTE in text
    assert PAPER_CITATION in text
    assert "Holm-adjusted p < 0.05" in text and "Welch's t-test over seed scores" in text
    ner = section(text, "ner (conll2003): f1")
    assert (
        "| elmo ≈ | bilstm | 91.00 ± 1.00 (n=3) | [88.52, 93.48] | 93.00 ± 1.00 | 92.22 (+ELMo) "
        "| — | early_stopping 3 | 20 |"
    ) in ner
    assert (
        "| glove | bilstm | 88.50 ± 0.71 (n=2) | [82.15, 94.85] | 90.50 ± 0.71 | 90.15 (baseline) "
        "| 95.00% | early_stopping 2 | 100 |"
    ) in ner
    assert (
        "| elmo_lstm1 ≈ | bilstm | 89.50 (n=1) | — | 90.50 | — | — | early_stopping 1 | 100 |"
        in ner
    )
    assert text.count("\n## ") == 4  # at a glance + one per task


def test_detailed_sections_list_every_metric_and_the_comparisons_with_p_values(tmp_path):
    ner = section(render_markdown(summarize(ROWS)), "ner (conll2003): f1")

    assert table_line(ner, "| test/precision") == [
        "test/precision",
        "92.00 ± 1.00",
        "90.50",
        "89.50 ± 0.71",
    ]
    # Welch by hand: d = 2.5, se = sqrt(1/3 + 0.5/2), t = 3.273, df = 2.88 -> p = 0.0494;
    # the only tested comparison of the task, so Holm leaves it.
    assert table_line(ner, "| elmo | glove") == [
        "elmo",
        "glove",
        "vs the GloVe baseline",
        "+2.50 [0.01, 4.99]",
        "Welch t-test over seeds",
        "0.0494",
        "0.0494 *",
    ]
    assert table_line(ner, "| elmo_lstm1 | elmo")[3:] == [
        "-1.50",
        "no test: a side has one seed and no per-example scores",
        "—",
        "—",
    ]


def test_summary_starts_with_a_task_by_embedder_overview(tmp_path):
    text = write_summary(summarize(ROWS), tmp_path).read_text(encoding="utf-8")
    overview = section(text, "At a glance")
    columns = table_line(overview, "| task")
    cells = dict(zip(columns, table_line(overview, "| ner"), strict=True))

    assert cells["elmo"] == "91.00 ± 1.00 (3) ≈"
    assert cells["glove"] == "88.50 ± 0.71 (2)"
    assert cells["elmo_lstm1"] == "89.50 (1) ≈"


def test_hit_cap_and_capped_cells_are_marked_and_a_significant_best_is_bold():
    rows = [
        make_row("pos", "ewt", "elmo", seed, 95.0 + 0.1 * seed, metric="accuracy")
        for seed in range(3)
    ]
    rows += [
        make_row("pos", "ewt", "glove", seed, 90.0 + 0.1 * seed, metric="accuracy")
        for seed in range(3)
    ]
    rows += [
        dataclasses.replace(
            make_row("pos", "ewt", "random", seed, 80.0, metric="accuracy"),
            stopped_by="max_time" if seed else "early_stopping",
            capped=True,
        )
        for seed in range(2)
    ]

    overview = section(render_markdown(summarize(rows)), "At a glance")

    assert table_line(overview, "| pos") == [
        "pos (ewt, accuracy)",
        "bilstm",
        "**95.10 ± 0.10 (3)**",
        "90.10 ± 0.10 (3)",
        "80.00 ± 0.00 (2) † (capped)",
    ]
    detail = section(render_markdown(summarize(rows)), "pos (ewt): accuracy")
    assert table_line(detail, "| random")[0] == "random † (capped)"
    assert table_line(detail, "| random")[7] == "early_stopping 1, max_time 1"


def test_write_summary_csv_columns(tmp_path):
    write_summary(summarize(ROWS), tmp_path)
    with open(tmp_path / "summary.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        lines = list(reader)

    metric_columns = [
        f"{key}_{part}"
        for key in ("test/accuracy", "test/f1", "test/precision", "val/accuracy", "val/f1")
        for part in ("mean", "std")
    ]
    comparison_columns = [
        f"vs_{b}_{part}" for b in ("elmo", "glove") for part in COMPARISON_COLUMNS
    ]
    assert reader.fieldnames == [*CSV_COLUMNS, *metric_columns, *comparison_columns]
    assert len(lines) == 8
    elmo = next(line for line in lines if line["task"] == "ner" and line["embedder"] == "elmo")
    assert float(elmo["test_mean"]) == pytest.approx(91.0)
    assert float(elmo["test_std"]) == pytest.approx(1.0)
    assert float(elmo["test_ci_low"]) == pytest.approx(88.515862)
    assert elmo["n_seeds"] == "3"
    assert elmo["seeds"] == "0;1;2"
    assert (elmo["best"], elmo["tied_best"], elmo["hit_cap"]) == ("false", "true", "0")
    assert elmo["stopped_by"] == "early_stopping:3"
    assert elmo["paper_setting"] == "+ELMo"
    assert float(elmo["paper_value"]) == 92.22
    assert [float(w) for w in elmo["mix_weights"].split(";")] == pytest.approx([0.3, 0.4, 0.3])
    assert elmo["coverage_share"] == ""
    assert float(elmo["test/precision_mean"]) == pytest.approx(92.0)
    assert elmo["test/accuracy_mean"] == ""
    assert float(elmo["vs_glove_p"]) == pytest.approx(0.0494, abs=1e-4)
    assert elmo["vs_glove_p_holm"] == elmo["vs_glove_p"]
    assert elmo["vs_glove_test"] == "Welch t-test over seeds"
    assert elmo["vs_elmo_p"] == ""
    lstm1 = next(line for line in lines if line["embedder"] == "elmo_lstm1")
    assert lstm1["test_std"] == "" and lstm1["test_ci_low"] == ""
    assert float(lstm1["vs_elmo_difference"]) == pytest.approx(-1.5)
    assert lstm1["vs_elmo_p"] == ""
