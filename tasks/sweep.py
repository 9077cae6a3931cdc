"""Sweep support: the report written when a Hydra multirun ends.

A sweep is a Hydra multirun over ``conf/sweep/<name>.yaml``'s grid; every job is an
``elmo-bench`` run that writes its own row (and skips itself when the row exists), so an
interrupted sweep resumes by running the same command again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from tasks.reports.cli import report
from tasks.reports.rows import ReportError

logger = logging.getLogger(__name__)


class ReportOnEnd(Callback):
    """Run ``elmo-report`` over the sweep's rows when the multirun ends.

    Args:
        results_dir: the sweep's rows; ``summary.md``, ``summary.csv`` and the plots are
            written to its parent folder (``results/<sweep>/``).
    """

    def __init__(self, results_dir: str) -> None:
        self.results_dir = Path(results_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            summary = report(self.results_dir, self.results_dir.parent)
        except ReportError as error:
            logger.error("no report: %s", error)
            return
        logger.info("sweep report: %s", summary)
