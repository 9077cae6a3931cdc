"""What every task shares: its data splits, items over cached features, and batching.

A task reads its three splits, names the token sequences (texts) to embed, and turns each
example into one or more :class:`Item` s: slices of those texts plus a target. The run
embeds every split's distinct texts once (through the activation cache), so training
reads features from a :class:`tasks.cache.Store` and never calls the embedder.
"""

from __future__ import annotations

import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tasks.cache import Store
from tasks.data.labels import LabelVocabulary
from tasks.data.source import read_splits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    """One training or evaluation unit.

    Attributes:
        example: index of the example (in its split) the item's prediction belongs to.
        slots: per input sequence, ``(text index, first token, end token)`` in the split's
            texts; a tagger or classifier has one slot, QA has context and question.
        target: what the head is trained to predict (task-specific).
    """

    example: int
    slots: tuple[tuple[int, int, int], ...]
    target: Any = None

    @property
    def num_tokens(self) -> int:
        return sum(end - start for _, start, end in self.slots)


@dataclass
class Split:
    """A split's examples, its distinct texts and the items built over them."""

    name: str
    source: str
    examples: list[Any]
    texts: list[tuple[str, ...]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    _index: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)

    def add_text(self, tokens: Sequence[str]) -> int:
        """The index of a text in ``texts``, added on first sight (repeated texts are embedded once)."""
        key = tuple(tokens)
        if key not in self._index:
            self._index[key] = len(self.texts)
            self.texts.append(key)
        return self._index[key]


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


class Task(ABC):
    """A benchmark task: data, items, decoding and its field's metric.

    Subclasses set ``name``, ``metric`` (the main metric, higher is better) and ``dataset``.
    """

    name: str
    metric: str
    dataset: str
    note: str | None = None

    @abstractmethod
    def load(self) -> dict[str, Split]:
        """Read ``train``, ``dev`` and ``test`` and build their texts and items."""

    @abstractmethod
    def build_head(self, input_dim: int) -> nn.Module:
        """The head over mixed features; it has ``loss(batch, mixed)`` and ``predict(batch, mixed)``."""

    @abstractmethod
    def targets(self, items: Sequence[Item]) -> Any:
        """Collate the items' targets for the head's loss."""

    @abstractmethod
    def decode(self, split: Split, outputs: list[tuple[Item, Any]]) -> list[Any]:
        """Turn the head's per-item outputs into one prediction per example of the split."""

    @abstractmethod
    def score(self, split: Split, predictions: list[Any]) -> dict[str, float]:
        """The field's metrics (percent) of the predictions against the split's gold."""

    @abstractmethod
    def write_predictions(self, path: Path, split: Split, predictions: list[Any]) -> None:
        """Write predictions in the field's format."""

    def train_sentences(self, splits: dict[str, Split]) -> list[tuple[str, ...]]:
        """The training texts an embedder may fit on (the random baseline's vocabulary)."""
        return splits["train"].texts


def collate(items: Sequence[Item], store: Store, task: Task) -> Batch:
    """Gather the items' feature slices into padded ``(batch, layers, time, dim)`` tensors."""
    layers, masks = [], []
    for slot in range(len(items[0].slots)):
        pieces = [store.get(text, start, end) for text, start, end in (item.slots[slot] for item in items)]
        width = max(max(len(p) for p in pieces), 1)
        padded = torch.zeros(len(items), width, store.num_layers, store.dim)
        mask = torch.zeros(len(items), width, dtype=torch.bool)
        for row, piece in enumerate(pieces):
            padded[row, : len(piece)] = piece
            mask[row, : len(piece)] = True
        layers.append(padded.transpose(1, 2))  # (batch, layers, time, dim)
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


