"""Grouping run rows into cells, each cell's statistics, and the comparisons between cells.

Rows are grouped by (task, dataset, embedder, head): a cell. For every metric its rows
report (``metrics``: ``test/f1``, ``val/f1``, ``test/precision``, ...) a cell has the mean,
the sample standard deviation (n - 1; none for one seed), n and the 95% Student-t
interval of the mean over seeds. The primary metric is the rows' ``metric``; every one
here (F1, accuracy, EM) is higher-is-better.

Comparisons, within each (task, dataset) and head, where both cells exist: every embedder
vs ``glove``; ``elmo`` vs ``word2vec`` and vs ``fasttext``; each layer variant
(:data:`ELMO_LAYER_VARIANTS`) vs the learned mix ``elmo``; the fixed average
``elmo_average`` and the first biLSTM layer ``elmo_lstm1`` vs the top layer ``elmo_lstm2``;
and the best cell vs the runner-up. Each is tested on the primary test metric
(:mod:`tasks.reports.significance`): the paired bootstrap over test examples and seeds
when both cells have per-example scores for every seed on the same examples, else Welch's
t-test over seed scores. Holm-Bonferroni adjusts the p-values of a (task, dataset).

The best cell of a (task, dataset) is the one with the highest mean test score, marked
``best`` when it is significantly better than the runner-up (adjusted p < 0.05); otherwise
both are marked ``tied_best``. A cell any of whose runs stopped at its cap
(``stopped_by`` max_epochs or max_time) is never marked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean, stdev
from typing import Any

import numpy as np

from tasks.reports.paper import paper_reference
from tasks.reports.rows import ExampleScores, ResultRow
from tasks.reports.significance import (
    ALPHA,
    TestResult,
    holm,
    paired_bootstrap,
    t_interval,
    welch_test,
)

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
ELMO_LAYER_VARIANTS = ("elmo_char", "elmo_lstm1", "elmo_lstm2", "elmo_average")
# (reference B, the embedders A compared with it (None: every other one), why).
COMPARISON_RULES: tuple[tuple[str, tuple[str, ...] | None, str], ...] = (
    ("glove", None, "vs the GloVe baseline"),
    ("word2vec", ("elmo",), "ELMo vs a static embedder"),
    ("fasttext", ("elmo",), "ELMo vs a static embedder"),
    ("elmo", ELMO_LAYER_VARIANTS, "layer vs the learned mix"),
    # Peters et al. (2018): Table 2 (all layers averaged vs the top one) and Table 6
    # (the first biLSTM layer vs the second).
    ("elmo_lstm2", ("elmo_average",), "the average vs the top layer"),
    ("elmo_lstm2", ("elmo_lstm1",), "biLSTM 1 vs biLSTM 2"),
)
BEST_VS_RUNNER_UP = "best vs runner-up"
HIT_CAP = ("max_epochs", "max_time")


@dataclass(frozen=True)
class MetricStats:
    """One metric of a cell over its seeds: n, mean, sample std and 95% t interval."""

    n: int
    mean: float
    std: float | None  # None for one seed
    ci: tuple[float, float] | None  # None for one seed

    @classmethod
    def of(cls, values: Sequence[float]) -> MetricStats:
        """The statistics of ``values`` (one per seed)."""
        return cls(
            len(values),
            fmean(values),
            stdev(values) if len(values) > 1 else None,
            t_interval(values),
        )


@dataclass
class Cell:
    """The runs of one (task, dataset, embedder, head) over seeds, summarised.

    ``metrics`` holds every metric any of its rows reports. ``hit_cap`` counts the runs
    stopped by their cap (max_epochs, max_time); ``capped`` is True when a run's data was
    capped (``task.max_samples``). ``example_scores`` stacks the per-example numerators and
    denominators of the primary metric, (seeds, examples) each, when every seed has them.
    """

    task: str
    dataset: str
    embedder: str
    head: str
    metric: str
    seeds: list[int]
    metrics: dict[str, MetricStats]
    test_scores: list[float]  # the primary test metric, in ``seeds`` order
    wall_time_s_mean: float
    stopped_by: dict[str, int]  # how many runs stopped how ("unknown" for old rows)
    hit_cap: int
    capped: bool
    coverage_share: float | None
    mix_weights: list[float] | None
    mix_gamma: float | None
    paper_setting: str | None
    paper_value: float | None
    notes: list[str] = field(default_factory=list)
    example_scores: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    best: bool = False
    tied_best: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        """(task, dataset, embedder, head)."""
        return tuple(getattr(self, key) for key in GROUP_KEY)

    @property
    def n_seeds(self) -> int:
        """How many runs (seeds) the cell holds."""
        return len(self.seeds)

    @property
    def test(self) -> MetricStats:
        """The primary test metric."""
        return self.metrics[f"test/{self.metric}"]

    @property
    def val(self) -> MetricStats | None:
        """The primary validation metric, if the rows report it."""
        return self.metrics.get(f"val/{self.metric}")


@dataclass
class Comparison:
    """Cell ``a`` against cell ``b`` on the primary test metric; ``difference`` is a - b."""

    a: Cell
    b: Cell
    why: str
    result: TestResult
    p_holm: float | None = None

    @property
    def significant(self) -> bool:
        """Holm-adjusted p below :data:`~tasks.reports.significance.ALPHA`."""
        return self.p_holm is not None and self.p_holm < ALPHA


@dataclass(frozen=True)
class Compute:
    """What the rows cost: their wall times summed, and the core-hours behind them.

    A CPU run's core-hours are its wall time times its ``threads``; a run on an
    accelerator counts device-hours (wall time times devices times nodes) instead. Rows
    whose config does not say (old rows) count in ``run_hours`` only, and in ``unknown``.
    """

    run_hours: float
    cpu_hours: float
    device_hours: float
    unknown: int

    @classmethod
    def of(cls, rows: Sequence[ResultRow]) -> Compute:
        cpu = device = 0.0
        unknown = 0
        for row in rows:
            config = row.config or {}
            trainer = config.get("trainer") or {}
            hours = row.wall_time_s / 3600
            if trainer.get("accelerator", "cpu") != "cpu":
                device += hours * int(trainer.get("devices", 1)) * int(trainer.get("num_nodes", 1))
            elif isinstance(config.get("threads"), int) and config["threads"] > 0:
                cpu += hours * config["threads"]
            else:
                unknown += 1
        return cls(sum(row.wall_time_s for row in rows) / 3600, cpu, device, unknown)


@dataclass
class Summary:
    """Every cell of a results folder, ordered by task, dataset, embedder and head."""

    cells: list[Cell]
    n_rows: int
    comparisons: list[Comparison] = field(default_factory=list)
    compute: Compute | None = None

    def by_task(self) -> list[tuple[tuple[str, str], list[Cell]]]:
        """The cells split by (task, dataset), in the summary's order."""
        tasks: dict[tuple[str, str], list[Cell]] = {}
        for cell in self.cells:
            tasks.setdefault((cell.task, cell.dataset), []).append(cell)
        return list(tasks.items())

    def comparisons_of(self, task: str, dataset: str) -> list[Comparison]:
        """The comparisons of one (task, dataset), in the order they were planned."""
        return [c for c in self.comparisons if (c.a.task, c.a.dataset) == (task, dataset)]


