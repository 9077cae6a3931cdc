"""Named-entity recognition (CoNLL-2003, WNUT-17): span-level micro F1 with seqeval.

Tags are trained in BIO or BIOES (IOB1 input, as CoNLL-2003 is written, is converted
first); predictions are turned back into BIO and scored against the BIO gold with seqeval,
as conlleval does: precision, recall and F1 over exact entity spans, plus F1 per type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elmo.errors import ConfigError
from tasks.data.conll import read_conll
from tasks.data.examples import TaggedSentence
from tasks.data.files import DataFormatError
from tasks.data.schemes import iob1_to_iob2, iob2_to_bioes, split_tag
from tasks.heads import Head
from tasks.kinds import TokenLabelTask
from tasks.metrics import span_f1, span_f1_parts
from tasks.task import ExampleScores, Split


def bioes_to_iob2(tags: list[str]) -> list[str]:
    """BIOES to BIO: ``S-`` becomes ``B-`` and ``E-`` becomes ``I-``."""
    return [{"S": "B", "E": "I"}.get(tag[0], tag[0]) + tag[1:] if tag != "O" else tag for tag in tags]


class NerTask(TokenLabelTask):
    """NER scored by span micro F1, with precision, recall and F1 per entity type.

    Args:
        file_scheme: how the local files write entities: ``iob1`` (CoNLL-2003) or ``iob2``.
        hub_scheme: the same for the hub copy (the hub's ``conll2003`` is IOB2).
        encoding: ``BIO`` or ``BIOES``, the tags the head learns.
        tag_column: the column holding the NER tag in the local files.
        **kwargs: see :class:`tasks.kinds.LabeledTextTask` (``dataset``: ``conll2003``, ``wnut17``).
    """

    name = "ner"
    dataset = "conll2003"
    metric = "f1"
    secondary_metrics = ("precision", "recall")

    def __init__(
        self,
        file_scheme: str = "iob1",
        hub_scheme: str = "iob2",
        encoding: str = "BIOES",
        tag_column: int = -1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for key, value, allowed in (
            ("file_scheme", file_scheme, ("iob1", "iob2")),
            ("hub_scheme", hub_scheme, ("iob1", "iob2")),
            ("encoding", encoding, ("BIO", "BIOES")),
        ):
            if value not in allowed:
                raise ConfigError(f"task.{key} must be one of {allowed}, got {value!r}")
        self.file_scheme = file_scheme
        self.hub_scheme = hub_scheme
        self.encoding = encoding
        self.tag_column = tag_column

    def read_file(self, path: Path, max_samples: int | None) -> list[TaggedSentence]:
        return read_conll(path, tag_column=self.tag_column, max_samples=max_samples)

    def prepare(self, sentences: list[TaggedSentence], from_hub: bool, source: str) -> list[TaggedSentence]:
        scheme = self.hub_scheme if from_hub else self.file_scheme
        converted = []
        for number, sentence in enumerate(sentences, 1):
            try:
                tags = iob1_to_iob2(sentence.tags) if scheme == "iob1" else list(sentence.tags)
                if self.encoding == "BIOES":
                    tags = iob2_to_bioes(tags)
            except ValueError as error:
                raise DataFormatError(source, f"sentence {number} is not {scheme.upper()}: {error}") from None
            converted.append(TaggedSentence(sentence.tokens, tags))
        return converted

    def build_head(self, input_dim: int) -> Head:
        """The head, with its CRF's allowed transitions in the task's encoding (BIO or BIOES)."""
        assert self.labels is not None, "load() first"
        return self.head(input_dim=input_dim, labels=list(self.labels.labels), scheme=self.encoding)

    def complete_labels(self, train: list[TaggedSentence]) -> list[str] | None:
        """Every tag of the encoding for each entity type seen in train (``B-LOC`` even if
        a capped train split only has ``S-LOC``); a type train never saw stays an error."""
        if self.label_set is not None:
            return self.label_set
        types = sorted({split_tag(tag, 0)[1] for sentence in train for tag in sentence.tags} - {""})
        return ["O"] + [f"{prefix}-{kind}" for kind in types for prefix in self.encoding if prefix != "O"]

    def gold_and_predicted(self, split: Split, predictions: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
        gold = [bioes_to_iob2(s.tags) for s in split.examples]
        return gold, [bioes_to_iob2(p) for p in predictions]

    def from_written(self, written: list[list[str]]) -> list[list[str]]:
        return [iob2_to_bioes(tags) for tags in written] if self.encoding == "BIOES" else written

    def score(self, split: Split, predictions: list[list[str]]) -> dict[str, float]:
        gold, predicted = self.gold_and_predicted(split, predictions)
        return span_f1(predicted, gold)

    def example_scores(self, split: Split, predictions: list[list[str]]) -> dict[str, ExampleScores]:
        gold, predicted = self.gold_and_predicted(split, predictions)
        return {"f1": ExampleScores(*span_f1_parts(predicted, gold))}