def labeled_splits(
    raw: dict[str, tuple[list[Any], str]],
    unknown_labels: str,
    map_to: str | None,
    target: Callable[[LabelVocabulary, Any], Any],
    labels: Sequence[str] | None = None,
) -> tuple[LabelVocabulary, dict[str, Split]]:
    """Splits of one-text examples (taggers, classifiers) with labels checked against train.

    Args:
        raw: ``{split: (examples, source)}`` of TaggedSentence or LabeledSentence.
        unknown_labels: ``raise`` or ``map`` a dev/test label never seen in training.
        map_to: the label unseen ones become with ``map``.
        target: ``target(labels, example)``, the item's encoded target.
        labels: the complete label set when it is known in advance (UPOS); every split,
            train included, is checked against it. None: the labels seen in train.
    """
    if labels is None:
        vocabulary = LabelVocabulary.from_train(raw["train"][0], source=raw["train"][1])
    else:
        vocabulary = LabelVocabulary(tuple(sorted(labels)), f"task.labels, with {raw['train'][1]}")
    splits = {}
    for name, (examples, source) in raw.items():
        if name != "train" or labels is not None:
            examples = vocabulary.check(
                examples, split=name, source=source, unknown=unknown_labels, map_to=map_to
            )
        split = Split(name, source, examples)
        for index, example in enumerate(examples):
            text = split.add_text(example.tokens)
            split.items.append(Item(index, ((text, 0, len(example.tokens)),), target(vocabulary, example)))
        splits[name] = split
    return vocabulary, splits


class LabeledTextTask(Task):
    """A task over one text per example with labels from a vocabulary: taggers and classifiers.

    It reads the three splits (local files, else the hub), checks dev/test labels against
    the training ones, and decodes one prediction per example. Subclasses say how to read
    a file (:meth:`read_file`), what an item's target is (:meth:`encode`) and how a head
    output becomes a prediction (:meth:`decode_output`).

    Args:
        files: ``{train, dev, test}`` local paths (used when they exist).
        hub: the Hugging Face fallback (see :func:`read_splits`).
        head: a partial head (Hydra ``_partial_: true``) taking ``input_dim`` and ``labels``.
        max_samples: cap on examples, for every split or ``{split: cap}``.
        unknown_labels: ``raise`` on a dev/test label never seen in training, or ``map`` it
            to ``map_to`` (counted in a warning).
        map_to: the label unseen ones become with ``unknown_labels=map``.
        labels: the complete label set when known in advance (UPOS), so that a capped
            training split need not contain every label; None for the labels seen in train.
    """

    def __init__(
        self,
        files: dict[str, str | None] | None,
        hub: dict[str, Any] | None,
        head: Callable[..., nn.Module],
        max_samples: dict[str, int | None] | int | None = None,
        unknown_labels: str = "raise",
        map_to: str | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.files = files
        self.hub = hub
        self.head = head
        self.max_samples = max_samples
        self.unknown_labels = unknown_labels
        self.map_to = map_to
        self.label_set = labels
        self.labels: LabelVocabulary | None = None

    @abstractmethod
    def read_file(self, path: Path, max_samples: int | None) -> list[Any]:
        """Read one local file into examples with ``tokens`` and their label(s)."""

    @abstractmethod
    def encode(self, labels: LabelVocabulary, example: Any) -> Any:
        """An example's item target."""

    @abstractmethod
    def decode_output(self, labels: LabelVocabulary, output: Any) -> Any:
        """One item's head output as the example's prediction."""

    def prepare(self, examples: list[Any], from_hub: bool, source: str) -> list[Any]:
        """Convert labels read from a file or the hub to the training encoding."""
        return examples

    def complete_labels(self, train: list[Any]) -> list[str] | None:
        """The full label set, when it follows from the configuration and the training data."""
        return self.label_set

    def load(self) -> dict[str, Split]:
        kind, raw = read_splits(self.name, self.files, self.hub, self.read_file, self.max_samples)
        prepared = {split: (self.prepare(examples, kind == "hub", source), source) for split, (examples, source) in raw.items()}
        self.labels, splits = labeled_splits(
            prepared, self.unknown_labels, self.map_to, self.encode, self.complete_labels(prepared["train"][0])
        )
        return splits

    def build_head(self, input_dim: int) -> nn.Module:
        assert self.labels is not None, "load() first"
        return self.head(input_dim=input_dim, labels=list(self.labels.labels))

    def decode(self, split: Split, outputs: list[tuple[Item, Any]]) -> list[Any]:
        assert self.labels is not None, "load() first"
        predictions: list[Any] = [None] * len(split.examples)
        for item, output in outputs:
            predictions[item.example] = self.decode_output(self.labels, output)
        missing = [index for index, prediction in enumerate(predictions) if prediction is None]
        if missing:
            raise RuntimeError(f"{self.name}/{split.name}: no prediction for examples {missing[:5]}")
        return predictions
