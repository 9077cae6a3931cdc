"""Token-budget batches shared out among the ranks of a distributed run.

Every rank builds the same epoch's batches (:class:`~tasks.task.TokenBudgetBatches` with the
same lengths, budget, seed and epoch) and keeps every ``num_replicas``-th one from its rank
on, so ranks never share a batch and, over an epoch, see each batch once. Striding rather
than cutting the list in blocks keeps the ranks' work even when the batches are in length
order (evaluation, no shuffle).

All ranks must step through the same number of batches, or a collective waits forever.
When the epoch's batch count ``n`` does not divide by the rank count ``R``:

- ``drop_last=False`` (default) pads: the epoch's first ``ceil(n / R) * R - n`` batches are
  appended again (cycling when ``n < R``), so those items are seen twice that epoch;
- ``drop_last=True`` drops the epoch's last ``n mod R`` batches, so those items are not seen
  that epoch (with shuffling, different ones each epoch).

For validation and test, padding would count the repeated items twice in a metric:
:func:`in_batch_order` merges the ranks' outputs back into one epoch, each item once. With Lightning, give the loader this sampler as its
``batch_sampler`` and the Trainer ``use_distributed_sampler=False`` (Lightning cannot put its
own distributed sampler inside a batch sampler of this kind).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from tasks.batching import TokenBudgetBatches


class DistributedTokenBudgetBatches(torch.utils.data.Sampler[list[int]]):
    """One rank's share of each epoch's :class:`TokenBudgetBatches`.

    Args:
        batches: the whole epoch's batches, configured identically on every rank.
        num_replicas: how many ranks share the epoch (the world size).
        rank: this rank, ``0 <= rank < num_replicas``.
        drop_last: drop the batches left over after equal shares instead of padding.
    """

    def __init__(
        self, batches: TokenBudgetBatches, num_replicas: int, rank: int, drop_last: bool = False
    ) -> None:
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be positive, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank must be in [0, {num_replicas}), got {rank}")
        self.batches = batches
        self.num_replicas = num_replicas
        self.rank = rank
        self.drop_last = drop_last

    def set_epoch(self, epoch: int) -> None:
        """Build the next epoch's batches as epoch ``epoch`` (e.g. when resuming a run).

        Iterating advances the epoch by itself, alike on every rank; Lightning does not call
        this on a batch sampler.
        """
        self.batches.epoch = epoch

    def _share(self, count: int) -> int:
        """Batches per rank for an epoch of ``count`` batches."""
        if self.drop_last:
            return count // self.num_replicas
        return math.ceil(count / self.num_replicas)

    def __iter__(self) -> Iterator[list[int]]:
        epoch = list(self.batches)  # advances the inner sampler's epoch, as on every rank
        total = self._share(len(epoch)) * self.num_replicas
        # Padding cycles through the epoch's batches from its start (n < R needs several rounds).
        padded = [epoch[i % len(epoch)] for i in range(total)] if epoch else []
        return iter(padded[self.rank :: self.num_replicas])

    def __len__(self) -> int:
        return self._share(len(self.batches))


def in_batch_order(shares: Sequence[Sequence[Sequence[tuple[int, Any]]]]) -> list[tuple[int, Any]]:
    """The ranks' per-batch ``(item position, output)`` pairs as one unshared epoch gives them.

    Args:
        shares: per rank, its batches in the order it ran them (rank ``r`` of ``R`` ran the
            epoch's batches ``r, r + R, ...``, padded with repeats of the first ones).

    Returns:
        The pairs in the epoch's batch order, each position once (the first time it appears):
        the padding's repeats are dropped.
    """
    seen: set[int] = set()
    merged: list[tuple[int, Any]] = []
    for step in range(max((len(share) for share in shares), default=0)):
        for share in shares:  # step k of every rank: the epoch's batches k R .. k R + R - 1
            for position, output in share[step] if step < len(share) else ():
                if position not in seen:
                    seen.add(position)
                    merged.append((position, output))
    return merged
