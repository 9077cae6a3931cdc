"""The activation cache against damage and misuse: damaged entries heal with one warning,
killed writers' leftovers go, ``elmo-cache clear`` removes only the cache's own files and
refuses a folder that is not a cache."""

from __future__ import annotations

import fcntl
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from commands_under_test import assert_one_line, read_only_folder, run_command, snapshot, tmpfs

from tasks.cache import ActivationCache, texts_fingerprint
from tasks.cache_folder import MARKER, CacheError
from tasks.embedders.elmo import ElmoEmbedder

CACHE = ["-m", "tasks.cache"]
TEXTS = [("The", "cat", "sat", "."), ("Hello",), ("A", "longer", "sentence", "here")]


@pytest.fixture(scope="module")
def embedder(elmo_fixtures):
    return ElmoEmbedder(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")


@pytest.fixture
def filled(embedder, tmp_path) -> tuple[ActivationCache, Path]:
    """A cache with one entry; returns the cache and the entry's folder."""
    cache = ActivationCache(tmp_path / "cache", dtype="float32")
    cache.features(embedder, TEXTS, "pos/train elmo")
    key = cache.key(embedder.fingerprint(), texts_fingerprint(TEXTS))
    return cache, cache.root / key


def _truncate_layers(entry: Path) -> None:
    data = (entry / "layers.npy").read_bytes()
    (entry / "layers.npy").write_bytes(data[: len(data) // 2])


def _corrupt_meta(entry: Path) -> None:
    (entry / "meta.json").write_text('{"tokens": 9, "lay', encoding="utf-8")


def _object_array(entry: Path) -> None:
    np.save(entry / "offsets.npy", np.array([0, "x", None], dtype=object), allow_pickle=True)


def _wrong_dtype(entry: Path) -> None:
    np.save(entry / "layers.npy", np.load(entry / "layers.npy").astype(np.float64))


def _shape_mismatch(entry: Path) -> None:
    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    (entry / "meta.json").write_text(json.dumps(meta | {"tokens": meta["tokens"] + 1}), encoding="utf-8")


def _missing_layers(entry: Path) -> None:
    (entry / "layers.npy").unlink()


@pytest.mark.parametrize(
    "damage", [_truncate_layers, _corrupt_meta, _object_array, _wrong_dtype, _shape_mismatch, _missing_layers]
)
def test_a_damaged_entry_is_one_warning_and_computed_again(filled, embedder, damage, caplog):
    cache, entry = filled
    expected = [cache.features(embedder, TEXTS).get(i) for i in range(len(TEXTS))]
    damage(entry)
    with caplog.at_level(logging.WARNING, logger="tasks.cache"):
        store = cache.features(embedder, TEXTS)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and entry.name in warnings[0] and "damaged" in warnings[0]
    for index, layers in enumerate(expected):
        assert torch.equal(store.get(index), layers)
    assert [e["key"] for e in cache.entries()] == [entry.name]
    siblings = sorted(p.name for p in cache.root.iterdir() if p.name.startswith(f".{entry.name}."))
    assert siblings == [f".{entry.name}.lock"]  # nothing set aside is left


def test_a_damaged_entry_is_shown_and_cleared(filled):
    cache, entry = filled
    _truncate_layers(entry)
    shown = run_command([*CACHE, "show", "--dir", str(cache.root)], cwd=cache.root.parent)
    assert shown.status == 0 and f"{entry.name}  damaged entry" in shown.stdout
    cleared = run_command([*CACHE, "clear", "--dir", str(cache.root)], cwd=cache.root.parent)
    assert cleared.status == 0 and "1 damaged entries" in cleared.stdout and not entry.exists()


def test_a_killed_writers_leftover_is_shown_then_removed_by_the_next_writer(embedder, tmp_path):
    cache = ActivationCache(tmp_path / "cache", dtype="float32")
    key = cache.key(embedder.fingerprint(), texts_fingerprint(TEXTS))
    cache.features(embedder, [("other",)])  # creates and marks the folder
    leftover = cache.root / f".{key}.k1ll3d_"
    leftover.mkdir()
    (leftover / "layers.npy").write_bytes(b"half of an array")
    shown = run_command([*CACHE, "show", "--dir", str(cache.root)], cwd=tmp_path)
    assert f"{leftover.name}  left by an interrupted write" in shown.stdout
    cache.features(embedder, TEXTS)
    assert not leftover.exists() and len(cache.entries()) == 2


def test_clear_refuses_a_folder_that_is_not_a_cache(tmp_path):
    folder = tmp_path / "my_documents"
    (folder / "thesis").mkdir(parents=True)
    (folder / "thesis" / "chapter1.tex").write_text("precious\n")
    lookalike = folder / "0123456789abcdef0123456789abcdef"  # named like an entry, holds no entry files
    lookalike.mkdir()
    (lookalike / "notes.txt").write_text("mine\n")
    (folder / "notes.txt").write_text("also precious\n")
    before = snapshot(folder)
    outcome = run_command([*CACHE, "clear", "--dir", str(folder)], cwd=tmp_path)
    assert_one_line(outcome, "elmo-cache", str(folder), "not an activation cache")
    assert snapshot(folder) == before


def test_clear_refuses_a_file(tmp_path):
    (tmp_path / "a_file").write_text("keep me\n")
    assert_one_line(run_command([*CACHE, "clear", "--dir", "a_file"], cwd=tmp_path), "elmo-cache", "a_file")
    assert (tmp_path / "a_file").read_text() == "keep me\n"


def test_clear_removes_only_the_caches_own_files_and_lists_them(filled):
    cache, entry = filled
    stranger = cache.root / "my_notes.txt"
    stranger.write_text("not the cache's\n")
    lookalike = cache.root / "0123456789abcdef0123456789abcdef"
    lookalike.mkdir()
    (lookalike / "results.csv").write_text("1,2\n")
    outcome = run_command([*CACHE, "clear", "--dir", str(cache.root)], cwd=cache.root.parent)
    assert outcome.status == 0, outcome.stderr
    assert f"removed {entry}" in outcome.stdout and "removed 1 entries" in outcome.stdout
    assert "my_notes.txt" in outcome.stdout.splitlines()[-1]  # reported as left in place
    assert sorted(p.name for p in cache.root.iterdir()) == sorted([MARKER, "my_notes.txt", lookalike.name])
    assert stranger.read_text() == "not the cache's\n" and (lookalike / "results.csv").exists()


def test_a_legacy_cache_without_marker_is_still_cleared(filled):
    cache, entry = filled
    (cache.root / MARKER).unlink()
    outcome = run_command([*CACHE, "clear", "--dir", str(cache.root)], cwd=cache.root.parent)
    assert outcome.status == 0 and not entry.exists()


def test_an_entry_being_written_is_left_alone(filled):
    cache, entry = filled
    with open(cache.root / f".{entry.name}.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running job holds it while it writes
        outcome = run_command([*CACHE, "clear", "--dir", str(cache.root)], cwd=cache.root.parent)
    assert outcome.status == 0 and entry.exists() and "in use" in outcome.stdout
    assert (cache.root / f".{entry.name}.lock").exists()


def test_a_cache_folder_that_is_a_file_or_read_only_is_one_clear_error(embedder, tmp_path):
    (tmp_path / "taken").write_text("a file\n")
    with pytest.raises(CacheError, match="taken: is a file"):
        ActivationCache(tmp_path / "taken").features(embedder, TEXTS)
    assert (tmp_path / "taken").read_text() == "a file\n"
    with read_only_folder(tmp_path / "ro") as folder:
        with pytest.raises(CacheError, match="cannot be written") as raised:
            ActivationCache(folder / "cache").features(embedder, TEXTS)
        assert str(folder) in str(raised.value) and "\n" not in str(raised.value)


def test_a_full_disk_while_writing_an_entry_leaves_no_partial_entry(embedder, tmp_path):
    with tmpfs(tmp_path / "small", "size=8k") as disk:
        cache = ActivationCache(disk / "cache", dtype="float32")
        with pytest.raises(OSError, match="No space left") as raised:
            cache.features(embedder, TEXTS)
        assert str(cache.root) in str(raised.value.filename)
        assert cache.entries() == [] and not [p for p in cache.root.iterdir() if p.is_dir()]
