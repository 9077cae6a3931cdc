"""The summary as tables: ``summary.md`` (markdown) and ``summary.csv``."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from elmo.io import atomic_path
from tasks.reports.paper import PAPER_CAVEAT, PAPER_CITATION
from tasks.reports.significance import ALPHA, LEVEL, RESAMPLES
from tasks.reports.stats import (
    Cell,
    Comparison,
    Compute,
    MetricStats,
    Summary,
    embedder_rank,
)

logger = logging.getLogger(__name__)

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
TIE, HIT_CAP_MARK, CAPPED_LABEL = "≈", "†", "(capped)"
# The CSV's first columns, one line per cell; then every metric's mean and std
# (``test/f1_mean``, ...) and every comparison of the cell with a reference B
# (``vs_glove_difference``, ``vs_glove_p``, ``vs_glove_p_holm``, ...).
CSV_COLUMNS: dict[str, Callable[[Cell], Any]] = {
    "task": lambda cell: cell.task,
    "dataset": lambda cell: cell.dataset,
    "embedder": lambda cell: cell.embedder,
    "head": lambda cell: cell.head,
    "metric": lambda cell: cell.metric,
    "n_seeds": lambda cell: cell.n_seeds,
    "seeds": lambda cell: cell.seeds,
    "test_mean": lambda cell: cell.test.mean,
    "test_std": lambda cell: cell.test.std,
    "test_ci_low": lambda cell: cell.test.ci and cell.test.ci[0],
    "test_ci_high": lambda cell: cell.test.ci and cell.test.ci[1],
    "val_mean": lambda cell: cell.val and cell.val.mean,
    "val_std": lambda cell: cell.val and cell.val.std,
    "wall_time_s_mean": lambda cell: cell.wall_time_s_mean,
    "best": lambda cell: cell.best,
    "tied_best": lambda cell: cell.tied_best,
    "hit_cap": lambda cell: cell.hit_cap,
    "stopped_by": lambda cell: [f"{how}:{n}" for how, n in cell.stopped_by.items()],
    "capped": lambda cell: cell.capped,
    "coverage_share": lambda cell: cell.coverage_share,
    "mix_weights": lambda cell: cell.mix_weights,
    "mix_gamma": lambda cell: cell.mix_gamma,
    "paper_setting": lambda cell: cell.paper_setting,
    "paper_value": lambda cell: cell.paper_value,
    "notes": lambda cell: cell.notes,
}
COMPARISON_COLUMNS: dict[str, Callable[[Comparison], Any]] = {
    "difference": lambda c: c.result.difference,
    "ci_low": lambda c: c.result.ci and c.result.ci[0],
    "ci_high": lambda c: c.result.ci and c.result.ci[1],
    "p": lambda c: c.result.p,
    "p_holm": lambda c: c.p_holm,
    "test": lambda c: c.result.test,
}


def _score(stats: MetricStats | None) -> str:
    if stats is None:
        return "—"
    return f"{stats.mean:.2f}" if stats.std is None else f"{stats.mean:.2f} ± {stats.std:.2f}"


def _interval(ci: tuple[float, float] | None) -> str:
    return "—" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def difference_text(comparison: Comparison) -> str:
    """``+1.23 [0.50, 1.96]``: the difference a - b and its interval, if any."""
    result = comparison.result
    return f"{result.difference:+.2f}" + ("" if result.ci is None else f" {_interval(result.ci)}")


def p_value(p: float | None) -> str:
    """A p-value for a table: four decimals, or two significant digits below 0.0001."""
    if p is None:
        return "—"
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def marks(cell: Cell, tie: bool = True) -> str:
    """The marks after a cell's name or score: tie (if ``tie``), a run stopped at its cap,
    capped data."""
    found = [tie and cell.tied_best and TIE, cell.hit_cap and HIT_CAP_MARK]
    found.append(cell.capped and CAPPED_LABEL)
    return "".join(f" {mark}" for mark in found if mark)


def _legend() -> list[str]:
    return [
        "",
        (
            f"**Bold**: the best mean test score of its task, significantly better than the "
            f"runner-up (Holm-adjusted p < {ALPHA}). {TIE}: the best and the runner-up, not "
            f"significantly different (a tie). {HIT_CAP_MARK}: a run of the cell stopped at its "
            "cap (max_epochs or max_time); never marked best. (capped): trained and scored on "
            "data capped by `task.max_samples`."
        ),
        "",
        (
            f"{LEVEL:.0%} CI: Student-t interval of the mean over seeds (mean ± t · std / √n; "
            "none for one seed). Comparisons test the primary test metric: a paired bootstrap "
            f"over test examples and seeds ({RESAMPLES} resamples, seeded: the same examples "
            "for both sides, each side's seeds resampled; the interval is the difference's "
            "percentile interval) where every run of both cells has per-example scores, else "
            "Welch's t-test over seed scores; p is two-sided, then Holm-Bonferroni adjusted "
            "over the task's comparisons."
        ),
    ]


def compute_text(compute: Compute) -> str:
    """One sentence on what the rows cost: run time, CPU core-hours, device-hours."""
    parts = [f"{compute.run_hours:.1f} h of run time (the rows' wall times summed)"]
    parts.append(f"{compute.cpu_hours:.1f} CPU core-hours (wall time × `threads` of the CPU runs)")
    if compute.device_hours:
        parts.append(f"{compute.device_hours:.1f} device-hours (wall time × devices × nodes)")
    if compute.unknown:
        parts.append(f"{compute.unknown} rows without a recorded `threads`, in the run time only")
    return "Compute: " + "; ".join(parts) + "."


def _overview(summary: Summary) -> list[str]:
    """Test scores at a glance: one row per (task, dataset, head), one column per embedder."""
    embedders = sorted({cell.embedder for cell in summary.cells}, key=embedder_rank)
    rows: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for cell in summary.cells:
        text = f"{_score(cell.test)} ({cell.n_seeds})"
        text = (f"**{text}**" if cell.best else text) + marks(cell)
        rows.setdefault((cell.task, cell.dataset, cell.head, cell.metric), {})[cell.embedder] = text
    lines = [
        "",
        "## At a glance",
        "",
        "Test score, mean ± std (number of seeds).",
        "",
        "| task (dataset, metric) | head | " + " | ".join(embedders) + " |",
        "|---|---|" + "---:|" * len(embedders),
    ]
    for (task, dataset, head, metric), texts in rows.items():
        scores = [texts.get(embedder, "") for embedder in embedders]
        lines.append(f"| {task} ({dataset}, {metric}) | {head} | " + " | ".join(scores) + " |")
    return lines


def _stopped(cell: Cell) -> str:
    if set(cell.stopped_by) == {"unknown"}:
        return "—"
    return ", ".join(f"{how} {n}" for how, n in cell.stopped_by.items())


def _detail_row(cell: Cell) -> str:
    test = f"{_score(cell.test)} (n={cell.n_seeds})"
    embedder = cell.embedder
    if cell.best:
        test, embedder = f"**{test}**", f"**{embedder}**"
    paper = "—" if cell.paper_value is None else f"{cell.paper_value:g} ({cell.paper_setting})"
    coverage = "—" if cell.coverage_share is None else f"{100 * cell.coverage_share:.2f}%"
    cells = [
        embedder + marks(cell),
        cell.head,
        test,
        _interval(cell.test.ci),
        _score(cell.val),
        paper,
        coverage,
        _stopped(cell),
        f"{cell.wall_time_s_mean:.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def _label(cell: Cell, several_heads: bool) -> str:
    return f"{cell.embedder} / {cell.head}" if several_heads else cell.embedder


def _all_metrics(cells: list[Cell]) -> list[str]:
    several_heads = len({cell.head for cell in cells}) > 1
    keys = sorted({key for cell in cells for key in cell.metrics})
    lines = [
        "",
        "Every metric the runs report, mean ± std over seeds:",
        "",
        "| metric | " + " | ".join(_label(cell, several_heads) for cell in cells) + " |",
        "|---|" + "---:|" * len(cells),
    ]
    for key in keys:
        scores = [_score(cell.metrics.get(key)) for cell in cells]
        lines.append(f"| {key} | " + " | ".join(scores) + " |")
    return lines


def comparison_text(comparison: Comparison) -> str:
    """``a - b = d [low, high]``, the test and its p-values, on one line."""
    result = comparison.result
    text = f"{comparison.a.embedder} − {comparison.b.embedder} = {difference_text(comparison)}"
    if result.p is None:
        return f"{text} ({result.test})"
    holm = "" if comparison.p_holm is None else f", Holm-adjusted p = {p_value(comparison.p_holm)}"
    return f"{text}, p = {p_value(result.p)}{holm} ({result.test})"


def _comparisons(comparisons: list[Comparison], metric: str) -> list[str]:
    if not comparisons:
        return []
    several_heads = len({c.a.head for c in comparisons} | {c.b.head for c in comparisons}) > 1
    tested = sum(c.p_holm is not None for c in comparisons)
    family = (
        f"Holm-adjusted p over the {tested} tested comparisons of the task (* adjusted p < {ALPHA})"
        if tested
        else "no comparison could be tested"
    )
    lines = [
        "",
        (
            f"Comparisons on test {metric}: difference A − B with its {LEVEL:.0%} interval, "
            f"two-sided p; {family}:"
        ),
        "",
        "| A | B | why | A − B [95% CI] | test | p | p (Holm) |",
        "|---|---|---|---:|---|---:|---:|",
    ]
    for c in comparisons:
        holm = p_value(c.p_holm) + (" *" if c.significant else "")
        cells = [_label(c.a, several_heads), _label(c.b, several_heads), c.why, difference_text(c)]
        lines.append("| " + " | ".join([*cells, c.result.test, p_value(c.result.p), holm]) + " |")
    return lines


def render_markdown(summary: Summary) -> str:
    """The summary as markdown: header and legend, an overview, then a section per task."""
    lines = [
        "# elmo-bench results",
        "",
        (
            f"{summary.n_rows} run rows in {len(summary.cells)} groups (task, dataset, embedder, "
            "head). Scores are percentages: mean ± sample standard deviation over seeds "
            "(n seeds)."
        ),
        *([] if summary.compute is None else ["", compute_text(summary.compute)]),
        *_legend(),
        "",
        (
            f"Paper column: {PAPER_CITATION}; +ELMo beside `elmo` and `glove+elmo`, baseline "
            f"beside `glove`. {PAPER_CAVEAT}"
        ),
    ]
    lines += _overview(summary)
    notes = sorted({(c.task, c.dataset, note) for c in summary.cells for note in c.notes})
    if notes:
        lines += ["", "Notes from the runs:", ""]
        lines += [f"- {task} ({dataset}): {note}" for task, dataset, note in notes]
    for (task, dataset), cells in summary.by_task():
        metric = cells[0].metric
        lines += [
            "",
            f"## {task} ({dataset}): {metric}",
            "",
            (
                f"| embedder | head | test {metric} | {LEVEL:.0%} CI | val {metric} "
                "| paper (Peters et al. 2018) | coverage | stopped by | wall time (s) |"
            ),
            "|---|---|---:|---:|---:|---:|---:|---|---:|",
        ]
        lines += [_detail_row(cell) for cell in cells]
        lines += _all_metrics(cells)
        lines += _comparisons(summary.comparisons_of(task, dataset), metric)
    return "\n".join(lines) + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def _reference(comparison: Comparison) -> str:
    """B's name in the CSV's comparison columns: its embedder, plus its head if not A's."""
    b = comparison.b
    return b.embedder if b.head == comparison.a.head else f"{b.embedder}@{b.head}"


