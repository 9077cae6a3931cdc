"""``benchmarks/gpu_check.sh`` refuses a missing stage with one line (its run needs a GPU)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_unprepared_stage_is_named_with_the_command_that_prepares_it(tmp_path):
    stage = tmp_path / "stage"
    (stage / "wheels").mkdir(parents=True)  # wheels but no UD English-EWT
    result = subprocess.run(
        ["bash", str(ROOT / "benchmarks/gpu_check.sh"), str(tmp_path / "out")],
        capture_output=True, text=True, env={"GPU_STAGE": str(stage), "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(stage) in result.stderr
    assert "gpu_pretrain.sh prepare ../shared/data/ud_english_ewt" in result.stderr
    assert not (tmp_path / "out").exists()
