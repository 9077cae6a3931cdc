"""Start-up time of ``elmo-bench --help`` next to ``python -c "import torch"``.

A newcomer's first command is ``--help``; importing torch is the floor any command of
this project pays. Each command runs in a fresh process, the commands interleaved round
by round so that a busy machine slows them alike; the median wall time of each is printed
side by side with the ratio to the torch import, plus a bare interpreter start for scale,
the core count and the versions.

    python -m benchmarks.startup              # 5 rounds
    python -m benchmarks.startup --rounds 9
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def elmo_bench_command() -> str:
    """The ``elmo-bench`` script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "elmo-bench"
    found = str(beside) if beside.is_file() else shutil.which("elmo-bench")
    if found is None:
        sys.exit("startup: elmo-bench is not installed in this environment (run bash .ci/setup)")
    return found


def wall_time(command: list[str]) -> float:
    """Seconds one run of ``command`` takes, output discarded; exits on failure."""
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"startup: {' '.join(command)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args(argv)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        "elmo-bench --help": [elmo_bench_command(), "--help"],
    }
    for command in commands.values():  # warm the file cache: the first run reads every .pyc from disk
        wall_time(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, command in commands.items():
            times[name].append(wall_time(command))

    torch_version = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{os.cpu_count()} cores ({usable} usable), Python {platform.python_version()}, torch {torch_version}, "
        f"median of {args.rounds} runs each (min-max), each in a fresh process"
    )
    baseline = statistics.median(times['python -c "import torch"'])
    print(f"{'command':<28} {'median':>8} {'range':>15} {'vs import torch':>16}")
    for name, runs in times.items():
        median = statistics.median(runs)
        spread = f"{min(runs):.2f}-{max(runs):.2f} s"
        print(f"{name:<28} {median:>6.2f} s {spread:>15} {median / baseline:>15.2f}x")


if __name__ == "__main__":
    main()
