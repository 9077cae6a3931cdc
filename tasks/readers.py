"""Readers for the task files: CoNLL-U, CoNLL columns, SST lines and SQuAD v1.1 JSON.

Every reader takes a local path (str or Path) to a plain, gzip or zip file (the format is
told by the file's first bytes, not its name) and returns simple dataclasses. Input a user
can get wrong raises :class:`DataFormatError` naming the file, the 1-based line and what
was expected; a missing file raises :class:`FileNotFoundError`. The ``*_from_hub``
functions map Hugging Face ``datasets`` rows to the same dataclasses, and
:func:`load_hub` fetches a split by its hub name (needs the optional ``datasets`` package).
"""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import os
import random
import re
import zipfile
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
T = TypeVar("T")

DOCSTART = "-DOCSTART-"
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile)


class DataFormatError(ValueError):
    """Task data that does not match its format.

    Attributes:
        source: The file (``archive.zip [member]`` for a zip member) or hub dataset.
        message: What was found and what was expected.
        line: 1-based line number, or None where the problem is not on one line.
    """

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.message = message
        self.line = line
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[DataFormatError], tuple[str, str, int | None]]:
        return type(self), (self.source, self.message, self.line)


class HubDatasetError(RuntimeError):
    """A hub dataset that ``datasets`` cannot load, with what to do instead."""


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


_WORD_OR_PUNCT = re.compile(r"\w+|[^\w\s]")


def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Split text into runs of word characters and single other non-space characters.

    Returns:
        ``(token, start, end)`` triples with ``text[start:end] == token``.
    """
    return [(match.group(), match.start(), match.end()) for match in _WORD_OR_PUNCT.finditer(text)]


@dataclass(frozen=True)
class SquadExample:
    """One SQuAD question with its paragraph and gold answers.

    ``answers[i]`` starts at character ``answer_starts[i]`` of ``context``. The token
    properties use :func:`tokenize_with_offsets`; token spans are inclusive.
    """

    question_id: str
    article_title: str
    context: str
    question: str
    answers: list[str]
    answer_starts: list[int]

    @cached_property
    def _context_tokens(self) -> list[tuple[str, int, int]]:
        return tokenize_with_offsets(self.context)

    @property
    def context_tokens(self) -> list[str]:
        """The context's tokens."""
        return [token for token, _, _ in self._context_tokens]

    @property
    def context_offsets(self) -> list[tuple[int, int]]:
        """``(start, end)`` character offsets of each context token."""
        return [(start, end) for _, start, end in self._context_tokens]

    @property
    def question_tokens(self) -> list[str]:
        """The question's tokens."""
        return [token for token, _, _ in tokenize_with_offsets(self.question)]

    @property
    def answer_token_spans(self) -> list[tuple[int, int]]:
        """For each answer, the first and last context token it overlaps (inclusive)."""
        starts = [start for _, start, _ in self._context_tokens]
        ends = [end for _, _, end in self._context_tokens]
        return [
            (bisect_right(ends, start), bisect_left(starts, start + len(text)) - 1)
            for text, start in zip(self.answers, self.answer_starts, strict=True)
        ]

    def span_text(self, first_token: int, last_token: int) -> str:
        """The context text from the start of one token to the end of another (inclusive)."""
        return self.context[
            self._context_tokens[first_token][1] : self._context_tokens[last_token][2]
        ]


# ----------------------------------------------------------------------------- files


def _check_max_samples(max_samples: int | None) -> None:
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"max_samples must be a positive number or None, got {max_samples}")


