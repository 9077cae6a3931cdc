"""The ``elmo-report`` command: the run rows under a folder in, tables and plots out."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from elmo.cli import command_line
from tasks.reports.plots import write_plots
from tasks.reports.rows import ReportError, Results, load_results
from tasks.reports.stats import Comparison, build_cells, contrast, summarize
from tasks.reports.tables import comparison_text, write_summary


def _load(folder: str | Path) -> Results:
    results = load_results(folder)
    if not results.rows:
        raise ReportError(f"{folder}: no run rows (*.json files with a 'schema' key)")
    return results


def report(folder: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write the tables and plots of the run rows under ``folder`` to ``out_dir`` (or ``folder``).

    Returns:
        The path of ``summary.md``.

    Raises:
        ReportError: as :func:`~tasks.reports.rows.load_results`, or when the folder holds
            no run rows.
    """
    results = _load(folder)
    out_dir = Path(folder if out_dir is None else out_dir)
    summary = summarize(results.rows, results.example_scores)
    markdown = write_summary(summary, out_dir)
    write_plots(summary, out_dir)
    return markdown


def compare(folder: str | Path, a: str, b: str) -> list[Comparison]:
    """Embedder ``a`` against ``b`` in every (task, dataset, head) of ``folder`` that has both.

    Raises:
        ReportError: as :func:`report`, or when no task has both embedders.
    """
    results = _load(folder)
    comparisons = contrast(build_cells(results.rows, results.example_scores), a, b)
    if not comparisons:
        raise ReportError(f"{folder}: no task has runs of both '{a}' and '{b}'")
    return comparisons


def _contrast_lines(comparisons: list[Comparison]) -> list[str]:
    lines = []
    for comparison in comparisons:
        a, b = comparison.a, comparison.b
        lines.append(f"{a.task} ({a.dataset}, test {a.metric}, {a.head}):")
        for cell in (a, b):
            interval = (
                "" if cell.test.ci is None else f" [{cell.test.ci[0]:.2f}, {cell.test.ci[1]:.2f}]"
            )
            lines.append(f"  {cell.embedder}: {cell.test.mean:.2f}{interval} (n={cell.n_seeds})")
        lines.append(f"  {comparison_text(comparison)}")
    return lines


@command_line("elmo-report")
def main(argv: list[str] | None = None) -> int:
    """Console entry point ``elmo-report RESULTS_DIR [--out DIR] [--compare A B]``.

    Without ``--compare``, writes the tables and plots and prints the summary table; with
    it, prints one contrast per task (means, 95% intervals, difference, p-value, test) and
    writes nothing.

    Returns:
        0, or 2 when the folder is missing, holds no run rows or holds a bad one, or no task
        has both embedders of ``--compare``.
    """
    parser = argparse.ArgumentParser(
        prog="elmo-report",
        description="Summarise the run rows under a results folder into tables and plots.",
    )
    parser.add_argument("results_dir", type=Path, help="folder searched recursively for run rows")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR)"
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="print embedder A against embedder B in every task with both (writes nothing)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.compare:
        print("\n".join(_contrast_lines(compare(args.results_dir, *args.compare))))
        return 0
    summary = report(args.results_dir, args.out)
    print(summary.read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
