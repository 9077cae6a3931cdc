"""``collate`` builds exactly the batches the previous per-item gathering built."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.collate_speed import _NoTargets, collate_per_item, epoch_seconds, main, pos_like_store
from tasks.batching import collate
from tasks.cache import ConcatStore, FeatureStore
from tasks.task import Item


def _same(a, b):
    assert len(a.layers) == len(b.layers)
    for x, y, m, n in zip(a.layers, b.layers, a.masks, b.masks, strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype == torch.float32
        assert torch.equal(x, y) and torch.equal(m, n)


def test_one_slot_items_with_slices_and_an_empty_span_match_the_per_item_reference():
    store, items = pos_like_store(40, seed=3, dim=8)
    batch = [items[5], Item(0, ((7, 2, 5),)), items[1], Item(1, ((9, 0, 0),))]
    _same(collate(batch, store, _NoTargets()), collate_per_item(batch, store, _NoTargets()))
    only_empty = [Item(0, ((3, 1, 1),))]
    built = collate(only_empty, store, _NoTargets())
    assert built.layers[0].shape == (1, store.num_layers, 1, store.dim) and not built.masks[0].any()
    _same(built, collate_per_item(only_empty, store, _NoTargets()))


def test_two_slots_and_a_concatenated_store_match_the_per_item_reference():
    rng = np.random.default_rng(1)
    offsets = np.array([0, 4, 9, 11, 20], dtype=np.int64)
    wide = FeatureStore(rng.standard_normal((20, 3, 6)).astype(np.float16), offsets)
    single = FeatureStore(rng.standard_normal((20, 1, 2)).astype(np.float32), offsets)
    store = ConcatStore((wide, single), num_layers=3)
    batch = [Item(0, ((3, 2, 9), (0, 0, 4))), Item(1, ((1, 0, 5), (2, 0, 2))), Item(2, ((3, 0, 3), (0, 1, 2)))]
    new, old = collate(batch, store, _NoTargets()), collate_per_item(batch, store, _NoTargets())
    _same(new, old)
    assert new.layers[0].shape == (3, 3, 7, 8)  # (batch, layers, longest context, 6 + 2)
    # the one-layer member is repeated on every layer
    assert torch.equal(new.layers[0][:, 0, :, 6:], new.layers[0][:, 2, :, 6:])


def test_the_benchmark_runs_and_reports_a_ratio(capsys):
    assert main(["--sentences", "30", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "speed-up:" in out and "tokens/s" in out
    store, items = pos_like_store(10, dim=4)
    assert epoch_seconds(collate, store, items, 64) >= 0
