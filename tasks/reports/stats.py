"""Grouping run rows into cells and the statistics of each cell.

Rows are grouped by (task, dataset, embedder, head): a cell. A cell's score is the mean and
the sample standard deviation (n - 1; none for one seed) over seeds of
``metrics["test/<metric>"]``, likewise for ``val/<metric>``; scores are percentages. Every
main metric here (F1, accuracy, EM) is higher-is-better, so the best cell of a
(task, dataset) is the one with the highest mean test score (ties are all marked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean, stdev
from typing import Any

from tasks.reports.paper import paper_reference
from tasks.reports.rows import ResultRow

GROUP_KEY = ("task", "dataset", "embedder", "head")
# Table and plot order; embedders not listed follow in alphabetical order.
EMBEDDER_ORDER = (
    "elmo",
    "glove+elmo",
    "elmo_char",
    "elmo_lstm1",
    "elmo_lstm2",
    "elmo_average",
    "glove",
    "word2vec",
    "fasttext",
    "random",
)


@dataclass
class Cell:
    """The runs of one (task, dataset, embedder, head) over seeds, summarised.

    ``test_std`` / ``val_std`` are None for a single seed; ``mix_weights`` is the list of
    mean softmax-normalised weights (None for one-layer embedders); ``best`` is True for
    the highest mean test score of its (task, dataset).
    """

    task: str
    dataset: str
    embedder: str
    head: str
    metric: str
    n_seeds: int
    seeds: list[int]
    test_mean: float
    test_std: float | None
    val_mean: float | None
    val_std: float | None
    wall_time_s_mean: float
    coverage_share: float | None
    mix_weights: list[float] | None
    mix_gamma: float | None
    paper_setting: str | None
    paper_value: float | None
    notes: list[str] = field(default_factory=list)
    best: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        """(task, dataset, embedder, head)."""
        return tuple(getattr(self, key) for key in GROUP_KEY)


@dataclass
class Summary:
    """Every cell of a results folder, ordered by task, dataset, embedder and head."""

    cells: list[Cell]
    n_rows: int

    def by_task(self) -> list[tuple[tuple[str, str], list[Cell]]]:
        """The cells split by (task, dataset), in the summary's order."""
        tasks: dict[tuple[str, str], list[Cell]] = {}
        for cell in self.cells:
            tasks.setdefault((cell.task, cell.dataset), []).append(cell)
        return list(tasks.items())


def summarize(rows: Sequence[ResultRow]) -> Summary:
    """Group ``rows`` into cells, summarise each and mark the best cell of each task."""
    groups: dict[tuple[Any, ...], list[ResultRow]] = {}
    for row in rows:
        groups.setdefault(tuple(getattr(row, key) for key in GROUP_KEY), []).append(row)
    summary = Summary(
        sorted((_summarize_cell(members) for members in groups.values()), key=_order), len(rows)
    )
    for _, cells in summary.by_task():
        top = max(cell.test_mean for cell in cells)
        for cell in cells:
            cell.best = cell.test_mean == top
    return summary


def _summarize_cell(members: list[ResultRow]) -> Cell:
    first = members[0]
    metric = first.metric
    tests = [row.metrics[f"test/{metric}"] for row in members]
    vals = [row.metrics[f"val/{metric}"] for row in members if f"val/{metric}" in row.metrics]
    mixes = [row.scalar_mix for row in members if row.scalar_mix is not None]
    shares = [row.coverage["share"] for row in members if row.coverage is not None]
    setting, value = paper_reference(first.dataset, metric, first.embedder)
    return Cell(
        task=first.task,
        dataset=first.dataset,
        embedder=first.embedder,
        head=first.head,
        metric=metric,
        n_seeds=len(members),
        seeds=sorted(row.seed for row in members),
        test_mean=fmean(tests),
        test_std=_sample_std(tests),
        val_mean=fmean(vals) if vals else None,
        val_std=_sample_std(vals),
        wall_time_s_mean=fmean(row.wall_time_s for row in members),
        coverage_share=fmean(shares) if shares else None,
        mix_weights=(
            [fmean(layer) for layer in zip(*(mix["weights"] for mix in mixes), strict=True)]
            if mixes
            else None
        ),
        mix_gamma=fmean(mix["gamma"] for mix in mixes) if mixes else None,
        paper_setting=setting,
        paper_value=value,
        notes=sorted({row.note for row in members if row.note}),
    )


def _sample_std(values: list[float]) -> float | None:
    return stdev(values) if len(values) > 1 else None


def embedder_rank(embedder: str) -> tuple[int, str]:
    """Sort key putting embedders in :data:`EMBEDDER_ORDER`, unknown ones after, by name."""
    if embedder in EMBEDDER_ORDER:
        return EMBEDDER_ORDER.index(embedder), ""
    return len(EMBEDDER_ORDER), embedder


def _order(cell: Cell) -> tuple[Any, ...]:
    return cell.task, cell.dataset, embedder_rank(cell.embedder), cell.head
