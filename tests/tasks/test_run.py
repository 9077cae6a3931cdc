"""``elmo-bench`` end to end: every task config, rows, predictions, resuming, determinism, failures."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import re
from dataclasses import fields
from pathlib import Path

import pytest
from omegaconf import OmegaConf, open_dict

from elmo.errors import ConfigError
from elmo.lm import NonFiniteLossError
from run_helpers import ELMO_FIXTURES, ROOT, fixture_embedder, run_config
from tasks.data.source import resolve_path
from tasks.embedders.elmo import ElmoEmbedder
from tasks.reports.rows import ResultRow
from tasks.run import run

TASKS = sorted(path.stem for path in (ROOT / "conf" / "task").glob("*.yaml"))
ROW_KEYS = {field.name for field in fields(ResultRow)}
TINY = ["task.max_samples=24", "training.max_epochs=2", "training.batch_tokens=256"]
SAMPLES = ROOT / "tests" / "tasks" / "data"


def sample_overrides(task: str, overrides: list[str], tmp_path: Path) -> list[str]:
    """The task's own files when they are all here, else its repository samples (samples.yaml)."""
    cfg = run_config([f"task={task}", *overrides], tmp_path)
    files = [path for path in (cfg.task.get("files") or {}).values() if path]
    if files and all(resolve_path(path).exists() for path in files):
        return []
    samples = OmegaConf.load(SAMPLES / "samples.yaml")
    if task not in samples:
        pytest.fail(f"task {task}: its files are not here and tests/tasks/data/samples.yaml has no entry for it")
    return [re.sub(r"=(?!\[)(.+)$", lambda m: f"={SAMPLES / m.group(1)}", item) for item in samples[task]]


def _tiny_run(task: str, elmo_fixtures: Path, tmp_path: Path, *extra: str) -> dict:
    overrides = [f"task={task}", *TINY, *fixture_embedder(elmo_fixtures), *extra]
    cfg = run_config([*overrides, *sample_overrides(task, list(extra), tmp_path)], tmp_path)
    with open_dict(cfg):
        cfg.task.hub = None  # never reach for the network in tests
    return run(cfg)


@pytest.mark.parametrize("task", TASKS)
def test_every_task_config_trains_and_writes_a_row(task, tmp_path):
    """A new conf/task/*.yaml is tested here without editing this file.

    It runs anywhere: on the repository's samples when the task's files are not here, and
    on the shipped biLM when the AllenNLP fixture biLM is not.
    """
    model = [] if not (ELMO_FIXTURES / "lm_weights.hdf5").is_file() else fixture_embedder(ELMO_FIXTURES)
    cfg = run_config([f"task={task}", *TINY, *model, *sample_overrides(task, [], tmp_path)], tmp_path)
    with open_dict(cfg):
        cfg.task.hub = None  # never reach for the network in tests
    row = run(cfg)
    assert ROW_KEYS <= set(row)
    metric = row["metric"]
    assert {f"val/{metric}", f"test/{metric}"} <= set(row["metrics"])
    assert {f"test/{name}" for name in row["secondary_metrics"]} <= set(row["metrics"])
    assert all(0.0 <= value <= 100.0 for value in row["metrics"].values())
    assert len(row["scalar_mix"]["weights"]) == 3 and abs(sum(row["scalar_mix"]["weights"]) - 1) < 1e-5
    assert row["trainable_parameters"] > 0 and row["tokens_per_second"] > 0
    assert row["stopped_by"] in ("early_stopping", "max_epochs") and len(row["learning_curve"]) == row["epochs"]
    assert row["learning_curve"][row["best_epoch"]] == max(row["learning_curve"]) == row["metrics"][f"val/{metric}"]
    assert row["capped"] is True
    row_file = next((tmp_path / "results").rglob("seed0-*[0-9a-f].json"))
    assert json.loads(row_file.read_text()) == row
    predictions = row_file.parent / row["predictions"]
    assert predictions.is_file() and predictions.stat().st_size > 0
    scores = json.loads((row_file.parent / row["example_scores"]).read_text())
    parts = scores["metrics"][metric]
    assert 100 * sum(parts["num"]) / sum(parts["den"]) == pytest.approx(row["metrics"][f"test/{metric}"], abs=1e-3)


