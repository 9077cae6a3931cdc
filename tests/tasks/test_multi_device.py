"""``elmo-bench`` over several devices: refused set-ups, and two CPU processes (gloo DDP)
that write the one row a single process writes."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from run_helpers import ROOT, fixture_embedder
from tasks.batching import TokenBudgetBatches

BUDGET = 12
PATTERN = ["DET", "ADJ", "NOUN", "VERB", "DET", "NOUN"]
WORDS = {"NOUN": ["cat", "dog", "bird", "tree"], "VERB": ["sees", "likes", "finds"], "DET": ["the", "a"], "ADJ": ["red", "small"]}


def _bench(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tasks.run", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
    )


def _write_conllu(path: Path, sentences: int, seed: int) -> list[int]:
    """Sentences of 4 or 6 tokens whose tag follows from the word; returns their lengths."""
    rng = random.Random(seed)
    lengths = []
    with open(path, "w", encoding="utf-8") as f:
        for number in range(sentences):
            tags = PATTERN[: rng.choice([4, 6])]
            f.write(f"# sent_id = s{number}\n")
            for index, tag in enumerate(tags, 1):
                word = rng.choice(WORDS[tag])
                f.write(f"{index}\t{word}\t{word}\t{tag}\t_\t_\t0\tdep\t_\t_\n")
            f.write("\n")
            lengths.append(len(tags))
    return lengths


def _task(tmp_path: Path) -> tuple[list[str], dict[str, int]]:
    """Overrides for a tiny POS task on generated files, and each split's batch count."""
    counts = {}
    overrides = ["task=pos", "task.hub=null", f"training.batch_tokens={BUDGET}"]
    for split, (sentences, seed) in {"train": (8, 1), "dev": (10, 2), "test": (10, 4)}.items():
        lengths = _write_conllu(tmp_path / f"{split}.conllu", sentences, seed)
        counts[split] = len(TokenBudgetBatches(lengths, BUDGET, shuffle=False))
        overrides.append(f"task.files.{split}={tmp_path / f'{split}.conllu'}")
    return overrides, counts


@pytest.mark.parametrize("strategy", ["ddp_spawn", "ddp_fork", "fsdp", "deepspeed"])
def test_strategies_that_lose_results_or_shard_the_head_are_refused_at_once(strategy, tmp_path):
    result = _bench(
        "task=pos", "task.files.train=/nowhere/train.conllu", "task.hub=null", "trainer.devices=2",
        f"trainer.strategy={strategy}", f"results_dir={tmp_path}", f"hydra.run.dir={tmp_path / 'hydra'}",
    )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("elmo-bench: trainer.strategy=") and "ddp" in last and "nowhere" not in last
    assert "Traceback" not in result.stderr


def test_the_run_owns_the_distributed_sampler_setting(tmp_path):
    result = _bench("+trainer.use_distributed_sampler=true", f"results_dir={tmp_path}", f"hydra.run.dir={tmp_path / 'h'}")
    assert result.returncode == 2 and "trainer.use_distributed_sampler cannot be set" in result.stderr


def test_a_multi_device_run_inside_a_local_multirun_is_refused(tmp_path):
    """Each per-device process would start the whole sweep again."""
    task, _ = _task(tmp_path)
    result = _bench(
        "-m", *task, "embedder=random", "embedder.dim=8", "trainer.devices=2", "seed=0,1",
        f"results_dir={tmp_path / 'results'}", f"cache.dir={tmp_path / 'cache'}", f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert "elmo-bench: trainer.devices: a local multirun cannot start 2 processes" in result.stderr
    assert "Traceback" not in result.stderr and not list((tmp_path / "results").rglob("*.json"))


@pytest.mark.slow
def test_two_ddp_processes_write_the_single_process_row(elmo_fixtures, tmp_path):
    """Two gloo processes, each training on every other batch, equal one process that
    accumulates the gradients of two batches per step: same steps, same data, same row.

    The DDP run averages the two batches' gradients in an all-reduce, the single process
    sums half of each; only the order of float additions differs (relative 1e-7), which
    moves no prediction of this run, so the metrics, which count correct tokens, agree to
    1e-6, and the learned mix weights, rounded to six places, to 1e-5.
    """
    task, counts = _task(tmp_path)
    # An even number of training batches: the two ranks' shares are then exactly the pairs
    # one process accumulates (an odd count pads one rank with a repeated batch). Odd
    # evaluation counts: the padding repeats a batch that the scoring must count once.
    assert counts["train"] % 2 == 0 and counts["dev"] % 2 == counts["test"] % 2 == 1
    common = [
        *task, "head=linear", "training.lr=0.05", "training.max_epochs=3", "training.patience=5",
        *fixture_embedder(elmo_fixtures), f"cache.dir={tmp_path / 'cache'}", "trainer.enable_progress_bar=false",
    ]
    one = _bench(*common, "+trainer.accumulate_grad_batches=2", f"results_dir={tmp_path / 'one'}", f"hydra.run.dir={tmp_path / 'h1'}")
    assert one.returncode == 0, one.stderr[-3000:]
    two = _bench(
        *common, "trainer.devices=2", "trainer.strategy=ddp", f"results_dir={tmp_path / 'two'}", f"hydra.run.dir={tmp_path / 'h2'}"
    )
    assert two.returncode == 0, two.stderr[-3000:]
    (row_one,) = (tmp_path / "one").rglob("seed0-*[0-9a-f].json")
    (row_two,) = (tmp_path / "two").rglob("seed0-*[0-9a-f].json")
    files = sorted(path.name.removeprefix(row_two.stem) for path in (tmp_path / "two").rglob("*") if path.is_file())
    assert files == [".examples.json", ".json", ".predictions.conll"]  # rank 0 alone writes
    a, b = json.loads(row_one.read_text()), json.loads(row_two.read_text())
    assert set(a["metrics"]) == set(b["metrics"]) == {"val/accuracy", "test/accuracy"}
    for key, value in a["metrics"].items():
        assert b["metrics"][key] == pytest.approx(value, abs=1e-6), key
    assert b["learning_curve"] == pytest.approx(a["learning_curve"], abs=1e-6)
    assert b["scalar_mix"]["weights"] == pytest.approx(a["scalar_mix"]["weights"], abs=1e-5)
    assert (a["epochs"], a["best_epoch"], a["stopped_by"]) == (b["epochs"], b["best_epoch"], b["stopped_by"])
    examples_one = json.loads(row_one.with_suffix(".examples.json").read_text())
    examples_two = json.loads(row_two.with_suffix(".examples.json").read_text())
    assert examples_two == examples_one and len(examples_two["metrics"]["accuracy"]["den"]) == 10  # each test sentence once
    predictions = row_two.with_suffix(".predictions.conll").read_text()
    assert predictions == row_one.with_suffix(".predictions.conll").read_text()
