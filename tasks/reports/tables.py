"""The summary as tables: ``summary.md`` (markdown) and ``summary.csv``."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

from elmo.io import atomic_path
from tasks.reports.paper import PAPER_CAVEAT, PAPER_CITATION
from tasks.reports.stats import Cell, Summary, embedder_rank

logger = logging.getLogger(__name__)

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
# The CSV's columns, each a :class:`~tasks.reports.stats.Cell` attribute.
CSV_COLUMNS = (
    "task",
    "dataset",
    "embedder",
    "head",
    "metric",
    "n_seeds",
    "seeds",
    "test_mean",
    "test_std",
    "val_mean",
    "val_std",
    "wall_time_s_mean",
    "best",
    "coverage_share",
    "mix_weights",
    "mix_gamma",
    "paper_setting",
    "paper_value",
    "notes",
)


def _score(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def _overview(summary: Summary) -> list[str]:
    """Test scores at a glance: one row per (task, dataset, head), one column per embedder."""
    embedders = sorted({cell.embedder for cell in summary.cells}, key=embedder_rank)
    rows: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for cell in summary.cells:
        text = f"{_score(cell.test_mean, cell.test_std)} ({cell.n_seeds})"
        rows.setdefault((cell.task, cell.dataset, cell.head, cell.metric), {})[cell.embedder] = (
            f"**{text}**" if cell.best else text
        )
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


def _detail_row(cell: Cell) -> str:
    test = f"{_score(cell.test_mean, cell.test_std)} (n={cell.n_seeds})"
    embedder = cell.embedder
    if cell.best:
        test, embedder = f"**{test}**", f"**{embedder}**"
    paper = "—" if cell.paper_value is None else f"{cell.paper_value:g} ({cell.paper_setting})"
    coverage = f"{100 * cell.coverage_share:.2f}%" if cell.coverage_share is not None else "—"
    cells = [
        embedder,
        cell.head,
        test,
        _score(cell.val_mean, cell.val_std),
        paper,
        coverage,
        f"{cell.wall_time_s_mean:.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def render_markdown(summary: Summary) -> str:
    """The summary as markdown: a header paragraph, then one table per (task, dataset)."""
    lines = [
        "# elmo-bench results",
        "",
        (
            f"{summary.n_rows} run rows in {len(summary.cells)} groups (task, dataset, embedder, "
            "head). Scores are percentages: mean ± sample standard deviation over seeds (n seeds); "
            "**bold**: the best mean test score of the task."
        ),
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
                f"| embedder | head | test {metric} | val {metric} | paper (Peters et al. 2018) "
                "| coverage | wall time (s) |"
            ),
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        lines += [_detail_row(cell) for cell in cells]
    return "\n".join(lines) + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def render_csv(summary: Summary) -> str:
    """The summary as CSV: one line per cell, the columns of :data:`CSV_COLUMNS`.

    Lists (seeds, mix weights, notes) are joined with ``;``; a missing value is empty.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for cell in summary.cells:
        writer.writerow(_csv_cell(getattr(cell, column)) for column in CSV_COLUMNS)
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
