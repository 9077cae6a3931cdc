"""The pretraining throughput benchmark: one run times both LSTM implementations on the
same sentences and checks that they agree."""

from __future__ import annotations

import re

import pytest
import torch

from benchmarks.pretrain_speed import main


def run_tiny(capsys: pytest.CaptureFixture[str], *options: str) -> str:
    threads = torch.get_num_threads()
    try:
        main(["--tiny", "--steps", "2", "--warmup", "1", "--threads", "1", *options])
    finally:
        torch.set_num_threads(threads)
    return capsys.readouterr().out


def rates_of(out: str, old_tokens: int, new_tokens: int) -> dict[str, float]:
    found = re.findall(r"^(old|new): batches of (\d+) tokens, (\d+) tokens/s over 2 steps", out, re.M)
    assert {name: int(size) for name, size, _ in found} == {"old": old_tokens, "new": new_tokens}
    return {name: float(rate) for name, _, rate in found}


def test_one_run_prints_both_rates_their_ratio_and_their_agreement(capsys):
    out = run_tiny(capsys)
    assert re.search(r"machine: \d+ cores, torch \S+, 1 threads", out)
    rates = rates_of(out, 2048, 2048)
    assert all(rate > 0 for rate in rates.values())
    ratio = float(re.search(r"^new/old: ([\d.]+)x tokens/s", out, re.M).group(1))
    assert abs(ratio - rates["new"] / rates["old"]) < 0.01
    loss_gap, grad_gap = map(float, re.search(r"loss difference\| (\S+), largest gradient difference (\S+)", out).groups())
    assert loss_gap < 1e-5 and grad_gap < 1e-4


def test_the_old_copy_can_take_batches_of_another_size(capsys):
    out = run_tiny(capsys, "--batch-tokens", "512", "--old-batch-tokens", "128")
    rates = rates_of(out, 128, 512)
    ratio = float(re.search(r"^new/old: ([\d.]+)x tokens/s", out, re.M).group(1))
    assert abs(ratio - rates["new"] / rates["old"]) < 0.01


def test_bfloat16_against_float32_of_the_same_package(capsys):
    out = run_tiny(capsys, "--precision", "bf16-mixed", "--old", "float32")
    assert "old: the package, float32; new: the package, bfloat16 multiplies" in out
    assert re.search(r"^new: .* of the measured bf16 matmul throughput", out, re.M)
    rates = rates_of(out, 2048, 2048)
    assert all(rate > 0 for rate in rates.values())
    loss_gap, grad_gap = map(float, re.search(r"loss difference\| (\S+), largest gradient difference (\S+)", out).groups())
    assert 0 < loss_gap < 1e-2 and 0 < grad_gap < 0.2  # rounded multiplies: close, not equal
