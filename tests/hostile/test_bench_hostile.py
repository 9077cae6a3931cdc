"""``elmo-bench`` against damaged results, unusable results folders and data paths that are
not files: each a real run in a fresh process, checked for its status, its one line and
what it left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from commands_under_test import ROOT, assert_one_line, read_only_folder, run_command, snapshot, tmpfs

SST = ROOT / "tests" / "tasks" / "data" / "sst_tiny.txt"


def bench(tmp_path: Path, results: Path, *overrides: str, data: Path = SST):
    return run_command(
        [
            "-m", "tasks.run", "task=sentiment", "embedder=random", "task.hub=null",
            f"task.files.train={data}", f"task.files.dev={data}", f"task.files.test={data}",
            "training.max_epochs=1", "cache.enabled=false", "trainer.enable_progress_bar=false",
            f"results_dir={results}", *overrides,
        ],
        cwd=tmp_path,
    )


def rows(results: Path) -> list[Path]:
    return [p for p in results.rglob("seed*.json") if p.name.count(".") == 1]


def test_a_damaged_row_is_kept_aside_and_the_run_made_again(tmp_path):
    results = tmp_path / "results"
    assert bench(tmp_path, results).status == 0
    (row,) = rows(results)
    good = json.loads(row.read_text())
    row.write_text(row.read_text()[:200])  # cut short, as by a full disk or a killed editor

    again = bench(tmp_path, results)

    assert again.status == 0, again.stderr[-2000:]
    assert "cannot be read back" in again.stdout + again.stderr and "Traceback" not in again.stderr
    assert row.with_suffix(".damaged").read_text() == json.dumps(good, indent=2, sort_keys=True)[:200]
    remade = json.loads(row.read_text())
    assert remade["metrics"] == good["metrics"]  # the same run, computed again


def test_a_results_path_that_is_a_file_fails_before_training(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file\n")
    outcome = bench(tmp_path, taken / "runs")
    assert_one_line(outcome, "elmo-bench", "taken")
    assert taken.read_text() == "a file\n" and "epoch 0" not in outcome.stderr


def test_a_read_only_results_folder_fails_before_training(tmp_path):
    with read_only_folder(tmp_path / "ro") as folder:
        outcome = bench(tmp_path, folder / "runs")
    assert_one_line(outcome, "elmo-bench", "ro")
    assert "epoch 0" not in outcome.stderr


def test_a_full_disk_under_the_results_leaves_no_partial_file(tmp_path):
    with tmpfs(tmp_path / "small", "size=8k") as folder:
        (folder / "runs").mkdir()
        outcome = bench(tmp_path, folder / "runs")
        left = snapshot(folder)
    assert_one_line(outcome, "elmo-bench", "small")
    assert not [name for name in left if ".tmp" in name or name.startswith(".")], left
    for name, content in left.items():  # whatever is there is whole
        if name.endswith(".json"):
            json.loads(content)


@pytest.mark.parametrize("kind", ["device", "folder"])
def test_a_data_path_that_is_not_a_file_is_one_line(tmp_path, kind):
    data = Path("/dev/null") if kind == "device" else tmp_path / "folder"
    if kind == "folder":
        data.mkdir()
    outcome = bench(tmp_path, tmp_path / "results", data=data)
    assert_one_line(outcome, "elmo-bench", str(data))
    assert not rows(tmp_path / "results")
