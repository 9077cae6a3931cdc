"""Where a result row came from: the code revision its process runs.

Kept out of ``tasks.run``: when that module runs as ``__main__`` (``python -m tasks.run``),
parallel launchers pickle its functions by value, and a cached function there could not
be found again in the worker.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: its git history and conf/


# Outputs, not inputs: a sweep's report rewrites the committed tables and plots here.
NOT_CODE = ("results",)


@functools.cache
def git_revision(root: Path = ROOT) -> str:
    """``HEAD``'s commit, with ``+dirty`` when files outside ``results/`` have changes:
    edited tracked files, or new files git does not ignore (a task file not yet committed
    changes what runs); ``unknown`` outside git.

    Read once per process, at its first run: a parallel sweep's worker keeps the code it
    imported then, even if the checkout moves on while it works. Changed result tables
    (a finished sweep's report) do not make the next sweep's rows dirty.
    """
    excluded = [f":(exclude){path}" for path in NOT_CODE]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=normal", "--", ".", *excluded],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")
