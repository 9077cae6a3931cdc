"""Part-of-speech tagging on Universal Dependencies English-EWT: UPOS (or XPOS), token accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elmo.errors import ConfigError
from tasks.data.conllu import read_conllu
from tasks.data.examples import TaggedSentence
from tasks.kinds import TokenLabelTask


class PosTask(TokenLabelTask):
    """POS tagging scored by token accuracy.

    Args:
        tag_field: ``upos`` (17 universal tags) or ``xpos`` (the Penn Treebank tags).
        **kwargs: see :class:`tasks.kinds.LabeledTextTask`.
    """

    name = "pos"
    dataset = "ud_english_ewt"

    def __init__(self, tag_field: str = "upos", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if tag_field not in ("upos", "xpos"):
            raise ConfigError(f"task.tag_field must be 'upos' or 'xpos', got {tag_field!r}")
        self.tag_field = tag_field
        if self.hub:
            self.hub = {**self.hub, "fields": {"tags_field": tag_field, **(self.hub.get("fields") or {})}}

    def complete_labels(self, train: list[TaggedSentence]) -> list[str] | None:
        """The configured tag set (the 17 UPOS tags) for ``upos``; the tags seen in train for ``xpos``."""
        return self.label_set if self.tag_field == "upos" else None

    def read_file(self, path: Path, max_samples: int | None) -> list[TaggedSentence]:
        return read_conllu(path, tag_field=self.tag_field, max_samples=max_samples)  # type: ignore[arg-type]
