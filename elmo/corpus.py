"""The text side of biLM language-model pretraining: tokenize, stream, split and count a corpus.

The biLM of Peters et al. (2018) is trained on sentences, each scored in both directions with
``<S>`` and ``</S>`` around it, and its softmax runs over a fixed output vocabulary. This module
turns raw text into those sentences and that vocabulary:

- **Tokens** follow the Penn Treebank convention of the task datasets (CoNLL-2003, UD EWT):
  punctuation split off, ``do n't``, ``Smith 's``, numbers like ``1,234.56`` and abbreviations like
  ``U.S.`` kept whole, hyphenated words kept whole. Double quotes stay ``"`` (as in those datasets)
  instead of the PTB `````` / ``''`` pair, and typographic quotes and dashes are mapped to ASCII.
- **Sentences** come from paragraphs: a blank line ends a paragraph, and so does a line indented
  deeper than the one before it (Reuters starts each paragraph, and ends its headline, that way).
  Hard-wrapped lines are joined, ``well-`` + ``known`` into ``well-known``.
- **Files** are read streaming, one line at a time: plain, ``.gz`` and ``.xz`` text, folders of
  them (recursively, in sorted order), and ``.tar``/``.tar.gz``/``.tar.xz`` archives (members in
  archive order). Inside folders and archives only corpus text is read: names ending in ``.txt``
  or with no extension (Reuters stories are ``training/123``), less metadata such as ``README``,
  ``LICENSE``, ``stopwords`` and Reuters' category list ``cats.txt``.
- **Held-out split** by a keyed hash of the sentence's tokens, so a sentence falls on the same
  side whatever the reading order, and repeated sentences never straddle the split.
- **Vocabulary** files list ``<S>``, ``</S>``, ``<UNK>``, then words by descending frequency, one
  per line, as bilm-tf's do.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import logging
import lzma
import os
import re
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from nltk.tokenize import NLTKWordTokenizer
from sentencex import segment

from elmo.errors import UserError
from elmo.io import atomic_path

logger = logging.getLogger(__name__)

BOS = "<S>"
EOS = "</S>"
UNK = "<UNK>"
SPECIAL_TOKENS = (BOS, EOS, UNK)

PathLike = str | os.PathLike[str]
CorpusPaths = PathLike | Sequence[PathLike]
EncodingErrors = Literal["strict", "replace"]

# Typographic quotes would otherwise stay glued to contractions ("don’t") and give a second
# spelling of every quote token; the em dash becomes the PTB "--".
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "—": " -- ", "―": " -- "}
)
_PTB_QUOTES = {"``": '"', "''": '"'}
# The tokenizer splits a sentence's final period off "U.S." too; the Penn Treebank and CoNLL-2003
# write "U.S. ." there, so that the abbreviation has one spelling wherever it stands.
_DOTTED_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_WORD_TOKENIZER = NLTKWordTokenizer()

# Gutenberg marks italics with underscores (even inside words: "_un_moral"), and Reuters escapes
# "<" as "&lt;"; only these three entities occur, and a general HTML unescape would also rewrite
# prose such as "&not" without a semicolon.
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_MARKUP = re.compile(r"_|&(?:lt|gt|amp);")

# A paragraph is flushed past this size so that a file with no blank lines (a table, a dump)
# cannot pull itself into memory whole; the cost is, rarely, a sentence cut at a line break.
_MAX_PARAGRAPH_CHARS = 1 << 16

_COMPRESSED = {".gz": gzip.open, ".xz": lzma.open}
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz")
_TEXT_SUFFIXES = {"", ".txt"}
_METADATA_STEMS = {"readme", "license", "licence", "copying", "stopwords", "cats"}
_READ_ERRORS = (OSError, EOFError, lzma.LZMAError, tarfile.TarError, zlib.error)


class CorpusError(UserError, ValueError):
    """A corpus or vocabulary file that cannot be used; the message names the file."""


def tokenize(sentence: str) -> list[str]:
    """Splits one sentence into Penn-Treebank-style tokens.

    Args:
        sentence: Raw text of a single sentence (the tokenizer only splits a final period).

    Returns:
        The tokens, with double quotes as ``"``.
    """
    tokens = [
        _PTB_QUOTES.get(token, token)
        for token in _WORD_TOKENIZER.tokenize(sentence.translate(_TYPOGRAPHY))
    ]
    if len(tokens) > 1 and tokens[-1] == "." and _DOTTED_ABBREVIATION.fullmatch(tokens[-2]):
        tokens[-2] += "."
    return tokens


def split_sentences(text: str) -> list[str]:
    """Splits a paragraph into sentences (rule-based, with English abbreviation lists).

    Args:
        text: A paragraph on one line.

    Returns:
        The non-blank sentences, stripped.
    """
    return [sentence.strip() for sentence in segment("en", text) if sentence.strip()]


def tokenize_paragraph(text: str) -> list[list[str]]:
    """Cleans corpus markup from a paragraph, splits it into sentences and tokenizes them.

    Args:
        text: A paragraph on one line.

    Returns:
        One token list per non-empty sentence.
    """
    text = _MARKUP.sub(lambda match: _ENTITIES.get(match.group(), ""), text)
    sentences = (tokenize(sentence) for sentence in split_sentences(text))
    return [tokens for tokens in sentences if tokens]


@dataclass(frozen=True)
class HeldOutSplit:
    """A reproducible train / held-out split keyed by each sentence's tokens.

    Attributes:
        fraction: Share of sentences held out, in [0, 1].
        seed: Key of the hash; another seed draws another held-out set.
    """

    fraction: float = 0.01
    seed: int = 0
    _key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"held-out fraction must be in [0, 1], got {self.fraction}")
        # blake2b keys are at most 64 bytes; any integer seed folds into 16.
        key = hashlib.blake2b(str(self.seed).encode(), digest_size=16).digest()
        object.__setattr__(self, "_key", key)

    def is_heldout(self, tokens: Sequence[str]) -> bool:
        """Whether this sentence belongs to the held-out side."""
        digest = hashlib.blake2b(" ".join(tokens).encode(), digest_size=8, key=self._key).digest()
        return int.from_bytes(digest, "little") < self.fraction * 2.0**64


def corpus_files(paths: CorpusPaths) -> list[Path]:
    """Lists the files a corpus reads, in reading order.

    Args:
        paths: A file, a folder or an archive, or a sequence of them (read in the given order).
            Folders are walked recursively in sorted order, keeping only corpus text.

    Returns:
        The files and archives to read.

    Raises:
        CorpusError: A path is missing, or a folder holds no corpus text.
    """
    files: list[Path] = []
    for path in _as_path_list(paths):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = sorted(
                (child for child in path.rglob("*") if child.is_file()),
                key=lambda child: child.relative_to(path).as_posix(),
            )
            kept = [child for child in found if _is_archive(child.name) or _is_text(child.name)]
            if not kept:
                raise CorpusError(f"no corpus text files under folder {path}")
            logger.debug(
                "%s: %d corpus files, %d others skipped", path, len(kept), len(found) - len(kept)
            )
            files.extend(kept)
        else:
            raise CorpusError(f"corpus path not found: {path}")
    return files


def iter_paragraphs(paths: CorpusPaths, errors: EncodingErrors = "strict") -> Iterator[str]:
    """Streams the paragraphs of a corpus, each joined onto one line.

    Args:
        paths: As for :func:`corpus_files`.
        errors: ``"strict"`` fails on the first byte that is not UTF-8; ``"replace"`` reads it as
            U+FFFD and logs a warning naming the file, line and byte (Reuters-21578 has one such
            byte, in ``test/17980``).

    Returns:
        An iterator over paragraphs, the wrapped lines of each joined onto one line.

    Raises:
        CorpusError: A path is missing (at the call), or, while iterating, a file is not UTF-8
            (naming the line and byte offset) or a compressed file or archive is corrupt.
    """
    files = _checked_files(paths, errors)
    return itertools.chain.from_iterable(_file_paragraphs(path, errors) for path in files)


def iter_sentences(
    paths: CorpusPaths,
    part: Literal["all", "train", "heldout"] = "all",
    split: HeldOutSplit | None = None,
    errors: EncodingErrors = "strict",
) -> Iterator[list[str]]:
    """Streams the tokenized sentences of a corpus without holding it in memory.

    Args:
        paths: As for :func:`corpus_files`.
        part: Every sentence, or only those on one side of ``split``.
        split: The held-out split; ``HeldOutSplit()`` when not given.
        errors: As for :func:`iter_paragraphs`.

    Returns:
        An iterator over token lists.

    Raises:
        CorpusError: As for :func:`iter_paragraphs`, and at the end of an iteration when the
            corpus has no token at all.
    """
    if part not in ("all", "train", "heldout"):
        raise ValueError(f"part must be 'all', 'train' or 'heldout', got {part!r}")
    files = _checked_files(paths, errors)
    return _sentences(files, part, split or HeldOutSplit(), errors)


def count_words(sentences: Iterable[Sequence[str]]) -> Counter[str]:
    """Counts token occurrences over a stream of sentences."""
    counts: Counter[str] = Counter()
    for tokens in sentences:
        counts.update(tokens)
    return counts


class Vocabulary:
    """The biLM's output vocabulary: ``<S>``, ``</S>``, ``<UNK>``, then words by frequency.

    Args:
        words: Every entry in id order; must hold the three special tokens exactly once each.
    """

    def __init__(self, words: Sequence[str]) -> None:
        self.words: tuple[str, ...] = tuple(words)
        self._ids = {word: index for index, word in enumerate(self.words)}
        if len(self._ids) != len(self.words):
            duplicate = next(word for word, count in Counter(self.words).items() if count > 1)
            raise ValueError(f"duplicate vocabulary entry {duplicate!r}")
        missing = [token for token in SPECIAL_TOKENS if token not in self._ids]
        if missing:
            raise ValueError(f"vocabulary lacks the special tokens {missing}")
        self.bos_id = self._ids[BOS]
        self.eos_id = self._ids[EOS]
        self.unk_id = self._ids[UNK]

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], max_words: int | None = None, min_count: int = 1
    ) -> Vocabulary:
        """Keeps the most frequent words.

        Args:
            counts: Word counts, e.g. from :func:`count_words`.
            max_words: How many words to keep besides the special tokens; all when ``None``.
            min_count: Words seen fewer times are left out.

        Returns:
            The vocabulary; ties in frequency are ordered by the word, so it does not depend on
            the order the corpus was read in.
        """
        ranked = sorted(
            (
                word
                for word, count in counts.items()
                if count >= min_count and word not in SPECIAL_TOKENS
            ),
            key=lambda word: (-counts[word], word),
        )
        return cls(SPECIAL_TOKENS + tuple(ranked[:max_words]))

    @classmethod
    def load(cls, path: PathLike) -> Vocabulary:
        """Reads a vocabulary file, one word per line (bilm-tf's format).

        Raises:
            CorpusError: The file is missing, not UTF-8, has a blank, padded or repeated line, or
                lacks a special token.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CorpusError(f"cannot read vocabulary file {path}: {error}") from error
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise CorpusError(
                f"vocabulary file {path}: line {line} (byte {error.start}) is not UTF-8"
            ) from error
        words = text.splitlines()
        seen: dict[str, int] = {}
        for line, word in enumerate(words, 1):
            if not word or word != word.strip() or len(word.split()) != 1:
                raise CorpusError(f"vocabulary file {path}: line {line} is not one word: {word!r}")
            if word in seen:
                raise CorpusError(
                    f"vocabulary file {path}: line {line} repeats {word!r} from line {seen[word]}"
                )
            seen[word] = line
        missing = [token for token in SPECIAL_TOKENS if token not in seen]
        if missing:
            raise CorpusError(f"vocabulary file {path} lacks the special tokens {missing}")
        return cls(words)

    def save(self, path: PathLike) -> None:
        """Writes the vocabulary atomically: readers see the old file or the new one, never half."""
        with atomic_path(path) as temporary:
            with open(temporary, "w", encoding="utf-8", newline="\n") as stream:
                stream.writelines(f"{word}\n" for word in self.words)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.words)} entries)"

    def word_id(self, word: str) -> int:
        """The id of a word, or of ``<UNK>`` when it is out of the vocabulary."""
        return self._ids.get(word, self.unk_id)

    def coverage(self, counts: Mapping[str, int]) -> float:
        """Share of the counted tokens that are in the vocabulary (special tokens aside).

        Raises:
            ValueError: ``counts`` holds no token.
        """
        total = sum(count for word, count in counts.items() if word not in SPECIAL_TOKENS)
        if total == 0:
            raise ValueError("cannot measure coverage on no tokens")
        known = sum(
            count
            for word, count in counts.items()
            if word in self._ids and word not in SPECIAL_TOKENS
        )
        return known / total