@contextmanager
def _open_binary(path: PathLike, member: str | None) -> Iterator[tuple[IO[bytes], str]]:
    """Open a plain, gzip or zip file for binary reading; yield the stream and its display name."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path.absolute()}")
    if not path.is_file():
        raise IsADirectoryError(f"expected a data file, found a folder: {path}")
    with path.open("rb") as probe:
        magic = probe.read(4)
    source = str(path)
    if member is not None and magic not in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
        raise DataFormatError(source, f"member {member!r} was asked for, but this is no zip file")
    with ExitStack() as stack:
        if magic in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
            stream, source = stack.enter_context(_open_zip_member(path, member))
        elif magic.startswith(_GZIP_MAGIC):
            stream = stack.enter_context(gzip.open(path, "rb"))
        else:
            stream = stack.enter_context(path.open("rb"))
        try:
            yield stream, source
        except _DECOMPRESSION_ERRORS as error:
            raise DataFormatError(source, f"cannot decompress the file: {error}") from error


@contextmanager
def _open_zip_member(path: Path, member: str | None) -> Iterator[tuple[IO[bytes], str]]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise DataFormatError(str(path), f"not a valid zip archive: {error}") from error
    with archive:
        names = [
            name
            for name in archive.namelist()
            if not name.endswith("/") and not name.startswith("__MACOSX/")
        ]
        if member is None:
            if len(names) != 1:
                raise DataFormatError(
                    str(path),
                    f"a zip archive must hold exactly one file unless member= names one; "
                    f"it holds {len(names)}: {', '.join(names) or 'nothing'}",
                )
            member = names[0]
        elif member not in names:
            held = ", ".join(names) or "nothing"
            raise DataFormatError(
                str(path), f"no member {member!r} in the zip file; it holds: {held}"
            )
        with archive.open(member) as stream:
            yield stream, f"{path} [{member}]"


def _decode(raw: bytes, source: str, first_line: int) -> str:
    """Decode UTF-8 bytes that start on ``first_line``; name the line of a bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        raise DataFormatError(
            source,
            f"invalid UTF-8 byte 0x{raw[error.start]:02x} at byte {error.start - line_start + 1} "
            "of the line; task files must be UTF-8 encoded",
            first_line + raw.count(b"\n", 0, error.start),
        ) from None


