"""Base classes per label kind: a new task declares its metadata and how to read a file.

- :class:`TokenLabelTask` (``per_token``): one label per token (POS, NER); CoNLL columns.
- :class:`SingleLabelTask` (``single``): one label per text (sentiment); one label per line.
- :class:`MultiLabelTask` (``multi``): a set of labels per text (topics, tags); one line
  of space-separated labels per example, sigmoid head, micro F1.

Each reads its three splits (local files, else the hub), checks dev and test labels against
the training ones, builds one item per example and decodes one prediction per example, so a
subclass says only how to read one file (:meth:`LabeledTextTask.read_file`) and, where the
shared metric does not fit, how to score.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from elmo.errors import ConfigError
from elmo.io import atomic_path
from tasks import metrics
from tasks.data.examples import LabeledSentence, MultiLabeledText, TaggedSentence
from tasks.data.files import DataFormatError
from tasks.data.labels import LabelVocabulary
from tasks.data.source import split_caps, read_splits
from tasks.heads import Head
from tasks.task import ExampleScores, Item, Split, Task


def labeled_splits(
    raw: dict[str, tuple[list[Any], str]],
    unknown_labels: str,
    map_to: str | None,
    target: Callable[[LabelVocabulary, Any], Any],
    labels: Sequence[str] | None = None,
) -> tuple[LabelVocabulary, dict[str, Split]]:
    """Splits of one-text examples with labels checked against train.

    Args:
        raw: ``{split: (examples, source)}``; examples have ``tokens`` and ``labels``.
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
            examples = vocabulary.check(examples, split=name, source=source, unknown=unknown_labels, map_to=map_to)
        split = Split(name, source, examples)
        for index, example in enumerate(examples):
            text = split.add_text(example.tokens)
            split.items.append(Item(index, ((text, 0, len(example.tokens)),), target(vocabulary, example)))
        splits[name] = split
    return vocabulary, splits


class LabeledTextTask(Task):
    """A task over one text per example with labels from a vocabulary.

    Args:
        files: ``{train, dev, test}`` local paths (used when they exist).
        hub: the Hugging Face fallback (see :func:`tasks.data.source.read_splits`).
        head: a partial head (Hydra ``_partial_: true``) taking ``input_dim`` and ``labels``.
        max_samples: cap on examples, for every split or ``{split: cap}``.
        unknown_labels: ``raise`` on a dev/test label never seen in training, or ``map`` it
            to ``map_to`` (counted in a warning).
        map_to: the label unseen ones become with ``unknown_labels=map``.
        labels: the complete label set when known in advance (UPOS), so that a capped
            training split need not contain every label; None for the labels seen in train.
        name: overrides the class's report name.
        dataset: overrides the class's dataset name.
    """

    def __init__(
        self,
        files: dict[str, str | None] | None,
        hub: dict[str, Any] | None,
        head: Callable[..., Head],
        max_samples: dict[str, int | None] | int | None = None,
        unknown_labels: str = "raise",
        map_to: str | None = None,
        labels: list[str] | None = None,
        name: str | None = None,
        dataset: str | None = None,
    ) -> None:
        super().__init__(name, dataset)
        if unknown_labels not in ("raise", "map"):
            raise ConfigError(f"task.unknown_labels must be 'raise' or 'map', got {unknown_labels!r}")
        self.files = files
        self.hub = hub
        self.head = head
        self.max_samples = split_caps(max_samples)
        self.unknown_labels = unknown_labels
        self.map_to = map_to
        self.label_set = labels
        self.labels: LabelVocabulary | None = None

    @abstractmethod
    def read_file(self, path: Path, max_samples: int | None) -> list[Any]:
        """Read one local file into examples with ``tokens`` and ``labels``."""

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
        prepared = {
            split: (self.prepare(examples, kind == "hub", source), source) for split, (examples, source) in raw.items()
        }
        self.labels, splits = labeled_splits(
            prepared, self.unknown_labels, self.map_to, self.encode, self.complete_labels(prepared["train"][0])
        )
        return splits

    def build_head(self, input_dim: int) -> Head:
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

    def gold(self, split: Split) -> list[Any]:
        """The split's gold labels in the form predictions take."""
        return [example.labels for example in split.examples]


