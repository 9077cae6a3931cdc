"""Sweep throughput of each way to split the machine's cores: parallel jobs x threads each.

A sweep of many small runs can give every run all the cores (one job, N threads) or run
several at once with fewer threads each. This runs the same small multirun (one run per
core, each a fixed number of epochs with no early stop, so every layout does the same
work) once per layout, the layouts interleaved round by round, and prints each layout's
wall time and runs per hour side by side with the ratio to one job using every core,
plus the core count and the versions. Each multirun writes into its own temporary
folder (its rows, report and Hydra's multirun logs), so nothing is skipped as already
done and nothing under ``results/`` changes;
the activation cache is shared, and warmed by a first untimed run.

    python -m benchmarks.sweep_parallelism                           # POS, GloVe, 2 epochs
    python -m benchmarks.sweep_parallelism --task ner --embedder elmo --epochs 1 --rounds 2

Run it on an otherwise idle machine: a busy core slows every layout, unevenly.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.startup import elmo_bench_command


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_model() -> str:
    """The processor's name as Linux reports it, else what ``platform`` knows."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def layouts(cores: int) -> list[tuple[int, int]]:
    """Every (jobs, threads per job) that uses exactly ``cores`` cores, one job first."""
    return [(cores // threads, threads) for threads in range(cores, 0, -1) if cores % threads == 0]


def multirun(jobs: int, threads: int, runs: int, args: argparse.Namespace, results: str) -> list[str]:
    """The ``elmo-bench`` command of ``runs`` seeds of one task and embedder."""
    seeds = ",".join(str(seed) for seed in range(runs))
    return [
        elmo_bench_command(), "-m", f"task={args.task}", f"embedder={args.embedder}", f"seed={seeds}",
        f"training.max_epochs={args.epochs}", f"training.patience={args.epochs + 1}",
        f"threads={threads}", f"results_dir={results}", "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={jobs}", f"hydra.sweep.dir={results}/multirun", *args.overrides,
    ]


def wall_time(jobs: int, threads: int, runs: int, args: argparse.Namespace, scratch: str) -> float:
    """Seconds one multirun takes, writing into a fresh folder under ``scratch``; exits on failure."""
    with tempfile.TemporaryDirectory(dir=scratch) as results:
        command = multirun(jobs, threads, runs, args, results)
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        sys.exit(f"sweep_parallelism: {' '.join(command)} failed: {last}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="pos", help="task config (default pos)")
    parser.add_argument("--embedder", default="glove", help="embedder config (default glove)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of every run (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="timed multiruns of each layout (default 1)")
    parser.add_argument("--cores", type=int, default=usable_cores(), help="cores to split (default: all usable)")
    parser.add_argument("overrides", nargs="*", help="more elmo-bench overrides for every run, e.g. task.max_samples=500")
    args = parser.parse_args(argv)
    if args.cores < 1 or args.epochs < 1 or args.rounds < 1:
        parser.error("--cores, --epochs and --rounds must be at least 1")

    runs = args.cores  # one run per core: every layout divides them into whole waves
    candidates = layouts(args.cores)
    times: dict[tuple[int, int], list[float]] = {layout: [] for layout in candidates}
    with tempfile.TemporaryDirectory(prefix="sweep_parallelism-") as scratch:
        wall_time(1, args.cores, 1, args, scratch)  # untimed: fills the activation and page caches
        for _ in range(args.rounds):
            for layout in candidates:
                times[layout].append(wall_time(*layout, runs, args, scratch))

    torch_version = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"{args.cores} cores of {os.cpu_count()} ({cpu_model()}), "
        f"Python {platform.python_version()}, torch {torch_version}"
    )
    print(
        f"{runs} runs of task={args.task} embedder={args.embedder}, {args.epochs} epochs each, "
        f"median of {args.rounds} multirun(s) per layout"
    )
    baseline = statistics.median(times[candidates[0]])
    print(f"{'jobs x threads':<16} {'wall time':>10} {'runs/hour':>10} {'throughput vs 1 job':>20}")
    for (jobs, threads), measured in times.items():
        median = statistics.median(measured)
        print(f"{f'{jobs} x {threads}':<16} {median:>8.1f} s {runs * 3600 / median:>10.1f} {baseline / median:>19.2f}x")


if __name__ == "__main__":
    main()
