"""CoNLL column files (CoNLL-2003, CoNLL-2000, WNUT-17): one token per line, token first."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

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

DOCSTART = "-DOCSTART-"
_SEPARATOR_NAMES = {"\t": "tab", " ": "space"}


def read_conll(
    path: PathLike,
    *,
    tag_column: int = -1,
    max_samples: int | None = None,
    member: str | None = None,
) -> list[TaggedSentence]:
    """Read tagged sentences from a CoNLL column file: one token per line, token first.

    Covers CoNLL-2003 (``token POS chunk NER``, space separated, IOB1 tags), CoNLL-2000
    (``token POS chunk``) and WNUT-17 (``token<TAB>tag``, IOB2). Columns are separated by
    tabs or by single spaces, told from the first token line; a file must not mix the two,
    and every token line must have as many columns as the first. A blank (or
    whitespace-only) line ends a sentence; ``-DOCSTART-`` lines end one and are skipped.
    Tags come back as written: see :mod:`tasks.data.schemes`.

    Args:
        path: The file (plain, gzip or zip).
        tag_column: Index of the tag column, Python style (default the last).
        max_samples: Read at most this many sentences.
        member: The file inside a zip archive holding several.

    Returns:
        One TaggedSentence per sentence.
    """
    check_max_samples(max_samples)
    with open_data_file(path, member) as (stream, source):
        lines = (
            (number, "" if _is_docstart(text) else text)
            for number, text in numbered_lines(stream, source)
        )
        sentences = _conll_sentences(line_blocks(lines), source, tag_column)
        result = collect(
            sentences, max_samples, source, "token lines with tags, blank lines between sentences"
        )
    logger.info("read %d sentences from %s", len(result), source)
    return result


def _is_docstart(text: str) -> bool:
    return text.startswith(DOCSTART) and text.split()[0] == DOCSTART


def _conll_sentences(
    blocks: Iterable[list[tuple[int, str]]], source: str, tag_column: int
) -> Iterator[TaggedSentence]:
    layout: tuple[str, int, int] | None = None  # separator, column count, line of the first token
    for block in blocks:
        tokens: list[str] = []
        tags: list[str] = []
        for number, text in block:
            text = text.rstrip()
            if layout is None:
                separator = "\t" if "\t" in text else " "
                layout = (separator, len(text.split(separator)), number)
                if layout[1] < 2:
                    raise DataFormatError(
                        source, f"expected a token and a tag, found only {text!r}", number
                    )
                if not -layout[1] <= tag_column < layout[1] or tag_column % layout[1] == 0:
                    raise DataFormatError(
                        source,
                        f"tag_column={tag_column} is no tag column of this {layout[1]}-column file",
                        number,
                    )
            separator, count, first = layout
            other = " " if separator == "\t" else "\t"
            if other in text:
                raise DataFormatError(
                    source,
                    f"mixed tab and space column separators: columns are "
                    f"{_SEPARATOR_NAMES[separator]}-separated (as on line {first}) "
                    f"but this line holds a {_SEPARATOR_NAMES[other]}",
                    number,
                )
            columns = text.split(separator)
            if len(columns) != count:
                missing = ": the tag is missing" if len(columns) == 1 else ""
                raise DataFormatError(
                    source,
                    f"expected {count} {_SEPARATOR_NAMES[separator]}-separated columns "
                    f"(token first) as on line {first}, found {len(columns)}{missing}",
                    number,
                )
            if "" in columns:
                raise DataFormatError(
                    source,
                    f"column {columns.index('') + 1} is empty (two separators in a row?)",
                    number,
                )
            tokens.append(columns[0])
            tags.append(columns[tag_column])
        yield TaggedSentence(tokens, tags)
