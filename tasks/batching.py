"""Batches: items gathered into padded feature tensors, and the token-budget batch sampler.

Training reads features from a :class:`tasks.cache.Store` (filled once per split by the
run), so a batch is a gather over cached layer activations, never an embedder call.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tasks.cache import Store

if TYPE_CHECKING:
    from tasks.task import Item, Task


@dataclass
class Batch:
    """Padded features per slot and the items they came from."""

    layers: list[torch.Tensor]  # per slot (batch, layers, time, dim)
    masks: list[torch.Tensor]  # per slot (batch, time) bool
    items: list[Item]
    targets: Any

    def to(self, device: torch.device) -> Batch:
        targets = self.targets.to(device) if isinstance(self.targets, torch.Tensor) else self.targets
        return Batch([x.to(device) for x in self.layers], [m.to(device) for m in self.masks], self.items, targets)



def collate(items: Sequence[Item], store: Store, task: Task) -> Batch:
    """Gather the items' feature slices into padded ``(batch, layers, time, dim)`` tensors.

    Each item's slice is copied straight from the store into the padded float32 buffer,
    converted on the way (``Store.read_into``), rather than first into a tensor of its own.
    """
    layers, masks = [], []
    for slot in range(len(items[0].slots)):
        spans = [item.slots[slot] for item in items]
        lengths = [end - start for _, start, end in spans]
        padded = np.zeros((len(items), max(max(lengths), 1), store.num_layers, store.dim), dtype=np.float32)
        for row, (text, start, end) in enumerate(spans):
            store.read_into(padded[row, : end - start], text, start, end)
        mask = torch.arange(padded.shape[1]) < torch.tensor(lengths).unsqueeze(1)  # (batch, time)
        layers.append(torch.from_numpy(padded).transpose(1, 2))  # (batch, layers, time, dim)
        masks.append(mask)
    return Batch(layers, masks, list(items), task.targets(items))


class TokenBudgetBatches(torch.utils.data.Sampler[list[int]]):
    """Batches of items sorted by length whose padded size stays within a token budget.

    Items are sorted by length (ties broken at random when shuffling), cut into batches of
    at most ``budget`` padded tokens (and ``max_items`` items), and the batch order is
    shuffled each epoch from ``seed`` + epoch; an item longer than the budget gets a batch
    of its own.
    """

    def __init__(
        self, lengths: Sequence[int], budget: int, shuffle: bool, seed: int = 0, max_items: int = 512
    ) -> None:
        if budget < 1:
            raise ValueError(f"batch token budget must be positive, got {budget}")
        self.lengths = list(lengths)
        self.budget = budget
        self.shuffle = shuffle
        self.seed = seed
        self.max_items = max_items
        self.epoch = 0

    def _batches(self) -> list[list[int]]:
        rng = random.Random(self.seed + self.epoch)
        keys = [rng.random() for _ in self.lengths] if self.shuffle else [0.0] * len(self.lengths)
        order = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], keys[i]))
        batches: list[list[int]] = []
        current: list[int] = []
        for index in order:
            longest = max(self.lengths[index], 1)  # sorted, so the newest item is the longest
            if current and (longest * (len(current) + 1) > self.budget or len(current) >= self.max_items):
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        return len(self._batches())
