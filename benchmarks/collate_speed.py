"""Building a training batch from cached features: a tensor per item vs a copy straight into the batch.

    python -m benchmarks.collate_speed            # one thread, as each job of a parallel sweep runs
    python -m benchmarks.collate_speed --threads 2

``tasks.batching.collate`` copies each item's slice from the store straight into the
padded float32 buffer, converting float16 on the way; :func:`collate_per_item` is the
previous way, kept here as the reference: each slice first becomes a float32 tensor of its
own, then is copied into the padded tensor. Both build the same tensors
(``tests/tasks/test_batching.py``). The
store is shaped like the shipped ELMo's cache entry of POS training data (float16, three
512-wide layers, sentences of 1 to 60 tokens), cut into the default recipe's 512-token
batches; the figure is the time to build every batch of one epoch.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tasks.batching import Batch, TokenBudgetBatches, collate
from tasks.cache import FeatureStore, Store
from tasks.task import Item


class _NoTargets:
    """Stands in for a task: the benchmark times features, not targets."""

    def targets(self, items: Sequence[Item]) -> Any:
        return None


def collate_per_item(items: Sequence[Item], store: Store, task: Any) -> Batch:
    """The previous ``collate``: each item's slice read and copied into the batch on its own."""
    layers, masks = [], []
    for slot in range(len(items[0].slots)):
        pieces = [store.get(text, start, end) for text, start, end in (item.slots[slot] for item in items)]
        width = max(max(len(p) for p in pieces), 1)
        padded = torch.zeros(len(items), width, store.num_layers, store.dim)
        mask = torch.zeros(len(items), width, dtype=torch.bool)
        for row, piece in enumerate(pieces):
            padded[row, : len(piece)] = piece
            mask[row, : len(piece)] = True
        layers.append(padded.transpose(1, 2))
        masks.append(mask)
    return Batch(layers, masks, list(items), task.targets(items))


def pos_like_store(sentences: int, seed: int = 0, layers: int = 3, dim: int = 512) -> tuple[FeatureStore, list[Item]]:
    """Random float16 features of ``sentences`` texts of 1 to 60 tokens, one item per text."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.geometric(1 / 17, size=sentences), 60)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = rng.standard_normal((int(offsets[-1]), layers, dim), dtype=np.float32).astype(np.float16)
    items = [Item(index, ((index, 0, int(n)),)) for index, n in enumerate(lengths)]
    return FeatureStore(data, offsets), items


def epoch_seconds(build: Any, store: Store, items: list[Item], budget: int) -> float:
    batches = list(TokenBudgetBatches([item.num_tokens for item in items], budget, shuffle=True, seed=0))
    started = time.perf_counter()
    for batch in batches:
        build([items[i] for i in batch], store, _NoTargets())
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.collate_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sentences", type=int, default=12544, help="training sentences (UD English-EWT has 12,544)")
    parser.add_argument("--budget", type=int, default=512, help="padded tokens per batch")
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per method, alternating; the median is kept")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    store, items = pos_like_store(args.sentences)
    times: dict[str, list[float]] = {"per item (previous)": [], "straight (collate)": []}
    for _ in range(args.repeats):
        times["per item (previous)"].append(epoch_seconds(collate_per_item, store, items, args.budget))
        times["straight (collate)"].append(epoch_seconds(collate, store, items, args.budget))
    tokens = int(store.offsets[-1])
    print(f"{os.cpu_count()} cores, {args.threads} thread(s), torch {torch.__version__}; {args.sentences} sentences, "
          f"{tokens} tokens, float16 store of {store.num_layers} x {store.dim}, {args.budget}-token batches")
    medians = {name: sorted(values)[len(values) // 2] for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"{name:>20}: {seconds:6.2f} s per epoch ({tokens / seconds:,.0f} tokens/s)")
    old, new = medians.values()
    print(f"speed-up: {old / new:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