def _checked_files(paths: CorpusPaths, errors: str) -> list[Path]:
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', got {errors!r}")
    return corpus_files(paths)


def _as_path_list(paths: CorpusPaths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(path) for path in paths]


def _is_archive(name: str) -> bool:
    return name.lower().endswith(_ARCHIVE_SUFFIXES)


def _is_text(name: str) -> bool:
    base = PurePosixPath(name).name.lower()
    for suffix in _COMPRESSED:
        base = base.removesuffix(suffix)
    plain = PurePosixPath(base)
    return (
        not base.startswith(".")
        and plain.suffix in _TEXT_SUFFIXES
        and plain.stem not in _METADATA_STEMS
    )


def _sentences(
    files: list[Path], part: str, split: HeldOutSplit, errors: EncodingErrors
) -> Iterator[list[str]]:
    seen_tokens = False
    for path in files:
        file_tokens = 0
        for paragraph in _file_paragraphs(path, errors):
            for tokens in tokenize_paragraph(paragraph):
                file_tokens += len(tokens)
                if part == "all" or split.is_heldout(tokens) == (part == "heldout"):
                    yield tokens
        if file_tokens == 0:
            logger.warning("%s: no tokens", path)
        seen_tokens = seen_tokens or file_tokens > 0
    if not seen_tokens:
        names = ", ".join(str(path) for path in files[:5]) + (", ..." if len(files) > 5 else "")
        raise CorpusError(f"empty corpus: no tokens in {names}")


