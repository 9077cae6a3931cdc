"""``elmo-pretrain`` over two CPU processes (gloo DDP): one token stream shared by the ranks,
exact resume, and the throughput of one and of two processes (printed, never asserted)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from elmo import BiLM
from elmo.pretrain_config import ConfigError, check_pretrain_config
from test_pretrain import tiny_config, write_corpus

ROOT = Path(__file__).resolve().parents[2]
# The tiny model of test_pretrain, as command-line overrides.
TINY = [
    "heldout_fraction=0.05", "vocab_size=100", "cutoffs=[20]", "heldout_sentences=100", "batch_tokens=256",
    "learning_rate=5e-3", "warmup_steps=20", "model.lstm.dim=32", "model.lstm.projection_dim=16",
    "model.char_cnn.embedding.dim=4", "model.char_cnn.filters=[[1,8],[2,8],[3,16]]", "trainer.max_time=null",
    "trainer.val_check_interval=20", "trainer.log_every_n_steps=10", "trainer.enable_progress_bar=false",
]


@pytest.mark.parametrize("strategy", ["ddp_spawn", "fsdp"])
def test_strategies_other_than_ddp_are_refused(strategy, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", sentences=10)
    with pytest.raises(ConfigError, match="trainer.strategy"):
        check_pretrain_config(tiny_config(tmp_path, corpus, f"trainer.strategy={strategy}", "trainer.devices=2"))


def _pretrain(folder: Path, corpus: Path, *overrides: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "elmo.pretrain", f"corpus=[{corpus}]", f"output_dir={folder}",
         f"prepared_dir={folder.parent / 'prepared'}", *TINY, *overrides],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((folder / "export" / "metrics.json").read_text())


def _tokens_per_second(folder: Path) -> float:
    """The last training throughput logged by the first run in ``folder`` (rank 0's log)."""
    with open(folder / "logs" / "version_0" / "metrics.csv", encoding="utf-8") as f:
        rates = [float(row["train/tokens_per_s"]) for row in csv.DictReader(f) if row["train/tokens_per_s"]]
    return rates[-1]


@pytest.mark.slow
def test_two_processes_share_one_stream_and_resume_exactly(tmp_path, capsys):
    """Rank r reads the stream's batches r, r + 2, ...: two processes step as one process
    that accumulates two consecutive batches per step. Averaging two gradients and
    accumulating two halves are the same float operations up to exact halvings, so the
    weights agree to 1e-6 (in practice bit for bit). The two-process run stops at step 20
    and resumes to 40 from its checkpoint, so the resume is checked on both ranks."""
    corpus = write_corpus(tmp_path / "corpus", sentences=500)
    one = _pretrain(tmp_path / "one", corpus, "trainer.max_steps=40", "+trainer.accumulate_grad_batches=2")
    _pretrain(tmp_path / "two", corpus, "trainer.max_steps=20", "trainer.devices=2", "trainer.strategy=ddp")
    assert (tmp_path / "two" / "checkpoints" / "last.ckpt").is_file()
    two = _pretrain(tmp_path / "two", corpus, "trainer.max_steps=40", "trainer.devices=2", "trainer.strategy=ddp")
    assert two["steps"] == one["steps"] == 40 and two["train_tokens"] == one["train_tokens"]  # both ranks' targets
    assert two["ppl"] == pytest.approx(one["ppl"], rel=1e-6)
    a = BiLM.from_allennlp(tmp_path / "one/export/options.json", tmp_path / "one/export/weights.hdf5")
    b = BiLM.from_allennlp(tmp_path / "two/export/options.json", tmp_path / "two/export/weights.hdf5")
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.allclose(x, y, atol=1e-6)
    single = _pretrain(tmp_path / "single", corpus, "trainer.max_steps=40")
    assert single["train_tokens"] < two["train_tokens"]  # one batch per step instead of two
    with capsys.disabled():
        print(
            f"\npretraining throughput on {os.cpu_count()} cores (tiny model, OMP_NUM_THREADS=1): "
            f"1 process {_tokens_per_second(tmp_path / 'single'):.0f} tokens/s, "
            f"2 processes {_tokens_per_second(tmp_path / 'two'):.0f} tokens/s"
        )