def build_cells(
    rows: Sequence[ResultRow], example_scores: dict[tuple[Any, ...], ExampleScores] | None = None
) -> list[Cell]:
    """Group ``rows`` into cells, ordered by task, dataset, embedder and head.

    Args:
        rows: run rows.
        example_scores: per-example scores by run key (:attr:`ResultRow.run_key`), for the
            rows that have them.
    """
    groups: dict[tuple[Any, ...], list[ResultRow]] = {}
    for row in rows:
        groups.setdefault(tuple(getattr(row, key) for key in GROUP_KEY), []).append(row)
    return sorted((_cell(members, example_scores or {}) for members in groups.values()), key=_order)


def summarize(
    rows: Sequence[ResultRow], example_scores: dict[tuple[Any, ...], ExampleScores] | None = None
) -> Summary:
    """The cells of ``rows`` (:func:`build_cells`), compared, with each task's best marked."""
    summary = Summary(build_cells(rows, example_scores), len(rows), compute=Compute.of(rows))
    for _, cells in summary.by_task():
        comparisons = _plan(cells)
        tested = [c for c in comparisons if c.result.p is not None]
        for comparison, adjusted in zip(tested, holm([c.result.p for c in tested]), strict=True):
            comparison.p_holm = adjusted
        _mark_best(cells, comparisons)
        summary.comparisons += comparisons
    return summary


