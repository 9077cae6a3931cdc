"""Sweep support: the report written when a Hydra multirun ends.

A sweep is a Hydra multirun: a grid from ``conf/sweep/<name>.yaml`` or from the command line
(``elmo-bench -m task=pos,ner seed=0,1``). Every job is an ``elmo-bench`` run that writes its
own row (and skips itself when the row exists), so an interrupted sweep resumes by running
the same command again. ``conf/config.yaml`` registers :class:`ReportOnEnd` as a Hydra
callback, so every multirun that completes ends with a summary; a sweep that stopped early is
summarised from the rows it wrote with
``elmo-report results/<sweep>/runs --out results/<sweep>``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


logger = logging.getLogger(__name__)


class ReportOnEnd(Callback):
    """Run ``elmo-report`` over the sweep's rows when a multirun ends; single runs do nothing.

    Hydra calls ``on_multirun_end`` only after every job returned, so a sweep with a failed
    or cancelled job writes no summary (``elmo-report`` makes it from the rows written).

    Args:
        results_dir: the sweep's rows; ``summary.md``, ``summary.csv`` and the plots are
            written to its parent folder (``results/<sweep>/``).
    """

    def __init__(self, results_dir: str) -> None:
        self.results_dir = Path(results_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        # Imported here: Hydra builds this callback for every run, single ones included,
        # and the report's libraries (scipy, matplotlib) would slow each run's start.
        from tasks.reports.cli import report
        from tasks.reports.rows import ReportError

        try:
            summary = report(self.results_dir, self.results_dir.parent)
        except ReportError as error:
            logger.error("no report: %s", error)
            return
        logger.info("sweep report: %s", summary)
