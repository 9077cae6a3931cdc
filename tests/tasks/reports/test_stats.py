"""Cells and their statistics on the hand-made rows, worked out by hand."""

from __future__ import annotations

import math

import pytest
from report_rows import ROWS, SQUAD_NOTE

from tasks.reports.stats import Cell, summarize


def by_embedder(cells: list[Cell], task: str) -> dict[str, Cell]:
    return {cell.embedder: cell for cell in cells if cell.task == task}


def test_summarize_means_stds_and_seed_counts():
    summary = summarize(ROWS)
    ner = by_embedder(summary.cells, "ner")
    sentiment = by_embedder(summary.cells, "sentiment")

    assert len(summary.cells) == 8
    assert summary.n_rows == len(ROWS)
    assert ner["elmo"].test_mean == pytest.approx(91.0)
    assert ner["elmo"].test_std == pytest.approx(1.0)
    assert ner["elmo"].val_mean == pytest.approx(93.0)
    assert ner["elmo"].val_std == pytest.approx(1.0)
    assert ner["elmo"].n_seeds == 3
    assert ner["elmo"].seeds == [0, 1, 2]
    assert ner["elmo"].wall_time_s_mean == pytest.approx(20.0)
    assert ner["glove"].test_mean == pytest.approx(88.5)
    assert ner["glove"].test_std == pytest.approx(math.sqrt(0.5))
    assert ner["elmo_lstm1"].n_seeds == 1
    assert ner["elmo_lstm1"].test_std is None
    assert sentiment["elmo"].test_std == pytest.approx(math.sqrt(2.0))
    assert sentiment["glove+elmo"].test_mean == pytest.approx(54.0)


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


def test_summarize_marks_the_best_embedder_per_task():
    best = {(cell.task, cell.embedder) for cell in summarize(ROWS).cells if cell.best}

    assert best == {("ner", "elmo"), ("sentiment", "glove+elmo"), ("squad", "glove")}


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