def _lines(stream: IO[bytes], source: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` without the line ending; split on newlines only."""
    for number, raw in enumerate(stream, 1):
        text = _decode(raw, source, number).rstrip("\r\n")
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def _blocks(lines: Iterable[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """Group non-blank lines into blocks separated by blank (or whitespace-only) lines."""
    block: list[tuple[int, str]] = []
    for number, text in lines:
        if text.strip():
            block.append((number, text))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _collect(items: Iterable[T], max_samples: int | None, source: str, expected: str) -> list[T]:
    """Take up to ``max_samples`` items; an empty result is an error."""
    collected = list(itertools.islice(items, max_samples))
    if not collected:
        raise DataFormatError(source, f"no sentences or examples found; expected {expected}")
    return collected


# ----------------------------------------------------------------------------- CoNLL-U

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
    _check_max_samples(max_samples)
    with _open_binary(path, member) as (stream, source):
        lines = (
            (number, text) for number, text in _lines(stream, source) if not text.startswith("#")
        )
        sentences = (_conllu_sentence(block, source, tag_field) for block in _blocks(lines))
        result = _collect(
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


# ----------------------------------------------------------------------------- CoNLL columns

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
    Tags come back as written: see :func:`iob1_to_iob2` and :func:`iob1_to_bioes`.

    Args:
        path: The file (plain, gzip or zip).
        tag_column: Index of the tag column, Python style (default the last).
        max_samples: Read at most this many sentences.
        member: The file inside a zip archive holding several.

    Returns:
        One TaggedSentence per sentence.
    """
    _check_max_samples(max_samples)
    with _open_binary(path, member) as (stream, source):
        lines = (
            (number, "" if _is_docstart(text) else text) for number, text in _lines(stream, source)
        )
        sentences = _conll_sentences(_blocks(lines), source, tag_column)
        result = _collect(
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


# ----------------------------------------------------------------------------- tag schemes

_TAG = re.compile(r"([BIES])-(.+)")


def split_tag(tag: str, position: int) -> tuple[str, str]:
    """``B-PER`` -> ``("B", "PER")``; ``O`` -> ``("O", "")``."""
    if tag == "O":
        return "O", ""
    match = _TAG.fullmatch(tag)
    if match is None:
        raise ValueError(
            f"tag {tag!r} at position {position} is neither O nor B-, I-, E- or S- plus a type"
        )
    return match.group(1), match.group(2)


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Convert IOB1 tags (CoNLL-2003) to IOB2 (BIO): every entity starts with ``B-``.

    In IOB1 an entity starts with ``I-`` unless it directly follows one of the same type,
    so an ``I-X`` after ``O``, after another type, or first in the sentence becomes ``B-X``.
    """
    converted = []
    previous_type = ""
    for position, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag, position)
        if prefix in ("E", "S"):
            raise ValueError(f"tag {tag!r} at position {position} is not IOB1")
        if prefix == "I" and entity_type != previous_type:
            prefix = "B"
        converted.append("O" if prefix == "O" else f"{prefix}-{entity_type}")
        previous_type = entity_type
    return converted


def iob2_to_bioes(tags: Sequence[str]) -> list[str]:
    """Convert IOB2 tags to BIOES: single-token entities become ``S-``, last tokens ``E-``."""
    converted = []
    for position, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag, position)
        if prefix in ("E", "S"):
            raise ValueError(f"tag {tag!r} at position {position} is not IOB2")
        if prefix == "I" and (
            position == 0 or split_tag(tags[position - 1], position - 1)[1] != entity_type
        ):
            raise ValueError(
                f"tag {tag!r} at position {position} does not continue an entity, so the tags "
                "are not IOB2 (convert IOB1 with iob1_to_iob2 first)"
            )
        if prefix == "O":
            converted.append("O")
            continue
        following = tags[position + 1] if position + 1 < len(tags) else "O"
        continues = following == f"I-{entity_type}"
        if prefix == "B":
            converted.append(f"{'B' if continues else 'S'}-{entity_type}")
        else:
            converted.append(f"{'I' if continues else 'E'}-{entity_type}")
    return converted


def iob1_to_bioes(tags: Sequence[str]) -> list[str]:
    """Convert IOB1 tags (CoNLL-2003) to BIOES."""
    return iob2_to_bioes(iob1_to_iob2(tags))


# ----------------------------------------------------------------------------- SST

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
    _check_max_samples(max_samples)
    with _open_binary(path, member) as (stream, source):
        sentences = (
            _sst_sentence(number, text, source)
            for number, text in _lines(stream, source)
            if text.strip()
        )
        result = _collect(
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


# ----------------------------------------------------------------------------- SQuAD


def read_squad(
    path: PathLike,
    *,
    max_samples: int | None = None,
    member: str | None = None,
    on_misaligned: Literal["raise", "drop"] = "raise",
) -> list[SquadExample]:
    """Read a SQuAD v1.1 JSON file (such as ``dev-v1.1.json.zip``), one example per question.

    Every answer must sit at its ``answer_start``: ``context[start:start + len(text)] == text``.
    With ``on_misaligned="raise"`` a mismatch raises DataFormatError naming the question;
    with ``"drop"`` the answer is dropped (and a question left without answers too), and one
    warning logs how many were.

    Args:
        path: The file (plain, gzip or zip).
        max_samples: Read at most this many questions.
        member: The file inside a zip archive holding several.
        on_misaligned: What to do with an answer whose offset does not match its text.
    """
    _check_max_samples(max_samples)
    if on_misaligned not in ("raise", "drop"):
        raise ValueError(f"on_misaligned must be 'raise' or 'drop', got {on_misaligned!r}")
    with _open_binary(path, member) as (stream, source):
        raw = stream.read()
    text = _decode(raw, source, 1).removeprefix("\ufeff")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(
            source, f"invalid JSON: {error.msg} (column {error.colno})", error.lineno
        ) from None
    dropped: Counter[str] = Counter()
    examples = _squad_examples(document, source, on_misaligned, dropped)
    result = _collect(
        examples, max_samples, source, "SQuAD v1.1 JSON: data / paragraphs / qas with answers"
    )
    _report_dropped(dropped, source)
    logger.info("read %d questions from %s", len(result), source)
    return result


def _squad_examples(
    document: Any, source: str, on_misaligned: str, dropped: Counter[str]
) -> Iterator[SquadExample]:
    for a, article in enumerate(_json_field(document, "data", list, source, "the top level")):
        title = _json_field(article, "title", str, source, f"data[{a}]")
        for p, paragraph in enumerate(
            _json_field(article, "paragraphs", list, source, f"data[{a}]")
        ):
            where = f"data[{a}].paragraphs[{p}]"
            context = _json_field(paragraph, "context", str, source, where)
            for q, qa in enumerate(_json_field(paragraph, "qas", list, source, where)):
                qa_where = f"{where}.qas[{q}]"
                answers = _json_field(qa, "answers", list, source, qa_where)
                places = [f"{qa_where}.answers[{i}]" for i in range(len(answers))]
                example = _squad_example(
                    source,
                    qa_where,
                    question_id=_json_field(qa, "id", str, source, qa_where),
                    article_title=title,
                    context=context,
                    question=_json_field(qa, "question", str, source, qa_where),
                    texts=[
                        _json_field(answer, "text", str, source, at)
                        for answer, at in zip(answers, places, strict=True)
                    ],
                    starts=[
                        _json_field(answer, "answer_start", int, source, at)
                        for answer, at in zip(answers, places, strict=True)
                    ],
                    on_misaligned=on_misaligned,
                    dropped=dropped,
                )
                if example is not None:
                    yield example


def _json_field(node: Any, key: str, kind: type, source: str, where: str) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get(key), kind):
        raise DataFormatError(
            source, f"{where}: expected a key {key!r} holding a {kind.__name__} (SQuAD v1.1 layout)"
        )
    return node[key]


def _squad_example(
    source: str,
    where: str,
    *,
    question_id: str,
    article_title: str,
    context: str,
    question: str,
    texts: list[str],
    starts: list[int],
    on_misaligned: str,
    dropped: Counter[str],
) -> SquadExample | None:
    """Check one question's answers against the context; None if all its answers were dropped."""
    where = f"{where} (question {question_id!r}, article {article_title!r})"
    if len(texts) != len(starts):
        raise DataFormatError(
            source, f"{where}: {len(texts)} answer texts but {len(starts)} starts"
        )
    if not texts:
        raise DataFormatError(
            source, f"{where}: no answers (SQuAD v2.0 unanswerable questions are not supported)"
        )
    kept_texts, kept_starts = [], []
    for text, start in zip(texts, starts, strict=True):
        if not text.strip():
            raise DataFormatError(source, f"{where}: an answer text is empty")
        found = context[start : start + len(text)] if start >= 0 else ""
        if found == text:
            kept_texts.append(text)
            kept_starts.append(start)
        elif on_misaligned == "raise":
            raise DataFormatError(
                source,
                f"{where}: answer {text!r} is not at answer_start={start}; the context there "
                f"reads {found!r} (pass on_misaligned='drop' to drop such answers)",
            )
        else:
            dropped["answers"] += 1
    if not kept_texts:
        dropped["questions"] += 1
        return None
    return SquadExample(question_id, article_title, context, question, kept_texts, kept_starts)


def _report_dropped(dropped: Counter[str], source: str) -> None:
    if dropped:
        logger.warning(
            "%s: dropped %d answers whose answer_start does not match their text, "
            "and %d questions left without one",
            source,
            dropped["answers"],
            dropped["questions"],
        )


def split_by_article(
    examples: Sequence[SquadExample],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> tuple[list[SquadExample], list[SquadExample], list[SquadExample]]:
    """Split SQuAD questions into train, dev and test by article, never by question.

    The distinct article titles are sorted, shuffled with ``random.Random(seed)`` and cut by
    ``fractions`` of the article count (train and dev rounded, test the rest), so no article
    has questions on two sides and the split does not depend on the input order. Questions
    keep their input order inside a split.

    Raises:
        ValueError: If the fractions are not three non-negative numbers summing to 1, or a
            split with a positive fraction would get no article.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    titles = sorted({example.article_title for example in examples})
    random.Random(seed).shuffle(titles)
    n_train = round(fractions[0] * len(titles))
    n_dev = min(round(fractions[1] * len(titles)), len(titles) - n_train)
    side = {
        title: 0 if i < n_train else 1 if i < n_train + n_dev else 2
        for i, title in enumerate(titles)
    }
    splits: tuple[list[SquadExample], list[SquadExample], list[SquadExample]] = ([], [], [])
    for example in examples:
        splits[side[example.article_title]].append(example)
    empty = [
        name
        for name, fraction, part in zip(("train", "dev", "test"), fractions, splits, strict=True)
        if fraction and not part
    ]
    if empty:
        raise ValueError(
            f"{len(titles)} articles are too few for fractions {fractions}: "
            f"the {' and '.join(empty)} split would be empty"
        )
    logger.info(
        "split %d articles (seed %d) into %d / %d / %d train / dev / test questions",
        len(titles),
        seed,
        *(len(part) for part in splits),
    )
    return splits


# ----------------------------------------------------------------------------- Hugging Face hub


def _class_names(feature: Any) -> list[str] | None:
    """The names of a ClassLabel feature, or of the ClassLabel inside a sequence feature."""
    return getattr(getattr(feature, "feature", feature), "names", None)


def _require_columns(dataset: datasets.Dataset, columns: Sequence[str], source: str) -> None:
    missing = [column for column in columns if column not in dataset.column_names]
    if missing:
        raise DataFormatError(
            source,
            f"no column {', '.join(missing)}; the dataset has {', '.join(dataset.column_names)}",
        )


def tagged_from_hub(
    dataset: datasets.Dataset,
    *,
    tags_field: str,
    tokens_field: str = "tokens",
    max_samples: int | None = None,
    source: str = "hub dataset",
) -> list[TaggedSentence]:
    """Map hub rows with a token list and a tag list (``conll2003``, ``wnut_17``) to TaggedSentence.

    Class-label tags are turned into their names; rows without tokens are skipped.
    """
    _check_max_samples(max_samples)
    _require_columns(dataset, [tokens_field, tags_field], source)
    names = _class_names(dataset.features[tags_field])

    def convert(row_index: int, row: dict[str, Any]) -> TaggedSentence:
        tokens = [str(token) for token in row[tokens_field]]
        tags = [names[tag] if names is not None else str(tag) for tag in row[tags_field]]
        if len(tags) != len(tokens):
            raise DataFormatError(
                source, f"row {row_index}: {len(tokens)} tokens but {len(tags)} tags"
            )
        return TaggedSentence(tokens, tags)

    rows = (convert(i, row) for i, row in enumerate(dataset) if row[tokens_field])
    return _collect(rows, max_samples, source, f"rows with {tokens_field!r} and {tags_field!r}")


def labeled_from_hub(
    dataset: datasets.Dataset,
    *,
    text_field: str = "sentence",
    label_field: str = "label",
    max_samples: int | None = None,
    source: str = "hub dataset",
) -> list[LabeledSentence]:
    """Map rows with a sentence string and a label (e.g. ``sst2``) to LabeledSentence.

    The sentence is split on whitespace; a class label becomes its name. A negative class
    label (GLUE's hidden test labels) raises DataFormatError.
    """
    _check_max_samples(max_samples)
    _require_columns(dataset, [text_field, label_field], source)
    names = _class_names(dataset.features[label_field])

    def convert(row_index: int, row: dict[str, Any]) -> LabeledSentence:
        label = row[label_field]
        if names is not None:
            if label < 0:
                raise DataFormatError(
                    source, f"row {row_index}: label {label} means the split has no gold labels"
                )
            label = names[label]
        return LabeledSentence(row[text_field].split(), str(label))

    rows = (convert(i, row) for i, row in enumerate(dataset) if row[text_field].strip())
    return _collect(rows, max_samples, source, f"rows with {text_field!r} and {label_field!r}")


def squad_from_hub(
    dataset: datasets.Dataset,
    *,
    max_samples: int | None = None,
    source: str = "hub dataset",
    on_misaligned: Literal["raise", "drop"] = "raise",
) -> list[SquadExample]:
    """Map ``squad`` rows (id, title, context, question, answers) to SquadExample.

    Answers are checked against the context as in :func:`read_squad`.
    """
    _check_max_samples(max_samples)
    _require_columns(dataset, ["id", "title", "context", "question", "answers"], source)
    dropped: Counter[str] = Counter()
    rows = (
        _squad_example(
            source,
            f"row {i}",
            question_id=str(row["id"]),
            article_title=row["title"],
            context=row["context"],
            question=row["question"],
            texts=list(row["answers"]["text"]),
            starts=list(row["answers"]["answer_start"]),
            on_misaligned=on_misaligned,
            dropped=dropped,
        )
        for i, row in enumerate(dataset)
    )
    result = _collect((row for row in rows if row is not None), max_samples, source, "SQuAD rows")
    _report_dropped(dropped, source)
    return result


_HUB_PRESETS: dict[str, tuple[Callable[..., list[Any]], dict[str, str]]] = {
    "conll2003": (tagged_from_hub, {"tags_field": "ner_tags"}),
    "wnut_17": (tagged_from_hub, {"tags_field": "ner_tags"}),
    "universal_dependencies": (tagged_from_hub, {"tags_field": "upos"}),
    "sst2": (labeled_from_hub, {"text_field": "sentence", "label_field": "label"}),
    "sst5": (labeled_from_hub, {"text_field": "text", "label_field": "label"}),
    "squad": (squad_from_hub, {}),
}


_LOCAL_DATA_HINT = "give local files (task.files.<split>=PATH) or a local copy of the dataset as data files (task.hub.name=DIR)"


def load_hub(
    name: str,
    split: str,
    *,
    config: str | None = None,
    revision: str | None = None,
    max_samples: int | None = None,
    **fields: str,
) -> list[Any]:
    """Load a split of a Hugging Face dataset and map it to this module's dataclasses.

    ``name`` is a hub id or a local directory laid out as a hub dataset repository (data
    files, and a README whose ``configs`` name the configs). Known names (matched on the
    part after the last ``/``): ``conll2003``, ``wnut_17``, ``universal_dependencies`` (with
    ``config="en_ewt"``), ``sst2``, ``sst5`` and ``squad``. Tags and labels are taken as the
    hub stores them; ``fields`` overrides the column names, e.g. ``tags_field="pos_tags"``.

    Raises:
        HubDatasetError: the hub is out of reach, the dataset does not exist, or it is a
            loading script (which ``datasets`` 4 and later no longer run); the message
            says what to set instead.
    """
    key = name.rsplit("/", 1)[-1]
    if key not in _HUB_PRESETS:
        raise ValueError(f"no hub mapping for {name!r}; known: {', '.join(sorted(_HUB_PRESETS))}")
    import datasets  # optional dependency, only needed here
    from datasets.exceptions import DatasetNotFoundError

    convert, defaults = _HUB_PRESETS[key]
    where = f"hub dataset {name!r}" + (f" (config {config!r})" if config else "")
    try:
        dataset = datasets.load_dataset(name, config, split=split, revision=revision)
    except ConnectionError as error:
        raise HubDatasetError(f"{where}: the hub cannot be reached ({error}); {_LOCAL_DATA_HINT}") from None
    except DatasetNotFoundError as error:
        raise HubDatasetError(f"{where}: {error}; check task.hub.name, or {_LOCAL_DATA_HINT}") from None
    except RuntimeError as error:
        if "scripts are no longer supported" not in str(error):
            raise
        raise HubDatasetError(
            f"{where} is a loading script, which datasets {datasets.__version__} no longer runs; "
            f"try the hub's Parquet export (+task.hub.revision=refs/convert/parquet), or {_LOCAL_DATA_HINT}"
        ) from None
    except ValueError as error:  # e.g. an unknown config or split
        raise HubDatasetError(f"{where}, split {split!r}: {error}") from None
    return convert(
        dataset, max_samples=max_samples, source=f"hub {name}[{split}]", **{**defaults, **fields}
    )


# ----------------------------------------------------------------------------- labels

Example = TypeVar("Example", TaggedSentence, LabeledSentence)


def _labels_of(example: TaggedSentence | LabeledSentence) -> list[str]:
    return example.tags if isinstance(example, TaggedSentence) else [example.label]


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
        cls, train: Iterable[TaggedSentence] | Iterable[LabeledSentence], source: str = "train"
    ) -> LabelVocabulary:
        """Collect the labels (tags or sentence labels) that occur in the training split."""
        labels = {label for example in train for label in _labels_of(example)}
        if not labels:
            raise ValueError(f"{source}: the training split has no labels")
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
            raise ValueError(
                f"map_to must be a label seen in training ({self.train_source}), got {map_to!r}"
            )
        unseen: Counter[str] = Counter()
        checked = []
        for position, example in enumerate(examples, 1):
            labels = _labels_of(example)
            new = [label for label in labels if label not in self]
            if not new:
                checked.append(example)
                continue
            if unknown == "raise":
                raise DataFormatError(
                    source,
                    f"label {new[0]!r} in the {split} split (sentence {position}) never occurs in "
                    f"the training data ({self.train_source}); known labels: "
                    f"{', '.join(self.labels)}. Pass unknown='map' with map_to=<a known label> "
                    "to replace unseen labels",
                )
            unseen.update(new)
            mapped = [label if label in self else map_to for label in labels]
            if isinstance(example, TaggedSentence):
                checked.append(TaggedSentence(example.tokens, mapped))
            else:
                checked.append(LabeledSentence(example.tokens, mapped[0]))
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
