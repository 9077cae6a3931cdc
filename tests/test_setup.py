"""The quickstart's setup, end to end: a clean checkout, a new virtual environment, ``--help``.

Runs ``bash .ci/setup`` on a copy of the checkout's tracked files (as a fresh clone has
them, with any uncommitted edits) outside every active virtual environment, with the
system Python where there is one (``/usr/bin/python3``: on Debian and Ubuntu it refuses
``pip install``, PEP 668, which is what the venv is for). About 1.5 minutes with pip's
cache warm and the torch wheel at hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _new_enough(python: Path) -> bool:
    check = [str(python), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]
    return subprocess.run(check, capture_output=True).returncode == 0


def _base_python() -> Path:
    """The system Python when it is recent enough, else the one under this test's venv."""
    if SYSTEM_PYTHON.is_file() and _new_enough(SYSTEM_PYTHON):
        return SYSTEM_PYTHON
    return Path(getattr(sys, "_base_executable", sys.executable))


def _clean_checkout(target: Path) -> None:
    """The tracked files of this checkout, as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _outside_virtual_environments() -> dict[str, str]:
    """This process's environment with no virtual environment active or on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv_bins = {str(Path(sys.prefix) / "bin"), os.environ.get("VIRTUAL_ENV", "") + "/bin"}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p not in venv_bins)
    return env


@pytest.mark.slow
def test_setup_makes_a_venv_with_working_commands(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    checkout = tmp_path / "elmo-bench"
    _clean_checkout(checkout)
    base = _base_python()
    env = _outside_virtual_environments() | {"PYTHON": str(base)}

    setup = subprocess.run(
        ["bash", ".ci/setup"], cwd=checkout, env=env, capture_output=True, text=True, timeout=1200
    )
    assert setup.returncode == 0, setup.stderr[-3000:]

    venv_python = checkout / ".venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import sys, elmo; print(sys.prefix); print(sys._base_executable); print(elmo.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,  # not from a source folder
    ).stdout.splitlines()
    assert Path(where[0]) == checkout / ".venv"
    assert Path(where[1]).resolve() == base.resolve()
    assert Path(where[2]).is_relative_to(checkout)  # the editable install of the copy

    bench_help = subprocess.run(
        [str(checkout / ".venv" / "bin" / "elmo-bench"), "--help"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=300,
    )
    assert bench_help.returncode == 0, bench_help.stderr[-3000:]
    assert "sweep" in bench_help.stdout and "quick" in bench_help.stdout  # the config groups