def _cell(members: list[ResultRow], example_scores: dict[tuple[Any, ...], ExampleScores]) -> Cell:
    members = sorted(members, key=lambda row: row.seed)
    first = members[0]
    metric = first.metric
    keys = sorted({key for row in members for key in row.metrics})
    mixes = [row.scalar_mix for row in members if row.scalar_mix is not None]
    shares = [row.coverage["share"] for row in members if row.coverage is not None]
    setting, value = paper_reference(first.dataset, metric, first.embedder)
    return Cell(
        task=first.task,
        dataset=first.dataset,
        embedder=first.embedder,
        head=first.head,
        metric=metric,
        seeds=[row.seed for row in members],
        metrics={
            key: MetricStats.of([row.metrics[key] for row in members if key in row.metrics])
            for key in keys
        },
        test_scores=[row.metrics[f"test/{metric}"] for row in members],
        wall_time_s_mean=fmean(row.wall_time_s for row in members),
        stopped_by=dict(sorted(Counter(row.stopped_by or "unknown" for row in members).items())),
        hit_cap=sum(row.stopped_by in HIT_CAP for row in members),
        capped=any(row.capped for row in members),
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
        example_scores=_stack([example_scores.get(row.run_key) for row in members], metric),
    )


def _stack(scores: list[ExampleScores | None], metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Every seed's (num, den) of ``metric`` as two (seeds, examples) arrays, if all have them."""
    if any(score is None for score in scores) or len({s.n_examples for s in scores}) != 1:
        return None
    return tuple(np.stack([s.metrics[metric][part] for s in scores]) for part in (0, 1))


def compare_cells(a: Cell, b: Cell) -> TestResult:
    """Test a - b: the paired bootstrap where both cells have per-example scores on the same
    examples, else Welch's t-test over their seed scores."""
    if (
        a.example_scores is not None
        and b.example_scores is not None
        and a.example_scores[0].shape[1] == b.example_scores[0].shape[1]
    ):
        return paired_bootstrap(a.example_scores, b.example_scores)
    return welch_test(a.test_scores, b.test_scores)


def _plan(cells: list[Cell]) -> list[Comparison]:
    """The comparisons of one (task, dataset), tested; see the module docstring."""
    pairs: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    by_name = {(cell.embedder, cell.head): cell for cell in cells}
    for reference, embedders, why in COMPARISON_RULES:
        for cell in cells:
            b = by_name.get((reference, cell.head))
            if (
                b is not None
                and cell is not b
                and (embedders is None or cell.embedder in embedders)
            ):
                pairs.setdefault((cell.key, b.key), why)
    top = _ranked(cells)[:2]
    if len(top) == 2 and not {(top[0].key, top[1].key), (top[1].key, top[0].key)} & pairs.keys():
        pairs[(top[0].key, top[1].key)] = BEST_VS_RUNNER_UP
    cell_of = {cell.key: cell for cell in cells}
    return [
        Comparison(cell_of[a], cell_of[b], why, compare_cells(cell_of[a], cell_of[b]))
        for (a, b), why in pairs.items()
    ]


def contrast(cells: Sequence[Cell], a: str, b: str) -> list[Comparison]:
    """Embedder ``a`` against ``b`` in every (task, dataset, head) that has both, uncorrected."""
    by_key = {cell.key: cell for cell in cells}
    comparisons = []
    for cell in cells:
        other = by_key.get((cell.task, cell.dataset, b, cell.head))
        if cell.embedder == a and other is not None:
            comparisons.append(Comparison(cell, other, f"{a} vs {b}", compare_cells(cell, other)))
    return comparisons


def _ranked(cells: list[Cell]) -> list[Cell]:
    return sorted(cells, key=lambda cell: -cell.test.mean)


def _mark_best(cells: list[Cell], comparisons: list[Comparison]) -> None:
    ranked = _ranked(cells)
    if len(ranked) < 2 or ranked[0].hit_cap:
        return
    best, runner_up = ranked[:2]
    pair = next(c for c in comparisons if {c.a.key, c.b.key} == {best.key, runner_up.key})
    if pair.significant and best.test.mean > runner_up.test.mean:
        best.best = True
        return
    best.tied_best = True
    runner_up.tied_best = not runner_up.hit_cap


def embedder_rank(embedder: str) -> tuple[int, str]:
    """Sort key putting embedders in :data:`EMBEDDER_ORDER`, unknown ones after, by name."""
    if embedder in EMBEDDER_ORDER:
        return EMBEDDER_ORDER.index(embedder), ""
    return len(EMBEDDER_ORDER), embedder


def _order(cell: Cell) -> tuple[Any, ...]:
    return cell.task, cell.dataset, embedder_rank(cell.embedder), cell.head
