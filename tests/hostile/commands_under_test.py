"""Running the real commands as a user would, and checking how they fail.

Every hostile case runs a command in a fresh Python process (``python -m elmo.embed``
...), so that signals, exit statuses and what reaches stderr are the real ones.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What a finished command left: its status and both streams."""

    status: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def run_command(
    args: list[str], cwd: Path, file_size_limit: int | None = None, env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Outcome:
    """Run ``python <args>`` in ``cwd``; ``file_size_limit`` in bytes is ``ulimit -f``.

    The child starts with SIGXFSZ at its default action (killing the process), as under a
    shell, so a command that did not ignore it would die rather than fail cleanly.
    """

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    environment = {name: value for name, value in os.environ.items() if name != "ELMO_BENCH_DEBUG"}
    environment |= {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environment, capture_output=True, text=True,
        preexec_fn=limit, restore_signals=True, timeout=timeout,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_one_line(outcome: Outcome, command: str, *fragments: str) -> str:
    """Exit status 2, no traceback, and stderr ending in ``<command>: ...`` naming each fragment."""
    assert outcome.status == 2, (outcome.status, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert outcome.last_line.startswith(f"{command}: "), outcome.stderr[-2000:]
    for fragment in fragments:
        assert fragment in outcome.last_line, (fragment, outcome.last_line)
    return outcome.last_line


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes: compare before and after."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def is_root() -> bool:
    return os.geteuid() == 0


@contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A fresh tmpfs mounted at ``folder`` (root only; the test is skipped otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not is_root():
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """A folder no file can be created in: a read-only tmpfs as root (root ignores
    permissions), else a folder without write permission."""
    if is_root():
        with tmpfs(folder, "ro,size=64k") as mounted:
            yield mounted
        return
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
