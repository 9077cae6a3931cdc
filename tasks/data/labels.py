"""The label set of a training split, and checking dev and test labels against it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from elmo.errors import ConfigError
from tasks.data.examples import LabeledSentence, MultiLabeledText, TaggedSentence
from tasks.data.files import DataFormatError

logger = logging.getLogger(__name__)

Example = TypeVar("Example", TaggedSentence, LabeledSentence, MultiLabeledText)


@dataclass(frozen=True)
class LabelVocabulary:
    """The labels of a training split, sorted, with their indices.

    Attributes:
        labels: The distinct labels, sorted; a label's index is its position.
        train_source: Where the training split came from, named in error messages.
    """

    labels: tuple[str, ...]
    train_source: str = "train"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {label: i for i, label in enumerate(self.labels)})

    @classmethod
    def from_train(
        cls, train: Iterable[Example], source: str = "train"
    ) -> LabelVocabulary:
        """Collect the labels (tags or sentence labels) that occur in the training split."""
        labels = {label for example in train for label in example.labels}
        if not labels:
            raise ConfigError(f"{source}: the training split has no labels")
        return cls(tuple(sorted(labels)), source)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def encode(self, labels: Sequence[str]) -> list[int]:
        """Labels to indices."""
        return [self._index[label] for label in labels]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Indices to labels."""
        return [self.labels[index] for index in indices]

    def check(
        self,
        examples: Sequence[Example],
        *,
        split: str,
        source: str,
        unknown: Literal["raise", "map"] = "raise",
        map_to: str | None = None,
    ) -> list[Example]:
        """Check that a dev or test split uses only labels seen in training.

        Args:
            examples: The split's sentences.
            split: Its name (``dev``, ``test``), for messages.
            source: Its file or hub name, for messages.
            unknown: ``raise`` a DataFormatError on the first unseen label, or ``map`` every
                unseen label to ``map_to`` (one warning logs the counts).
            map_to: A known label to map unseen ones to (e.g. ``O``); needed with ``map``.

        Returns:
            The examples, with unseen labels mapped where ``unknown="map"``.
        """
        if unknown not in ("raise", "map"):
            raise ValueError(f"unknown must be 'raise' or 'map', got {unknown!r}")
        if unknown == "map" and map_to not in self:
            raise ConfigError(
                f"map_to must be a label seen in training ({self.train_source}), got {map_to!r}"
            )
        unseen: Counter[str] = Counter()
        checked = []
        for position, example in enumerate(examples, 1):
            labels = example.labels
            new = [label for label in labels if label not in self]
            if not new:
                checked.append(example)
                continue
            if unknown == "raise":
                raise DataFormatError(
                    source,
                    f"label {new[0]!r} in the {split} split (sentence {position}) never occurs in "
                    f"the training data ({self.train_source}); known labels: "
                    f"{', '.join(self.labels)}. Set task.unknown_labels=map task.map_to=<a known label> "
                    "to replace unseen labels",
                )
            unseen.update(new)
            mapped = [label if label in self else map_to for label in labels]
            checked.append(example.with_labels(mapped))
        if unseen:
            logger.warning(
                "%s: mapped labels never seen in training (%s) to %r in the %s split: %s",
                source,
                self.train_source,
                map_to,
                split,
                dict(unseen),
            )
        return checked
