"""Tagging tasks (POS, NER): one label per token, over one text per sentence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from elmo.io import atomic_path
from tasks.readers import LabelVocabulary, TaggedSentence
from tasks.task import Item, Split, Task, labeled_splits, read_splits


class TaggingTask(Task):
    """Shared by the taggers: reading, label vocabulary, items, decoding and CoNLL output.

    Args:
        files: ``{train, dev, test}`` local paths (used when they exist).
        hub: the Hugging Face fallback (see :func:`tasks.task.read_splits`).
        head: a partial head (Hydra ``_partial_: true``) taking ``input_dim`` and ``labels``.
        max_samples: cap on sentences, for every split or ``{split: cap}``.
        unknown_labels: ``raise`` on a dev/test tag never seen in training, or ``map`` it
            to ``map_to`` (counted in a warning).
        map_to: the tag unseen ones become with ``unknown_labels=map``.
        labels: the complete tag set when known in advance (UPOS), so that a capped
            training split need not contain every tag; None for the tags seen in train.
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

    def read_file(self, path: Path, max_samples: int | None) -> list[TaggedSentence]:
        """Read one local file."""
        raise NotImplementedError

    def prepare(self, sentences: list[TaggedSentence], from_hub: bool, source: str) -> list[TaggedSentence]:
        """Convert tags read from a file or the hub to the training encoding."""
        return sentences

    def load(self) -> dict[str, Split]:
        kind, raw = read_splits(self.name, self.files, self.hub, self.read_file, self.max_samples)
        prepared = {split: (self.prepare(examples, kind == "hub", source), source) for split, (examples, source) in raw.items()}
        self.labels, splits = labeled_splits(
            prepared, self.unknown_labels, self.map_to, lambda labels, s: tuple(labels.encode(s.tags)),
            self.complete_labels(prepared["train"][0]),
        )
        return splits

    def complete_labels(self, train: list[TaggedSentence]) -> list[str] | None:
        """The full tag set, when it follows from the configuration and the training data."""
        return self.label_set

    def build_head(self, input_dim: int) -> nn.Module:
        assert self.labels is not None, "load() first"
        return self.head(input_dim=input_dim, labels=list(self.labels.labels))

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        width = max(max(len(item.target) for item in items), 1)
        padded = torch.full((len(items), width), -100, dtype=torch.long)  # -100: ignored by the loss
        for row, item in enumerate(items):
            padded[row, : len(item.target)] = torch.tensor(item.target, dtype=torch.long)
        return padded

    def decode(self, split: Split, outputs: list[tuple[Item, Any]]) -> list[list[str]]:
        assert self.labels is not None
        predictions: list[list[str] | None] = [None] * len(split.examples)
        for item, tags in outputs:
            predictions[item.example] = self.labels.decode(tags)
        missing = [i for i, p in enumerate(predictions) if p is None]
        if missing:
            raise RuntimeError(f"{self.name}/{split.name}: no prediction for sentences {missing[:5]}")
        return predictions  # type: ignore[return-value]

    def gold_and_predicted(self, split: Split, predictions: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
        """Gold and predicted tags in the scheme they are scored and written in."""
        return [s.tags for s in split.examples], predictions

    def write_predictions(self, path: Path, split: Split, predictions: list[list[str]]) -> None:
        """CoNLL columns: token, gold tag, predicted tag; a blank line after each sentence."""
        gold, predicted = self.gold_and_predicted(split, predictions)
        with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as out:
            for sentence, gold_tags, predicted_tags in zip(split.examples, gold, predicted, strict=True):
                for token, g, p in zip(sentence.tokens, gold_tags, predicted_tags, strict=True):
                    out.write(f"{token}\t{g}\t{p}\n")
                out.write("\n")