@pytest.mark.parametrize(
    ("overrides", "how"),
    [
        (["training.max_epochs=1"], "max_epochs"),
        (["training.max_epochs=60", "training.patience=0"], "early_stopping"),
        (["training.max_epochs=100000", "training.patience=100000", "training.max_time=00:00:00:03"], "max_time"),
    ],
)
def test_the_row_says_what_stopped_training_and_keeps_every_epoch(overrides, how, elmo_fixtures, tmp_path):
    row = _tiny_run("sentiment", elmo_fixtures, tmp_path, *overrides)
    assert row["stopped_by"] == how
    curve, rates = row["learning_curve"], row["learning_rates"]
    assert len(curve) == len(rates) == row["epochs"] >= 1
    assert curve[row["best_epoch"]] == max(curve) == row["metrics"]["val/accuracy"]
    if how == "max_epochs":
        assert row["epochs"] == 1
    if how == "early_stopping":  # patience 0: the first epoch that is no better ends it
        assert row["epochs"] < 60 and row["best_epoch"] == row["epochs"] - 2
        assert all(a < b for a, b in zip(curve[:-1], curve[1:-1]))
        assert curve[-1] <= curve[-2]


def test_tagger_predictions_are_conll_columns(elmo_fixtures, tmp_path):
    row = _tiny_run("pos", elmo_fixtures, tmp_path)
    path = next((tmp_path / "results").rglob(row["predictions"]))
    blocks = path.read_text(encoding="utf-8").strip("\n").split("\n\n")
    assert len(blocks) == 24  # one per test sentence (max_samples caps every split)
    assert all(len(line.split("\t")) == 3 for block in blocks for line in block.splitlines())


def test_a_rerun_finds_its_row_and_skips(elmo_fixtures, tmp_path, caplog):
    first = _tiny_run("sentiment", elmo_fixtures, tmp_path)
    row_file = next((tmp_path / "results").rglob("seed0-*[0-9a-f].json"))
    stamp = row_file.stat().st_mtime_ns
    assert _tiny_run("sentiment", elmo_fixtures, tmp_path) == first
    assert row_file.stat().st_mtime_ns == stamp
    other_seed = _tiny_run("sentiment", elmo_fixtures, tmp_path, "seed=1")
    assert other_seed["seed"] == 1 and len(list((tmp_path / "results").rglob("seed*-*[0-9a-f].json"))) == 2

    legacy = {key: value for key, value in first.items() if key != "model_fingerprints"}
    row_file.write_text(json.dumps(legacy), encoding="utf-8")  # as rows were written before
    with caplog.at_level(logging.WARNING, logger="tasks.run"):
        assert _tiny_run("sentiment", elmo_fixtures, tmp_path) == legacy
    assert "written before rows recorded their model: reused unchecked" in caplog.text


def _nudge_first_weight(weight_file: Path) -> None:
    """Another biLM under the same path: one weight matrix scaled, as a retrained model differs."""
    import h5py

    with h5py.File(weight_file, "r+") as weights:
        names: list[str] = []
        weights.visititems(lambda name, item: names.append(name) if getattr(item, "ndim", 0) == 2 else None)
        matrix = weights[names[0]]
        matrix[...] = matrix[...] * 1.01


