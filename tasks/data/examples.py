"""The examples the formats produce: tokens and their labels.

Every example has ``tokens`` and ``labels`` (its labels as a list, whatever its kind) and
``with_labels`` (the same tokens with other labels), which is all the label vocabulary needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TaggedSentence:
    """A tokenized sentence with one tag per token (a POS tag or an NER tag)."""

    tokens: list[str]
    tags: list[str]

    @property
    def labels(self) -> list[str]:
        return list(self.tags)

    def with_labels(self, labels: Sequence[str]) -> TaggedSentence:
        return TaggedSentence(self.tokens, list(labels))


@dataclass(frozen=True)
class LabeledSentence:
    """A tokenized sentence with one label for the whole sentence (e.g. sentiment)."""

    tokens: list[str]
    label: str

    @property
    def labels(self) -> list[str]:
        return [self.label]

    def with_labels(self, labels: Sequence[str]) -> LabeledSentence:
        (label,) = labels
        return LabeledSentence(self.tokens, label)


@dataclass(frozen=True)
class MultiLabeledText:
    """A tokenized text with a set of labels (possibly none), e.g. its topics."""

    tokens: list[str]
    labels: tuple[str, ...]

    def with_labels(self, labels: Sequence[str]) -> MultiLabeledText:
        return MultiLabeledText(self.tokens, tuple(dict.fromkeys(labels)))