def render_csv(summary: Summary) -> str:
    """The summary as CSV: one line per cell (see :data:`CSV_COLUMNS`).

    Lists (seeds, mix weights, notes) are joined with ``;``; a missing value is empty.
    """
    keys = sorted({key for cell in summary.cells for key in cell.metrics})
    references = sorted({_reference(c) for c in summary.comparisons}, key=embedder_rank)
    header = [
        *CSV_COLUMNS,
        *(f"{key}_{part}" for key in keys for part in ("mean", "std")),
        *(f"vs_{ref}_{part}" for ref in references for part in COMPARISON_COLUMNS),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for cell in summary.cells:
        values = [column(cell) for column in CSV_COLUMNS.values()]
        for key in keys:
            stats = cell.metrics.get(key)
            values += [stats and stats.mean, stats and stats.std]
        mine = {_reference(c): c for c in summary.comparisons if c.a is cell}
        for ref in references:
            comparison = mine.get(ref)
            values += [comparison and column(comparison) for column in COMPARISON_COLUMNS.values()]
        writer.writerow(_csv_cell(value) for value in values)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")


def write_summary(summary: Summary, out_dir: str | Path) -> Path:
    """Write ``summary.md`` and ``summary.csv`` into ``out_dir``, atomically.

    Returns:
        The path of ``summary.md``.
    """
    out_dir = Path(out_dir)
    markdown = out_dir / SUMMARY_MD
    _write_text(markdown, render_markdown(summary))
    _write_text(out_dir / SUMMARY_CSV, render_csv(summary))
    logger.info("wrote %s and %s", markdown, out_dir / SUMMARY_CSV)
    return markdown
