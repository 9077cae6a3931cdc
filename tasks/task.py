"""The task contract: declared metadata, splits of examples, and items over cached features.

A task reads its three splits, names the token sequences (texts) to embed, and turns each
example into one or more :class:`Item` s: slices of those texts plus a target. The run
embeds every split's distinct texts once (through the activation cache), so training
reads features from a :class:`tasks.cache.Store` and never calls the embedder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tasks.heads import Head


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


LabelKind = Literal["single", "per_token", "multi", "span"]
"""What a task predicts per example: one label, one label per token, a set of labels, or a span."""

PredictionFormat = Literal["conll", "lines", "json"]
"""How test predictions are written: CoNLL columns, one line per example, or a JSON object."""

_METADATA = ("name", "metric", "label_kind", "prediction_format")


@dataclass(frozen=True)
class ExampleScores:
    """One metric per test example as a ratio of sums: ``metric = 100 * sum(num) / sum(den)``.

    Accuracy has ``num`` = correct tokens and ``den`` = tokens per sentence; span F1 has
    ``num = 2 tp`` and ``den = 2 tp + fp + fn``; SQuAD's EM and F1 have the question's score
    in [0, 1] over 1. Resampling examples and recomputing from sums is exact, which is what
    the report's paired tests need.
    """

    num: list[float]
    den: list[float]

    def value(self) -> float:
        """The metric over all examples, in percent."""
        total = sum(self.den)
        return 100.0 * sum(self.num) / total if total else 0.0


class Task(ABC):
    """A benchmark task: declared metadata, data, items, decoding and its field's metric.

    A task class declares, as class attributes:

    - ``name``: its name in rows and reports (a config may rename it: ``task.name=chunk``);
    - ``dataset``: the dataset's report name (a config may set another: ``task.dataset``);
    - ``metric``: the primary metric, higher is better, the one early stopping watches;
    - ``secondary_metrics``: the other metrics it always reports (all in percent);
    - ``label_kind``: ``single``, ``per_token``, ``multi`` or ``span``;
    - ``prediction_format``: ``conll``, ``lines`` or ``json``.

    The base classes for each label kind (:mod:`tasks.kinds`, :class:`tasks.qa.QaTask`)
    implement everything else; a new task usually only says how to read a file and score.

    Args:
        name: overrides the class's ``name`` in rows and reports.
        dataset: overrides the class's ``dataset``.
    """

    name: str
    dataset: str
    metric: str
    secondary_metrics: tuple[str, ...] = ()
    label_kind: LabelKind
    prediction_format: PredictionFormat
    note: str | None = None

    def __init__(self, name: str | None = None, dataset: str | None = None) -> None:
        if name:
            self.name = name
        if dataset:
            self.dataset = dataset
        missing = [key for key in (*_METADATA, "dataset") if not getattr(self, key, None)]
        if missing:
            raise TypeError(f"{type(self).__name__} does not declare its {', '.join(missing)}")

    @abstractmethod
    def load(self) -> dict[str, Split]:
        """Read ``train``, ``dev`` and ``test`` and build their texts and items."""

    @abstractmethod
    def build_head(self, input_dim: int) -> Head:
        """The head over the mixed features."""

    @abstractmethod
    def targets(self, items: Sequence[Item]) -> Any:
        """Collate the items' targets for the head's loss."""

    @abstractmethod
    def decode(self, split: Split, outputs: list[tuple[Item, Any]]) -> list[Any]:
        """Turn the head's per-item outputs into one prediction per example of the split."""

    @abstractmethod
    def score(self, split: Split, predictions: list[Any]) -> dict[str, float]:
        """Every metric the task reports, in percent, of the predictions against the split's gold."""

    @abstractmethod
    def example_scores(self, split: Split, predictions: list[Any]) -> dict[str, ExampleScores]:
        """Per-example parts of the decomposable metrics (the primary one at least)."""

    @abstractmethod
    def write_predictions(self, path: Path, split: Split, predictions: list[Any]) -> None:
        """Write predictions in the task's ``prediction_format``."""

    @abstractmethod
    def read_predictions(self, path: Path, split: Split) -> list[Any]:
        """Read back what :meth:`write_predictions` wrote, one prediction per example."""

    def train_sentences(self, splits: dict[str, Split]) -> list[tuple[str, ...]]:
        """The training texts an embedder may fit on (the random baseline's vocabulary)."""
        return splits["train"].texts
