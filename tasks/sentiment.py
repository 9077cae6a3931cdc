"""Sentence-level sentiment on the Stanford Sentiment Treebank: SST-2 or SST-5, accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from elmo.io import atomic_path
from tasks.data.examples import LabeledSentence
from tasks.data.labels import LabelVocabulary
from tasks.data.sst import read_sst
from tasks.metrics import sentence_accuracy
from tasks.task import Item, LabeledTextTask, Split


class SentimentTask(LabeledTextTask):
    """Sentence classification scored by accuracy (percent).

    Args:
        dataset: ``sst5`` or ``sst2`` (the name in reports).
        **kwargs: see :class:`tasks.task.LabeledTextTask`; ``files`` are SST line files
            (``<label> <tokens>``).
    """

    name = "sentiment"
    metric = "accuracy"

    def __init__(self, dataset: str = "sst5", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dataset = dataset

    def read_file(self, path: Path, max_samples: int | None) -> list[LabeledSentence]:
        return read_sst(path, max_samples=max_samples)

    def encode(self, labels: LabelVocabulary, example: LabeledSentence) -> int:
        return labels.encode([example.label])[0]

    def decode_output(self, labels: LabelVocabulary, output: int) -> str:
        return labels.labels[output]

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        return torch.tensor([item.target for item in items], dtype=torch.long)

    def score(self, split: Split, predictions: list[str]) -> dict[str, float]:
        return {"accuracy": 100.0 * sentence_accuracy(predictions, [s.label for s in split.examples])["accuracy"]}

    def write_predictions(self, path: Path, split: Split, predictions: list[str]) -> None:
        """One predicted label per line, in the order of the test file."""
        with atomic_path(path) as temp:
            temp.write_text("".join(f"{label}\n" for label in predictions), encoding="utf-8")
