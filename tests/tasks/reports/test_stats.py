"""Cells and their statistics on the hand-made rows, worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from report_rows import ROWS, SQUAD_NOTE, make_row, scored_row, write_scored

from tasks.reports.rows import Results, load_results
from tasks.reports.significance import PAIRED_BOOTSTRAP, WELCH, holm
from tasks.reports.stats import BEST_VS_RUNNER_UP, Cell, Compute, contrast, summarize


def by_embedder(cells: list[Cell], task: str) -> dict[str, Cell]:
    return {cell.embedder: cell for cell in cells if cell.task == task}


def test_summarize_means_stds_and_seed_counts():
    summary = summarize(ROWS)
    ner = by_embedder(summary.cells, "ner")
    sentiment = by_embedder(summary.cells, "sentiment")

    assert len(summary.cells) == 8
    assert summary.n_rows == len(ROWS)
    assert ner["elmo"].test.mean == pytest.approx(91.0)
    assert ner["elmo"].test.std == pytest.approx(1.0)
    assert ner["elmo"].val.mean == pytest.approx(93.0)
    assert ner["elmo"].val.std == pytest.approx(1.0)
    assert ner["elmo"].n_seeds == 3
    assert ner["elmo"].seeds == [0, 1, 2]
    assert ner["elmo"].wall_time_s_mean == pytest.approx(20.0)
    assert ner["glove"].test.mean == pytest.approx(88.5)
    assert ner["glove"].test.std == pytest.approx(math.sqrt(0.5))
    assert ner["elmo_lstm1"].n_seeds == 1
    assert ner["elmo_lstm1"].test.std is None
    assert sentiment["elmo"].test.std == pytest.approx(math.sqrt(2.0))
    assert sentiment["glove+elmo"].test.mean == pytest.approx(54.0)


def test_summarize_orders_cells_by_task_then_embedder():
    order = [(cell.task, cell.embedder) for cell in summarize(ROWS[::-1]).cells]

    assert order == [
        ("ner", "elmo"),
        ("ner", "elmo_lstm1"),
        ("ner", "glove"),
        ("sentiment", "elmo"),
        ("sentiment", "glove+elmo"),
        ("sentiment", "glove"),
        ("squad", "glove"),
        ("squad", "word2vec"),
    ]


def test_without_a_significant_win_the_top_two_are_tied():
    # Each task's top two: a side with one seed, or p = 0.17 (sentiment, Welch 2 vs 2 seeds).
    cells = summarize(ROWS).cells

    assert not any(cell.best for cell in cells)
    tied = {(cell.task, cell.embedder) for cell in cells if cell.tied_best}
    assert tied == {
        ("ner", "elmo"),
        ("ner", "elmo_lstm1"),
        ("sentiment", "glove+elmo"),
        ("sentiment", "elmo"),
        ("squad", "glove"),
        ("squad", "word2vec"),
    }


def test_summarize_puts_the_paper_figures_beside_the_matching_embedders():
    reference = {
        (cell.task, cell.embedder): (cell.paper_setting, cell.paper_value)
        for cell in summarize(ROWS).cells
    }

    assert reference[("ner", "elmo")] == ("+ELMo", 92.22)
    assert reference[("ner", "glove")] == ("baseline", 90.15)
    assert reference[("ner", "elmo_lstm1")] == (None, None)
    assert reference[("sentiment", "glove+elmo")] == ("+ELMo", 54.7)
    assert reference[("sentiment", "elmo")] == ("+ELMo", 54.7)
    assert reference[("sentiment", "glove")] == ("baseline", 51.4)
    assert reference[("squad", "glove")] == ("baseline", 81.1)
    assert reference[("squad", "word2vec")] == (None, None)


def test_summarize_averages_mix_weights_and_coverage():
    cells = summarize(ROWS).cells
    ner = by_embedder(cells, "ner")

    assert ner["elmo"].mix_weights == pytest.approx([0.3, 0.4, 0.3])
    assert ner["elmo"].mix_gamma == pytest.approx(2.0)
    assert ner["glove"].mix_weights is None
    assert ner["glove"].coverage_share == pytest.approx(0.95)
    assert ner["elmo"].coverage_share is None
    assert by_embedder(cells, "squad")["glove"].notes == [SQUAD_NOTE]


def test_every_metric_a_row_reports_reaches_its_cell():
    ner = by_embedder(summarize(ROWS).cells, "ner")

    assert set(ner["elmo"].metrics) == {"test/f1", "test/precision", "val/f1"}
    assert ner["elmo"].metrics["test/precision"].mean == pytest.approx(92.0)
    assert ner["elmo"].test.ci == pytest.approx((88.515862, 93.484138))


# Share of correct examples (den 1) per embedder; 300 test examples, two seeds each.
ACCURACY = {
    "glove+elmo": 0.95,
    "elmo": 0.8,
    "elmo_lstm1": 0.78,
    "glove": 0.75,
    "fasttext": 0.7,
    "word2vec": 0.65,
}


def write_scored_sweep(folder: Path, accuracy: dict[str, float], **extra) -> Results:
    rng = np.random.default_rng(0)
    for embedder, share in accuracy.items():
        for seed in (0, 1):
            num = (rng.random(300) < share).astype(float).tolist()
            write_scored(
                folder, *scored_row(embedder, seed, num, [1.0] * 300, **extra.get(embedder, {}))
            )
    return load_results(folder)


def test_comparisons_follow_the_rules_and_holm_covers_the_task(tmp_path):
    results = write_scored_sweep(tmp_path, ACCURACY)

    summary = summarize(results.rows, results.example_scores)

    planned = {(c.a.embedder, c.b.embedder, c.why) for c in summary.comparisons}
    assert planned == {
        ("elmo", "glove", "vs the GloVe baseline"),
        ("glove+elmo", "glove", "vs the GloVe baseline"),
        ("elmo_lstm1", "glove", "vs the GloVe baseline"),
        ("word2vec", "glove", "vs the GloVe baseline"),
        ("fasttext", "glove", "vs the GloVe baseline"),
        ("elmo", "word2vec", "ELMo vs a static embedder"),
        ("elmo", "fasttext", "ELMo vs a static embedder"),
        ("elmo_lstm1", "elmo", "layer vs the learned mix"),
        ("glove+elmo", "elmo", BEST_VS_RUNNER_UP),
    }
    assert {c.result.test for c in summary.comparisons} == {PAIRED_BOOTSTRAP}
    raw = [c.result.p for c in summary.comparisons]
    assert [c.p_holm for c in summary.comparisons] == pytest.approx(holm(raw))
    best = [cell.embedder for cell in summary.cells if cell.best]
    assert best == ["glove+elmo"]
    assert not any(cell.tied_best for cell in summary.cells)


def test_only_comparisons_whose_both_sides_exist(tmp_path):
    results = write_scored_sweep(tmp_path, {"elmo": 0.8, "elmo_char": 0.7, "word2vec": 0.6})

    summary = summarize(results.rows, results.example_scores)

    planned = {(c.a.embedder, c.b.embedder, c.why) for c in summary.comparisons}
    assert planned == {
        ("elmo", "word2vec", "ELMo vs a static embedder"),
        ("elmo_char", "elmo", "layer vs the learned mix"),
    }


def test_layer_ablation_tests_the_papers_layer_contrasts(tmp_path):
    accuracy = {
        "elmo": 0.85,
        "elmo_average": 0.8,
        "elmo_lstm1": 0.7,
        "elmo_lstm2": 0.65,
        "elmo_char": 0.6,
    }
    results = write_scored_sweep(tmp_path, accuracy)

    summary = summarize(results.rows, results.example_scores)

    planned = {(c.a.embedder, c.b.embedder, c.why) for c in summary.comparisons}
    assert planned == {
        ("elmo_char", "elmo", "layer vs the learned mix"),
        ("elmo_lstm1", "elmo", "layer vs the learned mix"),
        ("elmo_lstm2", "elmo", "layer vs the learned mix"),
        ("elmo_average", "elmo", "layer vs the learned mix"),
        ("elmo_average", "elmo_lstm2", "the average vs the top layer"),
        ("elmo_lstm1", "elmo_lstm2", "biLSTM 1 vs biLSTM 2"),
    }
    raw = [c.result.p for c in summary.comparisons]
    assert [c.p_holm for c in summary.comparisons] == pytest.approx(holm(raw))


def test_cells_without_per_example_scores_fall_back_to_welch(tmp_path):
    results = write_scored_sweep(tmp_path, {"elmo": 0.8, "glove": 0.75})
    rows = results.rows + [make_row("ner", "conll2003", "word2vec", s, 70.0 + s) for s in (0, 1)]

    comparisons = summarize(rows, results.example_scores).comparisons

    tests = {(c.a.embedder, c.b.embedder): c.result.test for c in comparisons}
    assert tests[("elmo", "glove")] == PAIRED_BOOTSTRAP
    assert tests[("word2vec", "glove")] == WELCH
    assert tests[("elmo", "word2vec")] == WELCH


def test_a_cell_that_hit_its_cap_is_flagged_and_never_best(tmp_path):
    capped_run = {"stopped_by": "max_epochs", "capped": True}
    results = write_scored_sweep(tmp_path, ACCURACY, **{"glove+elmo": capped_run})

    cells = by_embedder(summarize(results.rows, results.example_scores).cells, "ner")

    assert cells["glove+elmo"].hit_cap == 2
    assert cells["glove+elmo"].stopped_by == {"max_epochs": 2}
    assert cells["glove+elmo"].capped and not cells["elmo"].capped
    assert not any(cell.best or cell.tied_best for cell in cells.values())


def test_contrast_compares_two_embedders_wherever_both_exist(tmp_path):
    results = write_scored_sweep(tmp_path, {"elmo": 0.8, "glove": 0.75})
    cells = summarize(results.rows, results.example_scores).cells

    (comparison,) = contrast(cells, "glove", "elmo")

    assert (comparison.a.embedder, comparison.b.embedder) == ("glove", "elmo")
    assert comparison.result.difference == pytest.approx(cells[1].test.mean - cells[0].test.mean)
    assert comparison.p_holm is None
    assert contrast(cells, "glove", "fasttext") == []


def test_compute_sums_wall_times_and_counts_threads_and_devices():
    cpu = {"accelerator": "cpu", "devices": 1, "num_nodes": 1}
    gpu = {"accelerator": "gpu", "devices": 2, "num_nodes": 1}
    runs = [  # (wall time, config): 1 h x 1 thread, 0.5 h x 2 threads, 2 h x 2 GPUs, unknown
        (3600.0, {"threads": 1, "trainer": cpu}),
        (1800.0, {"threads": 2, "trainer": cpu}),
        (7200.0, {"threads": 4, "trainer": gpu}),
        (360.0, {"task": {"name": "ner"}}),
    ]
    rows = [
        make_row("ner", "conll2003", "elmo", seed, 90.0, wall_time_s=wall, config=config)
        for seed, (wall, config) in enumerate(runs)
    ]

    compute = summarize(rows).compute

    assert compute == Compute(
        run_hours=pytest.approx(3.6), cpu_hours=2.0, device_hours=4.0, unknown=1
    )
