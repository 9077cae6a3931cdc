"""Tagging tasks (POS, NER): one label per token, over one text per sentence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from elmo.io import atomic_path
from tasks.data.examples import TaggedSentence
from tasks.data.labels import LabelVocabulary
from tasks.task import Item, LabeledTextTask, Split


class TaggingTask(LabeledTextTask):
    """Shared by the taggers (one label per token): items, targets and CoNLL output.

    Args: see :class:`tasks.task.LabeledTextTask` (the labels are the tag set).
    """

    def encode(self, labels: LabelVocabulary, example: TaggedSentence) -> tuple[int, ...]:
        return tuple(labels.encode(example.tags))

    def decode_output(self, labels: LabelVocabulary, output: Sequence[int]) -> list[str]:
        return labels.decode(output)

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        width = max(max(len(item.target) for item in items), 1)
        padded = torch.full((len(items), width), -100, dtype=torch.long)  # -100: ignored by the loss
        for row, item in enumerate(items):
            padded[row, : len(item.target)] = torch.tensor(item.target, dtype=torch.long)
        return padded

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
