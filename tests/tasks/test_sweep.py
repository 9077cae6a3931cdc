"""Sweeps: a tiny grid through the joblib launcher, a grid without a sweep file, and a sweep
killed halfway then summarised and rerun."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from run_helpers import ROOT
from tasks.cache import ActivationCache
from tasks.reports.cli import main as report_main


def _sweep_command(tmp_path: Path, elmo_fixtures: Path, *overrides: str) -> list[str]:
    return [
        sys.executable, "-m", "tasks.run", "sweep=quick",
        f"embedder.options_file={elmo_fixtures / 'options.json'}",
        f"embedder.weight_file={elmo_fixtures / 'lm_weights.hdf5'}",
        "task.max_samples=24", "training.max_epochs=1", "task.hub=null",
        f"results_dir={tmp_path / 'sweep' / 'runs'}", f"cache.dir={tmp_path / 'cache'}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}", "trainer.enable_progress_bar=false",
        *overrides,
    ]


def _rows(tmp_path: Path) -> list[dict]:
    files = [f for f in (tmp_path / "sweep" / "runs").rglob("*.json") if not f.name.endswith((".predictions.json", ".examples.json"))]
    return [json.loads(f.read_text()) for f in files]


def test_tiny_sweep_through_joblib_writes_rows_and_summary(tmp_path, elmo_fixtures):
    command = _sweep_command(
        tmp_path, elmo_fixtures, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "task=pos,sentiment", "embedder=elmo"
    )
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _rows(tmp_path)
    assert sorted((r["task"], r["embedder"], r["seed"]) for r in rows) == [("pos", "elmo", 0), ("sentiment", "elmo", 0)]
    summary = (tmp_path / "sweep" / "summary.md").read_text()
    assert "pos" in summary and "sentiment" in summary
    csv_lines = (tmp_path / "sweep" / "summary.csv").read_text().strip().splitlines()
    assert len(csv_lines) == 3  # header + one line per (task, embedder)
    assert (tmp_path / "sweep" / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_multirun_without_a_sweep_file_ends_with_a_summary_and_a_single_run_writes_none(tmp_path):
    runs = tmp_path / "sweep" / "runs"
    overrides = [
        "task=pos", "embedder=random", "task.max_samples=24",
        "training.max_epochs=1", "task.hub=null", f"results_dir={runs}", f"cache.dir={tmp_path / 'cache'}",
        f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'multirun'}",
        "trainer.enable_progress_bar=false",
    ]
    run = [sys.executable, "-m", "tasks.run"]
    single = subprocess.run([*run, *overrides, "seed=0"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    assert len(_rows(tmp_path)) == 1
    assert not (tmp_path / "sweep" / "summary.md").exists()

    multirun = subprocess.run([*run, "-m", *overrides, "seed=0,1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert multirun.returncode == 0, multirun.stderr[-3000:]
    assert "skipping random: its row exists" in multirun.stdout + multirun.stderr  # seed 0 kept
    assert sorted(r["seed"] for r in _rows(tmp_path)) == [0, 1]
    assert all(r["model_fingerprints"] == {} for r in _rows(tmp_path))  # random vectors: no frozen model
    with (tmp_path / "sweep" / "summary.csv").open(newline="") as summary:
        (group,) = csv.DictReader(summary)
    assert (group["task"], group["embedder"], group["n_seeds"], group["seeds"]) == ("pos", "random", "2", "0;1")


@pytest.mark.slow
def test_a_sweep_killed_halfway_and_rerun_has_one_row_per_grid_point(tmp_path, elmo_fixtures):
    command = _sweep_command(tmp_path, elmo_fixtures, "task=pos,sentiment", "embedder=elmo", "seed=0,1")
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while not _rows(tmp_path) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # mid-sweep: one row written, the next run under way
    process.wait()
    written = _rows(tmp_path)
    assert 1 <= len(written) < 4
    assert not (tmp_path / "sweep" / "summary.md").exists()  # the multirun never ended
    # The documented command for an interrupted sweep summarises the rows written so far.
    assert report_main([str(tmp_path / "sweep" / "runs"), "--out", str(tmp_path / "sweep")]) == 0
    csv_lines = (tmp_path / "sweep" / "summary.csv").read_text().strip().splitlines()
    assert 2 <= len(csv_lines) <= 3  # header + the (task, embedder) groups with a row
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _rows(tmp_path)  # every row file parses: none was left half-written
    grid = sorted((r["task"], r["seed"]) for r in rows)
    assert grid == [("pos", 0), ("pos", 1), ("sentiment", 0), ("sentiment", 1)]
    assert all(r in rows for r in written)  # finished rows were kept, not redone
    for entry in ActivationCache(tmp_path / "cache").entries():  # every cache entry complete
        assert (tmp_path / "cache" / entry["key"] / "layers.npy").stat().st_size > 0


@pytest.mark.slow
def test_submitit_local_executor_runs_the_grid(tmp_path, elmo_fixtures):
    """The SLURM launcher's engine, submitit, with its local executor."""
    command = _sweep_command(tmp_path, elmo_fixtures, "hydra/launcher=submitit_local", "task=pos,sentiment", "embedder=elmo")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(r["task"] for r in _rows(tmp_path)) == ["pos", "sentiment"]
    assert (tmp_path / "sweep" / "summary.csv").is_file()
