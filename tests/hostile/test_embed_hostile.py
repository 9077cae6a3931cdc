"""``elmo-embed`` against hostile inputs and machines: each failure is one line, status 2,
no traceback, and leaves the folder as it was (no temporary file, an old output intact)."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from commands_under_test import assert_one_line, read_only_folder, run_command, snapshot, tmpfs

EMBED = ["-m", "elmo.embed"]
SENTENCES = [f"the cat number {i} sat on the mat near the big red door ." for i in range(300)]


@pytest.fixture
def work(tmp_path, elmo_fixtures) -> Path:
    """A folder with an input file and a copy of the fixture biLM."""
    (tmp_path / "in.txt").write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    shutil.copy(elmo_fixtures / "options.json", tmp_path / "options.json")
    shutil.copy(elmo_fixtures / "lm_weights.hdf5", tmp_path / "weights.hdf5")
    return tmp_path


def embed(work: Path, output: str | Path = "out.hdf5", *extra: str, **kwargs):
    model = ["--options-file", str(work / "options.json"), "--weight-file", str(work / "weights.hdf5")]
    return run_command([*EMBED, str(work / "in.txt"), str(output), *model, *extra], cwd=work, **kwargs)


def test_a_file_size_limit_fails_cleanly_and_keeps_the_old_output(work):
    (work / "out.hdf5").write_bytes(b"the previous output")
    before = snapshot(work)
    outcome = embed(work, "out.hdf5", file_size_limit=64 * 1024)  # ulimit -f: far below the output
    assert_one_line(outcome, "elmo-embed", "out.hdf5", "File too large")
    assert snapshot(work) == before  # no temporary file, the old output untouched


def test_a_full_disk_fails_cleanly_and_leaves_nothing(work):
    with tmpfs(work / "small", "size=256k") as disk:
        outcome = embed(work, disk / "out.hdf5")
        assert_one_line(outcome, "elmo-embed", "out.hdf5", "No space left")
        assert list(disk.iterdir()) == []


def test_a_read_only_folder_is_refused_before_the_model_loads(work):
    with read_only_folder(work / "ro") as folder:
        outcome = embed(work, folder / "out.hdf5")
        assert_one_line(outcome, "elmo-embed", str(folder))
        assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "fragment"),
    [("in.txt/out.hdf5", "does not exist"), (".", "is a directory")],
    ids=["below-a-file", "a-folder"],
)
def test_an_output_path_that_cannot_be_a_file(work, output, fragment):
    before = snapshot(work)
    assert_one_line(embed(work, output), "elmo-embed", fragment)
    assert snapshot(work) == before


def test_an_options_file_that_is_a_folder(work):
    outcome = run_command(
        [*EMBED, "in.txt", "out.hdf5", "--options-file", str(work), "--weight-file", "weights.hdf5"], cwd=work
    )
    assert_one_line(outcome, "elmo-embed", str(work), "is a folder")
    assert not (work / "out.hdf5").exists()


def _rewrite_dataset(weights: Path, name: str, value: np.ndarray | None = None, **create) -> None:
    with h5py.File(weights, "r+") as file:
        old = file[name][...]
        del file[name]
        file.create_dataset(name, data=old if value is None else value, **create)


def test_nan_weights_are_refused_naming_the_dataset(work):
    with h5py.File(work / "weights.hdf5", "r+") as file:
        file["CNN_proj/W_proj"][0, 0] = np.nan
    outcome = embed(work)
    assert_one_line(outcome, "elmo-embed", "weights.hdf5", "CNN_proj/W_proj", "not finite")
    assert not (work / "out.hdf5").exists()


def test_an_infinite_bias_is_refused(work):
    with h5py.File(work / "weights.hdf5", "r+") as file:
        file["CNN/b_cnn_0"][0] = np.inf
    assert_one_line(embed(work), "elmo-embed", "CNN/b_cnn_0", "not finite")


def test_a_weight_dataset_of_strings_is_refused(work):
    with h5py.File(work / "weights.hdf5", "r") as file:
        shape = file["CNN_proj/b_proj"].shape
    strings = np.array(["x"] * int(np.prod(shape)), dtype=object).reshape(shape)
    _rewrite_dataset(work / "weights.hdf5", "CNN_proj/b_proj", strings, dtype=h5py.string_dtype())
    assert_one_line(embed(work), "elmo-embed", "CNN_proj/b_proj", "dtype")


def test_a_truncated_weight_file_is_refused(work):
    weights = work / "weights.hdf5"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert_one_line(embed(work), "elmo-embed", "weights.hdf5")


def test_an_input_that_is_not_utf8_names_the_line(work):
    (work / "in.txt").write_bytes(b"fine line\nbad \xff byte\n")
    assert_one_line(embed(work), "elmo-embed", "in.txt", "line 2")


def test_debug_flag_and_variable_show_the_traceback(work):
    (work / "in.txt").write_text("hello\n", encoding="utf-8")
    shown = [embed(work, "in.txt/out.hdf5", "--debug"), embed(work, "in.txt/x", env={"ELMO_BENCH_DEBUG": "1"})]
    for outcome in shown:
        assert outcome.status != 0
        assert "Traceback" in outcome.stderr


def test_the_written_file_is_complete_after_a_normal_run(work):
    """The same command without a limit: the output is whole, nothing else is left."""
    outcome = embed(work, "out.hdf5", "--layers", "top")
    assert outcome.status == 0, outcome.stderr
    with h5py.File(work / "out.hdf5", "r") as file:
        assert len(file) == len(SENTENCES) + 1 and np.isfinite(file["0"][...]).all()
    assert sorted(p.name for p in work.iterdir()) == ["in.txt", "options.json", "out.hdf5", "weights.hdf5"]
