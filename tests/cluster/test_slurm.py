"""A real single-node SLURM cluster (``.ci/slurm``): a two-point sweep through
``hydra/launcher=slurm_cpu`` as shipped, its summary, and a rerun that skips both points.

Needs root (the script installs slurmctld, slurmd and munge with apt-get when missing).
Outside CI a machine that cannot run the cluster skips with the reason; under ``CI=true``
it fails, with the daemons' log tails.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[2]
SLURM = ROOT / ".ci" / "slurm"
CPU_PRESET = ROOT / "conf" / "hydra" / "launcher" / "slurm_cpu.yaml"
CANNOT_RUN_HERE = 77  # .ci/slurm start: not root, or SLURM missing and no apt-get
# Every run setting of the sweep in one place: a tiny POS run on random vectors, two seeds.
SWEEP_OVERRIDES = (
    "task=pos",
    "embedder=random",
    "seed=0,1",
    "task.max_samples=24",
    "training.max_epochs=1",
    "task.hub=null",
    "trainer.enable_progress_bar=false",
)
SWEEP_TIMEOUT_S = 300


def _cluster_state(environment: dict[str, str]) -> str:
    """The queue and the daemons' log tails, for a failure message."""
    queue = subprocess.run(
        [str(SLURM), "exec", "squeue", "--format=%i %T %r"], capture_output=True, text=True, env=environment
    )
    logs = subprocess.run([str(SLURM), "logs"], capture_output=True, text=True, env=environment)
    return f"squeue:\n{queue.stdout}{queue.stderr}\n{logs.stdout}"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running cluster; yields the environment that points ``.ci/slurm`` at it."""
    environment = {**os.environ, "ELMO_SLURM_DIR": str(tmp_path_factory.mktemp("slurm"))}
    start = subprocess.run([str(SLURM), "start"], capture_output=True, text=True, env=environment, timeout=600)
    if start.returncode == CANNOT_RUN_HERE and os.environ.get("CI") != "true":
        pytest.skip(f"no SLURM cluster on this machine: {start.stderr.strip()}")
    if start.returncode != 0:
        pytest.fail(f".ci/slurm start failed (exit {start.returncode}):\n{start.stdout}{start.stderr}", pytrace=False)
    try:
        yield environment
    finally:
        subprocess.run([str(SLURM), "stop"], env=environment, timeout=120)


def _sweep(environment: dict[str, str], tmp_path: Path, sweep_dir: str) -> subprocess.CompletedProcess:
    command = [
        str(SLURM), "exec", sys.executable, "-m", "tasks.run", "-m", *SWEEP_OVERRIDES,
        "hydra/launcher=slurm_cpu", f"results_dir={tmp_path / 'sweep' / 'runs'}",
        f"cache.dir={tmp_path / 'cache'}", f"hydra.sweep.dir={tmp_path / sweep_dir}",
    ]
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, timeout=SWEEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the sweep did not end within {SWEEP_TIMEOUT_S} s\n{_cluster_state(environment)}", pytrace=False)
    assert result.returncode == 0, f"{result.stderr[-3000:]}\n{_cluster_state(environment)}"
    return result


def _row_files(tmp_path: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in (tmp_path / "sweep" / "runs").rglob("*.json")
        if not path.name.endswith((".predictions.json", ".examples.json"))
    }


@pytest.mark.slow
def test_a_sweep_through_the_cpu_preset_on_a_real_cluster_writes_rows_and_summary_and_resumes(
    slurm_cluster, tmp_path
):
    _sweep(slurm_cluster, tmp_path, "first")
    rows = [json.loads(data) for data in _row_files(tmp_path).values()]
    assert sorted((row["task"], row["embedder"], row["seed"]) for row in rows) == [("pos", "random", 0), ("pos", "random", 1)]
    # Each job ran with as many torch threads as SLURM gave it CPUs.
    cpus = OmegaConf.load(CPU_PRESET).cpus_per_task
    assert [row["config"]["threads"] for row in rows] == [cpus, cpus]
    (submission,) = (tmp_path / "first" / ".submitit").glob("*/*_submission.sh")
    script = submission.read_text()
    assert f"#SBATCH --cpus-per-task={cpus}" in script and "gpu" not in script and "gres" not in script
    with (tmp_path / "sweep" / "summary.csv").open(newline="") as summary:
        (group,) = csv.DictReader(summary)
    assert (group["task"], group["embedder"], group["n_seeds"], group["seeds"]) == ("pos", "random", "2", "0;1")

    written = _row_files(tmp_path)
    _sweep(slurm_cluster, tmp_path, "rerun")
    assert _row_files(tmp_path) == written  # both points skipped: rows untouched
    job_logs = sorted((tmp_path / "rerun").glob("*/*.log"))
    assert len(job_logs) == 2
    assert all("skipping random: its row exists" in log.read_text() for log in job_logs)
