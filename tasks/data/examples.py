"""The examples the tagged and labeled formats produce."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaggedSentence:
    """A tokenized sentence with one tag per token (a POS tag or an NER tag)."""

    tokens: list[str]
    tags: list[str]


@dataclass(frozen=True)
class LabeledSentence:
    """A tokenized sentence with one label for the whole sentence (e.g. sentiment)."""

    tokens: list[str]
    label: str
