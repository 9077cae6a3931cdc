"""Sentence-level sentiment on the Stanford Sentiment Treebank: SST-2 or SST-5, accuracy."""

from __future__ import annotations

from pathlib import Path

from tasks.data.examples import LabeledSentence
from tasks.data.sst import read_sst
from tasks.kinds import SingleLabelTask


class SentimentTask(SingleLabelTask):
    """Sentence classification scored by accuracy; ``files`` are SST line files
    (``<label> <tokens>``). Args: see :class:`tasks.kinds.LabeledTextTask`."""

    name = "sentiment"
    dataset = "sst5"

    def read_file(self, path: Path, max_samples: int | None) -> list[LabeledSentence]:
        return read_sst(path, max_samples=max_samples)