def test_a_row_made_with_other_weights_stops_the_rerun_and_is_kept(elmo_fixtures, tmp_path, caplog):
    model = tmp_path / "model"
    model.mkdir()
    for name in ("options.json", "lm_weights.hdf5"):
        shutil.copy(elmo_fixtures / name, model / name)
    first = _tiny_run("sentiment", model, tmp_path)
    fingerprint = ElmoEmbedder(model / "options.json", model / "lm_weights.hdf5").fingerprint()
    assert first["model_fingerprints"] == {"embedder": fingerprint}
    row_file = next((tmp_path / "results").rglob("seed0-*[0-9a-f].json"))
    written = row_file.read_bytes()
    assert _tiny_run("sentiment", model, tmp_path) == first  # same weights: reused

    _nudge_first_weight(model / "lm_weights.hdf5")
    with pytest.raises(ConfigError) as error:
        _tiny_run("sentiment", model, tmp_path)
    message = str(error.value)
    assert str(row_file) in message and f"another elmo model (fingerprint {fingerprint[:12]}, now " in message
    assert "\n" not in message and row_file.read_bytes() == written

    (model / "lm_weights.hdf5").unlink()  # nothing to compare with: reused, with a warning
    with caplog.at_level(logging.WARNING, logger="tasks.run"):
        assert _tiny_run("sentiment", model, tmp_path) == first
    assert "cannot check its elmo model" in caplog.text


def test_same_seed_same_metrics(elmo_fixtures, tmp_path):
    first = _tiny_run("pos", elmo_fixtures, tmp_path / "a")  # cold cache: loads the biLM
    second = _tiny_run("pos", elmo_fixtures, tmp_path / "b", f"cache.dir={tmp_path / 'a' / 'cache'}")  # warm
    assert first["metrics"] == second["metrics"] and first["scalar_mix"] == second["scalar_mix"]
    assert first["config_hash"] == second["config_hash"]  # paths are not part of the hash


def test_a_diverging_loss_stops_the_run_naming_the_step(elmo_fixtures, tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"at step \d+"):
        _tiny_run("pos", elmo_fixtures, tmp_path, "head=linear", "+mix.gamma=1e38")
    assert not list((tmp_path / "results").rglob("*.json"))  # no row for a failed run


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tasks.run", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("training.max_epochs=abc", "training.max_epochs"),
        ("+trainer.max_epochs=1", "set training.max_epochs instead"),
        ("task.max_samples=0", "task.max_samples"),
        ("+task.no_such_option=1", "no_such_option"),
        ("mix.fixed_weights=[0.5,0.5]", "mix"),
        ("training.patience=-1", "training.patience"),
        ("training.lr_decay=1.5", "training.lr_decay"),
        ("training.lr_decay_patience=-1", "training.lr_decay_patience"),
    ],
)
def test_config_errors_are_one_line_before_any_data_is_read(override, message, tmp_path):
    result = _cli("task=pos", "task.files.train=/nowhere/train.conllu", "task.hub=null", override, f"results_dir={tmp_path}")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("elmo-bench: ") and message in last and "nowhere" not in last
    assert "Traceback" not in result.stderr


def test_unknown_embedder_name_is_a_clear_error():
    result = _cli("embedder=no_such_embedder")
    assert result.returncode != 0
    assert "no_such_embedder" in result.stderr and "embedder" in result.stderr


def test_bad_data_file_is_one_line_with_file_and_line(tmp_path):
    bad = ROOT / "tests" / "tasks" / "data" / "ud_bad_columns.conllu"
    result = _cli(
        "task=pos", f"task.files.train={bad}", f"task.files.dev={bad}", f"task.files.test={bad}",
        f"results_dir={tmp_path}", "task.hub=null",
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("elmo-bench: ") and "ud_bad_columns.conllu" in last and "line" in last
    assert "Traceback" not in result.stderr


def test_glove_plus_elmo_trains_on_the_members_joined_features(elmo_fixtures, tmp_path):
    fixture = [o.replace("embedder.", "embedder.embedders.1.", 1) for o in fixture_embedder(elmo_fixtures)]
    cfg = run_config(["task=pos", *TINY, "embedder=glove_elmo", *fixture], tmp_path)
    row = run(cfg)
    assert row["embedder"] == "glove+elmo"
    elmo = ElmoEmbedder(elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5")
    assert row["model_fingerprints"] == {"embedder.embedders.1": elmo.fingerprint()}  # GloVe: named by its config
    assert len(row["scalar_mix"]["weights"]) == 3  # ELMo's layers; GloVe is repeated across them
    assert 0 < row["coverage"]["found"] <= row["coverage"]["tokens"]
