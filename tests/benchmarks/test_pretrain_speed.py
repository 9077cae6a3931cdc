"""The pretraining throughput benchmark: one run times both LSTM implementations on the
same batches and checks that they agree."""

from __future__ import annotations

import re

import torch

from benchmarks.pretrain_speed import main


def test_one_run_prints_both_rates_their_ratio_and_their_agreement(capsys):
    threads = torch.get_num_threads()
    try:
        main(["--tiny", "--steps", "2", "--warmup", "1", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert re.search(r"machine: \d+ cores, torch \S+, 1 threads", out)
    rates = {name: float(rate) for name, rate in re.findall(r"^(old|new): (\d+) tokens/s over 2 steps", out, re.M)}
    assert set(rates) == {"old", "new"} and all(rate > 0 for rate in rates.values())
    ratio = float(re.search(r"^new/old: ([\d.]+)x tokens/s", out, re.M).group(1))
    assert abs(ratio - rates["new"] / rates["old"]) < 0.01
    loss_gap, grad_gap = map(float, re.search(r"loss difference\| (\S+), largest gradient difference (\S+)", out).groups())
    assert loss_gap < 1e-5 and grad_gap < 1e-4
