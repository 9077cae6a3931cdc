"""SST line files: one ``<integer label> <tokenized sentence>`` per line."""

from __future__ import annotations

import logging
import re

from tasks.data.examples import LabeledSentence
from tasks.data.files import (
    DataFormatError,
    PathLike,
    check_max_samples,
    collect,
    numbered_lines,
    open_data_file,
)

logger = logging.getLogger(__name__)

_SST_LABEL = re.compile(r"-?[0-9]+")


def read_sst(
    path: PathLike, *, max_samples: int | None = None, member: str | None = None
) -> list[LabeledSentence]:
    """Read SST sentences, one ``<integer label> <tokenized sentence>`` per line.

    Blank lines are skipped. Labels stay strings (``"0"``/``"1"`` for SST-2, ``"0"``..``"4"``
    for SST-5); tokens are the sentence split on whitespace.

    Args:
        path: The file (plain, gzip or zip).
        max_samples: Read at most this many sentences.
        member: The file inside a zip archive holding several.
    """
    check_max_samples(max_samples)
    with open_data_file(path, member) as (stream, source):
        sentences = (
            _sst_sentence(number, text, source)
            for number, text in numbered_lines(stream, source)
            if text.strip()
        )
        result = collect(
            sentences, max_samples, source, "lines of '<integer label> <tokenized sentence>'"
        )
    logger.info("read %d sentences from %s", len(result), source)
    return result


def _sst_sentence(number: int, text: str, source: str) -> LabeledSentence:
    label, *tokens = text.split()
    if not _SST_LABEL.fullmatch(label):
        raise DataFormatError(
            source,
            f"expected '<integer label> <tokenized sentence>', but the line starts with {label!r}",
            number,
        )
    if not tokens:
        raise DataFormatError(source, f"label {label} has no sentence after it", number)
    return LabeledSentence(tokens, label)