def _file_paragraphs(path: Path, errors: EncodingErrors) -> Iterator[str]:
    logger.debug("reading %s", path)
    try:
        if _is_archive(path.name):
            yield from _archive_paragraphs(path, errors)
        else:
            opener = _COMPRESSED.get(path.suffix.lower(), open)
            with opener(path, "rb") as stream:
                yield from _paragraphs(stream, str(path), errors)
    except _READ_ERRORS as error:
        raise CorpusError(f"cannot read {path}: {error}") from error


def _archive_paragraphs(path: Path, errors: EncodingErrors) -> Iterator[str]:
    # "r|*" reads the archive as a stream (no seeking back), so members come in archive order and
    # each one must be consumed before the next.
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            if not member.isfile() or not _is_text(member.name):
                logger.debug("%s: skipping member %s", path, member.name)
                continue
            stream = archive.extractfile(member)
            opener = _COMPRESSED.get(PurePosixPath(member.name).suffix.lower())
            if stream is not None:
                with opener(stream, "rb") if opener else stream as text:
                    yield from _paragraphs(text, f"{path}:{member.name}", errors)


def _paragraphs(stream: IO[bytes], name: str, errors: EncodingErrors) -> Iterator[str]:
    # Lines are decoded one by one, not through a text wrapper, so that an encoding error can
    # name its line and byte offset.
    lines: list[str] = []
    size = 0
    previous_indent = 0
    offset = 0
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"{name}: line {number} (byte {offset + error.start}) is not UTF-8"
            if errors == "strict":
                raise CorpusError(message) from error
            logger.warning("%s; read as U+FFFD", message)
            line = raw.decode("utf-8", errors="replace")
        offset += len(raw)
        if number == 1:
            line = line.removeprefix("\ufeff")
        text = line.strip()
        indent = len(line) - len(line.lstrip())
        if lines and (not text or indent > previous_indent or size > _MAX_PARAGRAPH_CHARS):
            yield _join_lines(lines)
            lines, size = [], 0
        if text:
            lines.append(text)
            size += len(text)
            previous_indent = indent
    if lines:
        yield _join_lines(lines)


def _join_lines(lines: list[str]) -> str:
    pieces = [lines[0]]
    for previous, line in itertools.pairwise(lines):
        # A word hyphenated across a line break keeps its hyphen ("well-" + "known"); the
        # Gutenberg transcriptions removed printers' soft hyphens, so the hyphen is the author's.
        if not (len(previous) > 1 and previous[-1] == "-" and previous[-2].isalpha()):
            pieces.append(" ")
        pieces.append(line)
    return "".join(pieces)
