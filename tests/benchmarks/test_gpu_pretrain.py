"""The GPU pretraining route (``benchmarks/gpu_pretrain.sh``), run on a CPU: its stage,
its run of ``elmo-pretrain`` and the export it splits for the trip back."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from elmo import BiLM

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks/gpu_pretrain.sh"
TINY = [
    "vocab_size=100", "cutoffs=[20]", "heldout_fraction=0.05", "batch_tokens=256", "heldout_sentences=50",
    "model.lstm.dim=32", "model.lstm.projection_dim=16", "model.char_cnn.embedding.dim=4",
    "model.char_cnn.filters=[[1,8],[2,8]]", "trainer.val_check_interval=5", "trainer.max_steps=10",
]


def _run(stage: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The script calls `python3`: make that the interpreter running these tests (a virtual
    # environment's, not activated when CI calls it by path), which has the packages.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = os.environ | {"GPU_STAGE": str(stage), "ACCELERATOR": "cpu", "PATH": path}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_an_unprepared_stage_is_one_line(tmp_path):
    done = _run(tmp_path / "stage", "train", str(tmp_path / "out"), "00:00:01:00")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "is not prepared" in done.stderr


@pytest.mark.slow
def test_the_route_trains_and_brings_back_a_loadable_export(tmp_path):
    stage = tmp_path / "stage"
    (stage / "wheels").mkdir(parents=True)  # this machine has the packages already
    (stage / "corpus").mkdir()
    rng = random.Random(0)
    words = ["the", "cat", "dog", "sees", "a", "bird", "finds", "man", "near", "river"]
    lines = [" ".join(rng.choices(words, k=rng.randint(4, 12))).capitalize() + "." for _ in range(1000)]
    with gzip.open(stage / "corpus/text.txt.gz", "wt", encoding="utf-8") as f:
        f.write("\n\n".join(lines) + "\n")
    out = tmp_path / "out"
    done = _run(stage, "train", str(out), "00:00:05:00", *TINY)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "hardware.txt").read_text().startswith("cpu: ")
    assert '"steps": 10' in (out / "metrics.json").read_text()
    export = tmp_path / "export"
    export.mkdir()
    with open(tmp_path / "export.tar", "wb") as whole:
        for part in sorted(out.glob("export.tar.part-*")):
            whole.write(part.read_bytes())
    with tarfile.open(tmp_path / "export.tar") as archive:
        archive.extractall(export, filter="data")
    bilm = BiLM.from_allennlp(export / "options.json", export / "weights.hdf5")
    assert bilm.embed_sentences([["a", "cat"]])[0].shape == (3, 2, 32)
