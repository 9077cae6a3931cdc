"""Opening task files and walking their lines: what every format reader shares.

A data file is plain text, gzip or zip, told by its first bytes rather than its name. Input a
user can get wrong raises :class:`DataFormatError` naming the file, the 1-based line and what
was expected; a missing file raises :class:`FileNotFoundError`.
"""

from __future__ import annotations

import gzip
import itertools
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, TypeVar

from elmo.errors import UserError

PathLike = str | os.PathLike[str]
T = TypeVar("T")

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile)


class MissingDataError(UserError, FileNotFoundError):
    """A configured data file that is not there, with no hub fallback."""


class DataFormatError(UserError, ValueError):
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


def check_max_samples(max_samples: int | None) -> None:
    """A reader's ``max_samples`` is a positive number or None."""
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"max_samples must be a positive number or None, got {max_samples}")


@contextmanager
def open_data_file(path: PathLike, member: str | None) -> Iterator[tuple[IO[bytes], str]]:
    """Open a plain, gzip or zip file for binary reading; yield the stream and its display name."""
    path = Path(path)
    if not path.exists():
        raise MissingDataError(f"data file not found: {path.absolute()}")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a device or a pipe?)"
        raise DataFormatError(str(path), f"expected a data file, found {kind}")
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


def decode_utf8(raw: bytes, source: str, first_line: int) -> str:
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


def numbered_lines(stream: IO[bytes], source: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` without the line ending; split on newlines only."""
    for number, raw in enumerate(stream, 1):
        text = decode_utf8(raw, source, number).rstrip("\r\n")
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def read_lines(path: PathLike, member: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a plain, gzip or zip data file, for a new format's reader.

    Raises:
        DataFormatError: naming the file and line of bytes that are not UTF-8.
    """
    with open_data_file(path, member) as (stream, source):
        yield from numbered_lines(stream, source)


def line_blocks(lines: Iterable[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
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


def collect(items: Iterable[T], max_samples: int | None, source: str, expected: str) -> list[T]:
    """Take up to ``max_samples`` items; an empty result is an error."""
    collected = list(itertools.islice(items, max_samples))
    if not collected:
        raise DataFormatError(source, f"no sentences or examples found; expected {expected}")
    return collected
