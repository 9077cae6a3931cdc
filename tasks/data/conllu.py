"""CoNLL-U (Universal Dependencies): POS-tagged sentences."""

from __future__ import annotations

import logging
import re
from typing import Literal

from tasks.data.examples import TaggedSentence
from tasks.data.files import (
    DataFormatError,
    PathLike,
    check_max_samples,
    collect,
    line_blocks,
    numbered_lines,
    open_data_file,
)

logger = logging.getLogger(__name__)

_CONLLU_TAG_COLUMNS = {"upos": 3, "xpos": 4}
_WORD_ID = re.compile(r"[0-9]+")
_SKIPPED_ID = re.compile(r"[0-9]+-[0-9]+|[0-9]+\.[0-9]+")


def read_conllu(
    path: PathLike,
    *,
    tag_field: Literal["upos", "xpos"] = "upos",
    max_samples: int | None = None,
    member: str | None = None,
) -> list[TaggedSentence]:
    """Read POS-tagged sentences from a CoNLL-U file (Universal Dependencies).

    Comment lines (``#``), multiword-token ranges (``1-2``) and empty nodes (``8.1``)
    are skipped; each word line must have 10 tab-separated columns.

    Args:
        path: The file (plain, gzip or zip).
        tag_field: ``upos`` (column 4) or ``xpos`` (column 5, the PTB tags in EWT).
        max_samples: Read at most this many sentences.
        member: The file inside a zip archive holding several.

    Returns:
        One TaggedSentence per sentence, tokens from the FORM column.
    """
    if tag_field not in _CONLLU_TAG_COLUMNS:
        raise ValueError(
            f"tag_field must be one of {sorted(_CONLLU_TAG_COLUMNS)}, got {tag_field!r}"
        )
    check_max_samples(max_samples)
    with open_data_file(path, member) as (stream, source):
        lines = (
            (number, text)
            for number, text in numbered_lines(stream, source)
            if not text.startswith("#")
        )
        sentences = (_conllu_sentence(block, source, tag_field) for block in line_blocks(lines))
        result = collect(
            sentences, max_samples, source, "CoNLL-U sentences separated by blank lines"
        )
    logger.info("read %d sentences from %s", len(result), source)
    return result


def _conllu_sentence(block: list[tuple[int, str]], source: str, tag_field: str) -> TaggedSentence:
    column = _CONLLU_TAG_COLUMNS[tag_field]
    tokens: list[str] = []
    tags: list[str] = []
    for number, text in block:
        columns = text.split("\t")
        if len(columns) != 10:
            raise DataFormatError(
                source, f"expected 10 tab-separated CoNLL-U columns, found {len(columns)}", number
            )
        word_id = columns[0]
        if _SKIPPED_ID.fullmatch(word_id):
            continue
        if not _WORD_ID.fullmatch(word_id):
            raise DataFormatError(
                source,
                f"expected a word ID (1, 2, ...), a multiword range (1-2) or an empty node (8.1) "
                f"in column 1, found {word_id!r}",
                number,
            )
        if int(word_id) != len(tokens) + 1:
            raise DataFormatError(
                source,
                f"expected word ID {len(tokens) + 1}, found {word_id} "
                "(a blank line missing between sentences?)",
                number,
            )
        tag = columns[column].strip()
        if tag in ("", "_"):
            raise DataFormatError(
                source, f"no {tag_field.upper()} tag in column {column + 1} (found {tag!r})", number
            )
        tokens.append(columns[1])
        tags.append(tag)
    if not tokens:
        raise DataFormatError(
            source, "sentence has no word lines, only ranges or empty nodes", block[0][0]
        )
    return TaggedSentence(tokens, tags)
