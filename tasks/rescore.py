"""``python -m tasks.rescore RESULTS_DIR``: per-example scores for rows written without them.

Rows from before per-example scores existed still have their test predictions beside them
(where the data's license allows: SST and SQuAD predictions are committed, CoNLL columns
are not). This reads each such row's task from its own config, loads its test split, reads
the predictions back and writes ``<row>.examples.json``, then records the file in the row.
It refuses to write scores whose metric differs from the row's own test score, so a
rescored row says exactly what the run measured.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from elmo.cli import command_line
from elmo.errors import UserError
from elmo.io import write_json_atomic
from tasks.reports.rows import EXAMPLE_SCORES_SUFFIX, SCORE_TOLERANCE, row_files, write_example_scores

logger = logging.getLogger(__name__)


class RescoreError(UserError, ValueError):
    """Predictions that do not reproduce their row's test score."""


def rescore(row_file: Path, row: dict[str, Any]) -> Path | None:
    """Write the per-example test scores of one row; None when it has them or no predictions."""
    from tasks.run import build_task

    predictions = row_file.parent / str(row.get("predictions"))
    if row.get("example_scores") or not predictions.is_file():
        return None
    config = OmegaConf.create(row["config"])
    config.task.pop("training", None)  # older configs kept the recipe inside the task
    task = build_task(config)
    test = task.load()["test"]
    scores = task.example_scores(test, task.read_predictions(predictions, test))
    metric = row["metric"]
    value, recorded = scores[metric].value(), row["metrics"][f"test/{metric}"]
    if abs(value - recorded) > SCORE_TOLERANCE:
        raise RescoreError(f"{predictions}: rescored test {metric} {value:.4f} differs from the row's {recorded}")
    target = row_file.with_suffix(EXAMPLE_SCORES_SUFFIX)
    write_example_scores(target, scores)
    row["example_scores"] = target.name
    write_json_atomic(row_file, row)
    return target


@command_line("rescore")
def main(argv: list[str] | None = None) -> int:
    """Rescore every row under the folders given."""
    parser = argparse.ArgumentParser(prog="python -m tasks.rescore", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    for folder in args.folders:
        for row_file, row in row_files(folder):
            written = rescore(row_file, row)
            print(f"{row_file}: {'wrote ' + written.name if written else 'nothing to do'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
