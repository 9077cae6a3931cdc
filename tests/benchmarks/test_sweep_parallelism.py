"""The sweep-parallelism benchmark: which layouts it compares, the work it gives each, and
one real (tiny) measurement of both layouts of two cores."""

from __future__ import annotations

import argparse
import re

import pytest

from benchmarks.sweep_parallelism import layouts, main, multirun


@pytest.mark.parametrize(
    ("cores", "expected"),
    [(1, [(1, 1)]), (2, [(1, 2), (2, 1)]), (6, [(1, 6), (2, 3), (3, 2), (6, 1)]), (7, [(1, 7), (7, 1)])],
)
def test_layouts_use_every_core_and_start_with_one_job(cores, expected):
    assert layouts(cores) == expected


def test_every_run_trains_the_same_epochs_without_early_stopping(tmp_path):
    args = argparse.Namespace(task="ner", embedder="elmo", epochs=3, overrides=["task.max_samples=50"])
    command = multirun(2, 1, 4, args, str(tmp_path))
    assert "seed=0,1,2,3" in command and "hydra.launcher.n_jobs=2" in command and "threads=1" in command
    assert "training.max_epochs=3" in command and "training.patience=4" in command  # patience > epochs
    assert f"results_dir={tmp_path}" in command and f"hydra.sweep.dir={tmp_path}/multirun" in command
    assert command[-1] == "task.max_samples=50"


@pytest.mark.slow
def test_a_tiny_measurement_prints_both_layouts_of_two_cores_and_their_ratio(capsys, tmp_path):
    main([
        "--cores", "2", "--epochs", "1", "--embedder", "random",
        "task.max_samples=24", "task.hub=null", f"cache.dir={tmp_path / 'cache'}",
        "trainer.enable_progress_bar=false",
    ])
    out = capsys.readouterr().out
    assert re.search(r"^2 cores of \d+ \(.+\), Python \S+, torch \S+$", out, re.M)
    assert "2 runs of task=pos embedder=random, 1 epochs each" in out
    rows = re.findall(r"^(\d) x (\d) +([\d.]+) s +([\d.]+) +([\d.]+)x$", out, re.M)
    assert [(jobs, threads) for jobs, threads, *_ in rows] == [("1", "2"), ("2", "1")]
    (_, _, one_job, _, one_ratio), (_, _, two_jobs, rate, two_ratio) = rows
    assert float(one_ratio) == 1.0
    assert float(two_ratio) == pytest.approx(float(one_job) / float(two_jobs), rel=0.02)  # printed rounded
    assert float(rate) == pytest.approx(2 * 3600 / float(two_jobs), rel=0.02)