class TokenLabelTask(LabeledTextTask):
    """One label per token (taggers): token accuracy by default, CoNLL column predictions."""

    label_kind = "per_token"
    prediction_format = "conll"
    metric = "accuracy"

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

    def score(self, split: Split, predictions: list[list[str]]) -> dict[str, float]:
        gold, predicted = self.gold_and_predicted(split, predictions)
        return metrics.token_accuracy(predicted, gold)

    def example_scores(self, split: Split, predictions: list[list[str]]) -> dict[str, ExampleScores]:
        gold, predicted = self.gold_and_predicted(split, predictions)
        correct, total = metrics.token_accuracy_parts(predicted, gold)
        return {"accuracy": ExampleScores(correct, total)}

    def write_predictions(self, path: Path, split: Split, predictions: list[list[str]]) -> None:
        """CoNLL columns: token, gold tag, predicted tag; a blank line after each sentence."""
        gold, predicted = self.gold_and_predicted(split, predictions)
        with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as out:
            for sentence, gold_tags, predicted_tags in zip(split.examples, gold, predicted, strict=True):
                for token, g, p in zip(sentence.tokens, gold_tags, predicted_tags, strict=True):
                    out.write(f"{token}\t{g}\t{p}\n")
                out.write("\n")

    def read_predictions(self, path: Path, split: Split) -> list[list[str]]:
        """The predicted column of the CoNLL file, in the task's training encoding."""
        blocks = [block for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]
        if len(blocks) != len(split.examples):
            raise DataFormatError(str(path), f"{len(blocks)} sentences for {len(split.examples)} {split.name} examples")
        written = [[line.split("\t")[2] for line in block.splitlines()] for block in blocks]
        return self.from_written(written)

    def from_written(self, written: list[list[str]]) -> list[list[str]]:
        """Predictions as written (the scoring scheme) back in the training encoding."""
        return written


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    with atomic_path(path) as temp:
        temp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _read_lines(path: Path, split: Split) -> list[str]:
    """One line per example of the split; a different count is an error naming the file."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(split.examples):
        raise DataFormatError(str(path), f"{len(lines)} prediction lines for {len(split.examples)} {split.name} examples")
    return lines


class SingleLabelTask(LabeledTextTask):
    """One label per text (classifiers): accuracy, one predicted label per line."""

    label_kind = "single"
    prediction_format = "lines"
    metric = "accuracy"

    def encode(self, labels: LabelVocabulary, example: LabeledSentence) -> int:
        return labels.encode([example.label])[0]

    def decode_output(self, labels: LabelVocabulary, output: int) -> str:
        return labels.labels[output]

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        return torch.tensor([item.target for item in items], dtype=torch.long)

    def gold(self, split: Split) -> list[str]:
        return [example.label for example in split.examples]

    def score(self, split: Split, predictions: list[str]) -> dict[str, float]:
        return metrics.sentence_accuracy(predictions, self.gold(split))

    def example_scores(self, split: Split, predictions: list[str]) -> dict[str, ExampleScores]:
        correct = [float(p == g) for p, g in zip(predictions, self.gold(split), strict=True)]
        return {"accuracy": ExampleScores(correct, [1.0] * len(correct))}

    def write_predictions(self, path: Path, split: Split, predictions: list[str]) -> None:
        """One predicted label per line, in the order of the test file."""
        _write_lines(path, predictions)

    def read_predictions(self, path: Path, split: Split) -> list[str]:
        return _read_lines(path, split)


class MultiLabelTask(LabeledTextTask):
    """A set of labels per text: micro F1 (primary), macro F1 and exact-set accuracy.

    The default reader takes JSON lines ``{"tokens": [...], "labels": [...]}`` (or ``text``,
    split on whitespace); override :meth:`read_file` for another format. A text may have no
    label. Predictions are written one line per example, labels separated by spaces.
    """

    label_kind = "multi"
    prediction_format = "lines"
    metric = "micro_f1"
    secondary_metrics = ("macro_f1", "exact_match")

    def read_file(self, path: Path, max_samples: int | None) -> list[MultiLabeledText]:
        from tasks.data.jsonl import read_multilabel_jsonl

        return read_multilabel_jsonl(path, max_samples=max_samples)

    def encode(self, labels: LabelVocabulary, example: MultiLabeledText) -> tuple[float, ...]:
        chosen = set(labels.encode(example.labels))
        return tuple(float(index in chosen) for index in range(len(labels)))

    def decode_output(self, labels: LabelVocabulary, output: Sequence[int]) -> tuple[str, ...]:
        return tuple(labels.decode(output))

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        return torch.tensor([item.target for item in items], dtype=torch.float)

    def gold(self, split: Split) -> list[tuple[str, ...]]:
        return [tuple(example.labels) for example in split.examples]

    def score(self, split: Split, predictions: list[tuple[str, ...]]) -> dict[str, float]:
        return metrics.multilabel_scores(predictions, self.gold(split))

    def example_scores(self, split: Split, predictions: list[tuple[str, ...]]) -> dict[str, ExampleScores]:
        num, den = metrics.multilabel_f1_parts(predictions, self.gold(split))
        return {"micro_f1": ExampleScores(num, den)}

    def write_predictions(self, path: Path, split: Split, predictions: list[tuple[str, ...]]) -> None:
        """One line per example: its predicted labels, space-separated (empty for none)."""
        _write_lines(path, [" ".join(labels) for labels in predictions])

    def read_predictions(self, path: Path, split: Split) -> list[tuple[str, ...]]:
        return [tuple(line.split()) for line in _read_lines(path, split)]

