"""Progress bars for the commands' long steps: tqdm on stderr, with a rate and an ETA.

A bar is drawn only when stderr is a terminal, so logs, CI output and tests stay clean.
The environment variable ``ELMO_PROGRESS`` overrides that: ``1`` draws bars anyway (into
a log file followed with ``tail -f``, say; then at most one update every 10 seconds) and
``0`` hides them.
"""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

#: Seconds between updates of a forced bar written somewhere other than a terminal.
_LOG_INTERVAL = 10.0


def progress_bar(total: int | None, desc: str, unit: str = "it", leave: bool = True) -> tqdm:
    """A bar counting up to ``total`` (None: a count and a rate, no ETA); use it as a context manager.

    Args:
        total: the units expected in all.
        desc: what is being done, shown before the bar.
        unit: the name of one unit (``tok``, ``sentence``).
        leave: keep the finished bar on screen (False for steps that repeat within one command).
    """
    setting = os.environ.get("ELMO_PROGRESS", "").strip()
    interactive = sys.stderr.isatty()
    if setting == "1":
        disable, interval = False, 0.1 if interactive else _LOG_INTERVAL
    else:
        disable, interval = (True if setting == "0" else None), 0.1  # None: tqdm draws only on a terminal
    return tqdm(
        total=total, desc=desc, unit=unit, unit_scale=True, leave=leave, file=sys.stderr,
        disable=disable, mininterval=interval, dynamic_ncols=True,
    )
