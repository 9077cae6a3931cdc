"""Token-budget batches shared among ranks: each batch to one rank, equal counts per rank."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tasks.distributed import DistributedTokenBudgetBatches, in_batch_order
from tasks.batching import TokenBudgetBatches

LENGTHS = [random.Random(7).randint(1, 40) for _ in range(101)]


def _whole_epoch(epoch: int, shuffle: bool = True) -> list[list[int]]:
    """The oracle: the undistributed sampler's batches for ``epoch``."""
    batches = TokenBudgetBatches(LENGTHS, budget=120, shuffle=shuffle, seed=3)
    batches.epoch = epoch
    return list(batches)


def _ranks(num_replicas: int, drop_last: bool, shuffle: bool = True) -> list[DistributedTokenBudgetBatches]:
    """One sampler per rank, each built on its own as every process of a run builds it."""
    return [
        DistributedTokenBudgetBatches(
            TokenBudgetBatches(LENGTHS, budget=120, shuffle=shuffle, seed=3), num_replicas, rank, drop_last
        )
        for rank in range(num_replicas)
    ]


@pytest.mark.parametrize("num_replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("shuffle", [True, False])
def test_padding_gives_every_batch_to_one_rank_and_repeats_only_the_first_ones(num_replicas, shuffle):
    whole = _whole_epoch(0, shuffle)
    ranks = _ranks(num_replicas, drop_last=False, shuffle=shuffle)
    shares = [list(rank) for rank in ranks]
    per_rank = -(-len(whole) // num_replicas)
    assert [len(share) for share in shares] == [len(rank) for rank in ranks] == [per_rank] * num_replicas
    seen = Counter(tuple(batch) for share in shares for batch in share)
    padding = Counter(tuple(batch) for batch in whole[: per_rank * num_replicas - len(whole)])
    assert seen == Counter(tuple(batch) for batch in whole) + padding


@pytest.mark.parametrize("num_replicas", [2, 3, 4, 7])
def test_drop_last_gives_each_kept_batch_to_exactly_one_rank(num_replicas):
    whole = _whole_epoch(0)
    shares = [list(rank) for rank in _ranks(num_replicas, drop_last=True)]
    per_rank = len(whole) // num_replicas
    assert [len(share) for share in shares] == [per_rank] * num_replicas
    seen = [tuple(batch) for share in shares for batch in share]
    assert sorted(seen) == sorted(tuple(batch) for batch in whole[: per_rank * num_replicas])


def test_ranks_follow_the_epochs_of_the_undistributed_sampler():
    ranks = _ranks(3, drop_last=True)
    for epoch in range(3):  # iterating advances the epoch, as for the undistributed sampler
        shares = [list(rank) for rank in ranks]
        assert [batch for step in zip(*shares) for batch in step] == _whole_epoch(epoch)[: 3 * len(shares[0])]
    for rank in ranks:
        rank.set_epoch(7)
    assert list(ranks[1]) == _whole_epoch(7)[1::3][: len(ranks[1])]
    assert _whole_epoch(7) != _whole_epoch(0)  # epochs do reshuffle


def test_fewer_batches_than_ranks_pads_by_cycling_or_drops_everything():
    lengths = [5, 6, 7]  # one batch of three items
    for drop_last, expected in ((False, [[[0, 1, 2]]] * 4), (True, [[]] * 4)):
        ranks = [
            DistributedTokenBudgetBatches(TokenBudgetBatches(lengths, 100, shuffle=False), 4, rank, drop_last)
            for rank in range(4)
        ]
        assert [list(rank) for rank in ranks] == expected


@pytest.mark.parametrize(("num_replicas", "rank"), [(0, 0), (2, 2), (2, -1)])
def test_a_rank_outside_the_world_is_refused(num_replicas, rank):
    with pytest.raises(ValueError, match="must be"):
        DistributedTokenBudgetBatches(TokenBudgetBatches(LENGTHS, 120, shuffle=True), num_replicas, rank)


@pytest.mark.parametrize("num_replicas", [1, 2, 3, 7, 150])
@pytest.mark.parametrize("shuffle", [True, False])
def test_merged_shares_are_the_undistributed_epoch_each_item_once(num_replicas, shuffle):
    """Evaluation: every rank's (position, output) pairs, padding included, back into one epoch."""
    whole = _whole_epoch(0, shuffle)
    shares = [
        [[(position, f"out{position}") for position in batch] for batch in rank]
        for rank in _ranks(num_replicas, drop_last=False, shuffle=shuffle)
    ]
    merged = in_batch_order(shares)
    assert merged == [(position, f"out{position}") for batch in whole for position in batch]
    assert sorted(position for position, _ in merged) == list(range(len(LENGTHS)))


def test_merging_nothing_is_nothing():
    assert in_batch_order([[], []]) == []
