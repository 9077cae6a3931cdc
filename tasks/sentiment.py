"""Sentence-level sentiment on the Stanford Sentiment Treebank: SST-2 or SST-5, accuracy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from elmo.io import atomic_path
from tasks.metrics import sentence_accuracy
from tasks.readers import LabeledSentence, LabelVocabulary, read_sst
from tasks.task import Item, Split, Task, labeled_splits, read_splits


class SentimentTask(Task):
    """Sentence classification scored by accuracy (percent).

    Args:
        dataset: ``sst5`` or ``sst2`` (the name in reports).
        files: ``{train, dev, test}`` SST line files (``<label> <tokens>``).
        hub: the Hugging Face fallback (see :func:`tasks.task.read_splits`).
        head: a partial head taking ``input_dim`` and ``labels``.
        max_samples: cap on sentences, for every split or ``{split: cap}``.
        unknown_labels: ``raise`` on a dev/test label never seen in training, or ``map``.
        map_to: the label unseen ones become with ``unknown_labels=map``.
        labels: the complete label set when known in advance; None for those seen in train.
    """

    name = "sentiment"
    metric = "accuracy"

    def __init__(
        self,
        files: dict[str, str | None] | None,
        hub: dict[str, Any] | None,
        head: Callable[..., nn.Module],
        dataset: str = "sst5",
        max_samples: dict[str, int | None] | int | None = None,
        unknown_labels: str = "raise",
        map_to: str | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.files, self.hub, self.head = files, hub, head
        self.dataset = dataset
        self.max_samples = max_samples
        self.unknown_labels, self.map_to = unknown_labels, map_to
        self.label_set = labels
        self.labels: LabelVocabulary | None = None

    def load(self) -> dict[str, Split]:
        _, raw = read_splits(self.name, self.files, self.hub, self._read, self.max_samples)
        self.labels, splits = labeled_splits(
            raw, self.unknown_labels, self.map_to, lambda labels, s: labels.encode([s.label])[0], self.label_set
        )
        return splits

    @staticmethod
    def _read(path: Path, max_samples: int | None) -> list[LabeledSentence]:
        return read_sst(path, max_samples=max_samples)

    def build_head(self, input_dim: int) -> nn.Module:
        assert self.labels is not None, "load() first"
        return self.head(input_dim=input_dim, labels=list(self.labels.labels))

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        return torch.tensor([item.target for item in items], dtype=torch.long)

    def decode(self, split: Split, outputs: list[tuple[Item, Any]]) -> list[str]:
        assert self.labels is not None
        predictions = [""] * len(split.examples)
        for item, label in outputs:
            predictions[item.example] = self.labels.labels[label]
        return predictions

    def score(self, split: Split, predictions: list[str]) -> dict[str, float]:
        return {"accuracy": 100.0 * sentence_accuracy(predictions, [s.label for s in split.examples])["accuracy"]}

    def write_predictions(self, path: Path, split: Split, predictions: list[str]) -> None:
        """One predicted label per line, in the order of the test file."""
        with atomic_path(path) as temp:
            temp.write_text("".join(f"{label}\n" for label in predictions), encoding="utf-8")
