"""The heads' BiLSTM: PyTorch's packed bidirectional LSTM vs ``BiLstmEncoder``, side by side.

    python -m benchmarks.lstm_packing            # one thread, as each job of a parallel sweep runs
    python -m benchmarks.lstm_packing --threads 2

Both compute the same function (``tests/tasks/test_heads.py`` checks outputs and gradients
against each other). A training step here is forward + backward of one encoder over one
batch shaped like the sweeps' batches: sorted by length, so lengths within a batch differ
by up to ``spread`` tokens, and about ``budget`` padded tokens per batch. The inputs need
gradients, as in a run, where the scalar mix (at least its ``gamma``) precedes every head.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tasks.heads import BiLstmEncoder

# name, input width, hidden units, longest item, length spread within the batch
SHAPES = [
    ("tagger on the shipped ELMo (512)", 512, 128, 40, 6),
    ("tagger on original ELMo (1024)", 1024, 128, 40, 6),
    ("tagger on GloVe 50d", 50, 128, 40, 6),
    ("QA modelling layer (BiDAF G)", 512, 64, 200, 30),
    ("QA modelling layer, equal lengths", 512, 64, 256, 0),
]


class PackedBiLstm(nn.Module):
    """The usual recipe: pack, run a bidirectional ``nn.LSTM``, unpack."""

    def __init__(self, input_dim: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_dim, hidden, batch_first=True, bidirectional=True)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(inputs, mask.sum(dim=1), batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        return pad_packed_sequence(output, batch_first=True, total_length=inputs.shape[1])[0]


def step_seconds(module: nn.Module, inputs: torch.Tensor, mask: torch.Tensor, repeats: int) -> float:
    for _ in range(2):  # warm-up
        module(inputs, mask).sum().backward()
    started = time.perf_counter()
    for _ in range(repeats):
        module(inputs, mask).sum().backward()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=int, default=4096, help="padded tokens per batch")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"{'batch':36s} {'packed ms':>10s} {'ours ms':>9s} {'speed-up':>9s}")
    for name, width, hidden, longest, spread in SHAPES:
        rows = max(1, args.budget // longest)
        lengths = torch.linspace(longest, longest - spread, rows).round().long()
        mask = torch.arange(longest) < lengths.unsqueeze(1)
        inputs = torch.randn(rows, longest, width, requires_grad=True)
        packed = step_seconds(PackedBiLstm(width, hidden), inputs, mask, args.repeats)
        ours = step_seconds(BiLstmEncoder(width, hidden), inputs, mask, args.repeats)
        print(f"{name:36s} {packed * 1e3:10.1f} {ours * 1e3:9.1f} {packed / ours:8.1f}x")
    print(
        f"forward + backward per batch of ~{args.budget} tokens, mean of {args.repeats}; "
        f"{os.cpu_count()} CPU cores, {args.threads} thread(s), torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
