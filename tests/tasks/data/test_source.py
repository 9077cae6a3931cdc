"""Where a task's splits come from: local files when they all exist, else the hub."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tasks.data.files import DataFormatError
from tasks.data.source import SPLITS, data_source, read_splits, resolve_path
from tasks.data.sst import read_sst

DATA = Path(__file__).parent
ROOT = Path(__file__).resolve().parents[3]
SST = DATA / "sst_tiny.txt"


def test_a_relative_path_is_found_from_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = SST.relative_to(ROOT)

    assert resolve_path(str(relative)) == ROOT / relative
    assert resolve_path("no/such/file.txt") == Path("no/such/file.txt")
    assert resolve_path(str(SST)) == SST
    assert resolve_path(None) is None


def test_data_source_prefers_complete_local_files(caplog):
    files = dict.fromkeys(SPLITS, str(SST))
    some_missing = {**files, "test": str(DATA / "no_such_file.txt")}

    assert data_source(files, {"name": "sst5"}, "sentiment") == "files"
    with caplog.at_level(logging.WARNING, logger="tasks.data.source"):
        assert data_source(some_missing, {"name": "sst5"}, "sentiment") == "hub"
    assert "no_such_file.txt" in caplog.text
    with pytest.raises(
        FileNotFoundError, match=r"sentiment: data file\(s\) not found: .*no_such_file"
    ):
        data_source(some_missing, None, "sentiment")


def test_read_splits_reads_every_split_with_its_cap():
    files = dict.fromkeys(SPLITS, str(SST))

    kind, splits = read_splits("sentiment", files, None, read_sst, {"train": 3})

    assert kind == "files"
    assert {split: len(examples) for split, (examples, _) in splits.items()} == {
        "train": 3,
        "dev": 4,
        "test": 4,
    }
    assert splits["dev"][1] == str(SST)
    with pytest.raises(ValueError, match=r"task.max_samples: splits must be among .*'validation'"):
        read_splits("sentiment", files, None, read_sst, {"validation": 3})


def test_an_empty_split_names_its_source():
    files = dict.fromkeys(SPLITS, str(SST))

    def read_nothing(path: Path, max_samples: int | None) -> list[str]:
        return []

    with pytest.raises(DataFormatError, match=r"sst_tiny\.txt: the train split has no examples"):
        read_splits("sentiment", files, None, read_nothing)
