"""Atomic file writes: a reader sees the old file or the complete new one, never a part."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py


def check_writable(folder: str | os.PathLike[str]) -> None:
    """Fail early, before any long work, when files cannot be created in ``folder``.

    The folder (and its parents) is created if missing; a probe file is created and removed,
    which also catches a read-only file system (where even root cannot write).

    Raises:
        OSError: naming ``folder`` (permission denied, a file in the way, read-only, full).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe.")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise with_path(error, folder) from None


def with_path(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """The same kind of error, naming ``path`` (a temporary name means nothing to a user)."""
    if error.errno is None:
        return error
    return type(error)(error.errno, error.strerror or os.strerror(error.errno), str(path))


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` if the block succeeds.

    The temporary file lives in the same folder, so the final ``os.replace`` is atomic;
    on any error it is removed and ``path`` is left as it was. An ``OSError`` from the
    block (a full disk, say) is raised again naming ``path``, not the temporary file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise with_path(error, path.parent) from None
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # mkstemp's 0600 would make every output private
    try:
        yield Path(temp)
        with open(temp, "rb") as written:  # on disk before it takes the final name
            os.fsync(written.fileno())
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        if error.filename in (None, temp):
            raise with_path(error, path) from None
        raise
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextmanager
def hdf5_writer(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """An HDF5 file opened for writing at ``path``, written atomically (see ``atomic_path``).

    HDF5 writes through a Python file object: a failed write (full disk, ``ulimit -f``)
    then comes back as a plain ``OSError``, where HDF5's own file driver leaves the
    library in a state that crashes the process when the file is closed.
    """
    with atomic_path(path) as temp, open(temp, "w+b") as stream:
        file = h5py.File(stream, "w")
        try:
            yield file
        except BaseException:
            with contextlib.suppress(Exception):  # the write failed; closing may fail too
                file.close()
            raise
        file.close()


def write_json_atomic(path: str | os.PathLike[str], data: Any, indent: int | None = 2) -> None:
    """Write ``data`` as JSON (indented, or on one line with ``indent=None``), atomically."""
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(data, indent=indent, sort_keys=True) + "\n", encoding="utf-8")
