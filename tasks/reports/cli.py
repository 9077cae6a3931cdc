"""The ``elmo-report`` command: the run rows under a folder in, tables and plots out."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tasks.reports.plots import write_plots
from tasks.reports.rows import ReportError, load_rows
from tasks.reports.stats import summarize
from tasks.reports.tables import write_summary


def report(folder: str | Path, out_dir: str | Path | None = None) -> Path:
    """Collect the run rows under ``folder`` into tables and plots in ``out_dir`` (default: ``folder``).

    Returns:
        The path of ``summary.md``.

    Raises:
        ReportError: as :func:`~tasks.reports.rows.load_rows`, or when the folder holds no
            run rows.
    """
    rows = load_rows(folder)
    if not rows:
        raise ReportError(f"{folder}: no run rows (*.json files with a 'schema' key)")
    out_dir = Path(folder if out_dir is None else out_dir)
    summary = summarize(rows)
    markdown = write_summary(summary, out_dir)
    write_plots(summary, out_dir)
    return markdown


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``elmo-report RESULTS_DIR [--out DIR]``; prints the summary table.

    Returns:
        0, or 2 when the folder is missing, holds no run rows or holds a bad one.
    """
    parser = argparse.ArgumentParser(
        prog="elmo-report",
        description="Summarise the run rows under a results folder into tables and plots.",
    )
    parser.add_argument("results_dir", type=Path, help="folder searched recursively for run rows")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        summary = report(args.results_dir, args.out)
    except ReportError as error:
        print(f"elmo-report: {error}", file=sys.stderr)
        return 2
    print(summary.read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
