"""The activation cache: a frozen embedder's layers for a dataset split, computed once.

An entry is a folder named by ``sha256(embedder fingerprint, texts fingerprint, dtype)``
holding ``layers.npy`` (all tokens of all texts, ``(tokens, layers, dim)``, read back
memory-mapped), ``offsets.npy`` (text ``i`` is rows ``offsets[i]:offsets[i+1]``) and
``meta.json``. It is written in a temporary folder and renamed into place, so a reader
sees a complete entry or none; a lock file makes parallel jobs that need the same entry
compute it once (the others wait, then read it).

The cache heals and never destroys: an entry that cannot be read back (a truncated array,
a corrupt ``meta.json``, a wrong dtype or shape, an object array, which is never
unpickled) is logged as one warning and computed again; a killed writer's temporary folder
is removed by the next writer of that entry. The folder carries a marker file from its
creation; ``elmo-cache clear`` removes only what it recognises as the cache's own and
refuses a folder that is not a cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from elmo.cli import DEBUG_HELP, command_line
from elmo.errors import ConfigError, one_line
from elmo.io import with_path
from elmo.progress import progress_bar
from tasks.cache_folder import (
    ENTRY_FILES,
    CacheListing,
    check_cache_folder,
    cleared_lines,
    folder_size,
    is_temporary_of,
    key_of,
    kind_of,
    listing_lines,
    prepare_cache_folder,
    remove_entry_folder,
    unless_busy,
)
from tasks.embedders.base import Embedder

logger = logging.getLogger(__name__)

_DTYPES = {"float32": np.float32, "float16": np.float16}
_CHUNK_TEXTS = 256


@dataclass(frozen=True)
class FeatureStore:
    """Layer activations of a list of texts.

    Attributes:
        data: ``(total tokens, layers, dim)``, possibly memory-mapped.
        offsets: ``(texts + 1,)``; text ``i`` is ``data[offsets[i]:offsets[i + 1]]``.
    """

    data: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def num_layers(self) -> int:
        return self.data.shape[1]

    @property
    def dim(self) -> int:
        return self.data.shape[2]

    def length(self, index: int) -> int:
        return int(self.offsets[index + 1] - self.offsets[index])

    def get(self, index: int, start: int = 0, end: int | None = None) -> torch.Tensor:
        """Tokens ``start:end`` of text ``index`` as a float32 ``(tokens, layers, dim)`` tensor."""
        first = int(self.offsets[index])
        last = int(self.offsets[index + 1]) if end is None else first + end
        rows = self.data[first + start : last]
        return torch.from_numpy(np.array(rows, dtype=np.float32))  # a copy: the entry is read-only

    def read_into(self, out: np.ndarray, index: int, start: int, end: int) -> None:
        """Write tokens ``start:end`` of text ``index`` into ``out`` (``(end - start, layers,
        dim)``, any float dtype): one copy that also converts, where :meth:`get` makes two."""
        first = int(self.offsets[index])
        out[...] = self.data[first + start : first + end]


@dataclass(frozen=True)
class ConcatStore:
    """Several stores of the same texts side by side on the feature axis, joined per read.

    The stores of an embedder's :meth:`~tasks.embedders.base.Embedder.parts`, kept as they are
    (memory-mapped, float16) rather than copied into one float32 array: ``glove+elmo``
    on SQuAD would otherwise hold about 3 GB. A one-layer member is repeated across
    ``num_layers``, as the embedder itself does.
    """

    parts: tuple[FeatureStore | ConcatStore, ...]
    num_layers: int

    def __post_init__(self) -> None:
        first = self.parts[0].offsets
        if any(not np.array_equal(part.offsets, first) for part in self.parts[1:]):
            raise ValueError("the stores of a concatenation must hold the same texts")
        if any(part.num_layers not in (1, self.num_layers) for part in self.parts):
            raise ValueError(f"every concatenated store needs 1 or {self.num_layers} layers")

    def __len__(self) -> int:
        return len(self.parts[0])

    @property
    def offsets(self) -> np.ndarray:
        return self.parts[0].offsets

    @property
    def dim(self) -> int:
        return sum(part.dim for part in self.parts)

    def length(self, index: int) -> int:
        return self.parts[0].length(index)

    def get(self, index: int, start: int = 0, end: int | None = None) -> torch.Tensor:
        """Tokens ``start:end`` of text ``index``: ``(tokens, layers, dim)``, members in order."""
        pieces = [part.get(index, start, end) for part in self.parts]
        return torch.cat([piece.expand(-1, self.num_layers, -1) for piece in pieces], dim=2)

    def read_into(self, out: np.ndarray, index: int, start: int, end: int) -> None:
        """As :meth:`FeatureStore.read_into`, each member into its columns of the feature
        axis (a one-layer member broadcast over every layer)."""
        column = 0
        for part in self.parts:
            part.read_into(out[..., column : column + part.dim], index, start, end)
            column += part.dim


Store = FeatureStore | ConcatStore


def texts_fingerprint(texts: Sequence[Sequence[str]]) -> str:
    """A digest of a list of token lists (order and token boundaries included)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(json.dumps(list(text), ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _fill(
    embedder: Embedder, texts: Sequence[Sequence[str]], out: np.ndarray, offsets: np.ndarray, label: str = ""
) -> None:
    """Embed texts in chunks (longest first, to fail early on memory) into ``out``."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    progress = progress_bar(int(offsets[-1]), f"embedding {label}".strip(), unit="tok", leave=False)
    with torch.no_grad(), progress:  # not inference_mode: a lazily loaded biLM must stay usable outside it
        for start in range(0, len(order), _CHUNK_TEXTS):
            chunk = order[start : start + _CHUNK_TEXTS]
            for index, layers in zip(chunk, embedder.embed([texts[i] for i in chunk]), strict=True):
                out[offsets[index] : offsets[index + 1]] = layers.permute(1, 0, 2).cpu().numpy()
            progress.update(sum(len(texts[i]) for i in chunk))


def _offsets(texts: Sequence[Sequence[str]]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(t) for t in texts], dtype=np.int64)]).astype(np.int64)


def compute_features(embedder: Embedder, texts: Sequence[Sequence[str]], dtype: str = "float32") -> FeatureStore:
    """Embed texts into an in-memory store (no cache)."""
    offsets = _offsets(texts)
    data = np.zeros((int(offsets[-1]), embedder.num_layers, embedder.dim), dtype=_DTYPES[dtype])
    _fill(embedder, texts, data, offsets)
    return FeatureStore(data, offsets)


class _DamagedEntry(Exception):
    """An entry whose files cannot be read back as written (the message says why)."""


class ActivationCache:
    """Cached embedder outputs under a folder; see the module docstring for the layout.

    Args:
        root: the cache folder (created when needed).
        dtype: ``float32``, or ``float16`` for half the disk and memory (values are rounded
            to half precision, a relative error of about 5e-4).
    """

    def __init__(self, root: str | os.PathLike[str], dtype: str = "float16") -> None:
        if dtype not in _DTYPES:
            raise ConfigError(f"cache dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        self.root = Path(root)
        self.dtype = dtype

    def key(self, embedder_fingerprint: str, texts_digest: str) -> str:
        """The entry name for an embedder and a list of texts."""
        return hashlib.sha256(f"{embedder_fingerprint}/{texts_digest}/{self.dtype}".encode()).hexdigest()[:32]

    def load(self, key: str) -> FeatureStore | None:
        """The entry, memory-mapped, or None when there is no complete, readable one.

        A damaged entry is logged and treated as missing; ``features`` rebuilds it.
        """
        try:
            return self._open(key)
        except _DamagedEntry as damage:
            logger.warning("%s", damage)
            return None

    def _open(self, key: str, any_dtype: bool = False) -> FeatureStore | None:
        """The entry, None when there is none, ``_DamagedEntry`` when it cannot be read back.

        With ``any_dtype``, an entry of the other dtype is read too (``show`` lists them all).
        """
        folder = self.root / key
        if not (folder / "meta.json").is_file():
            return None
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            shape = (int(meta["tokens"]), int(meta["layers"]), int(meta["dim"]))
            texts = int(meta["texts"])
            data = np.load(folder / "layers.npy", mmap_mode="r", allow_pickle=False)
            offsets = np.load(folder / "offsets.npy", allow_pickle=False)
        except (FileNotFoundError, EOFError, KeyError, TypeError, ValueError) as error:
            # ValueError covers bad JSON, text that is not UTF-8, a truncated array and
            # an object array (refused, never unpickled).
            raise _DamagedEntry(f"activation cache entry {folder} is damaged ({one_line(str(error))})") from None
        stored = meta.get("dtype")
        dtype = stored if any_dtype and isinstance(stored, str) and stored in _DTYPES else self.dtype
        problem = None
        if data.dtype != np.dtype(_DTYPES[dtype]) or stored != dtype:
            problem = f"dtype {data.dtype}, expected {dtype}"
        elif data.shape != shape:
            problem = f"layers of shape {data.shape}, meta.json says {shape}"
        elif offsets.dtype != np.int64 or offsets.shape != (texts + 1,):
            problem = f"offsets of {offsets.dtype} {offsets.shape}, expected int64 ({texts + 1},)"
        elif offsets[0] != 0 or offsets[-1] != shape[0] or bool(np.any(np.diff(offsets) < 0)):
            problem = "offsets that do not cover the layers in order"
        if problem:
            raise _DamagedEntry(f"activation cache entry {folder} is damaged ({problem})")
        return FeatureStore(data, offsets)

    def features(self, embedder: Embedder, texts: Sequence[Sequence[str]], label: str = "") -> FeatureStore:
        """The embedder's layers for ``texts``: read from the cache, or computed and stored.

        A damaged entry is logged as one warning, removed and computed again.

        Args:
            embedder: a frozen embedder; with a cache hit it is asked only for its fingerprint.
            texts: the token lists.
            label: a description kept in ``meta.json`` (e.g. ``pos/train elmo``).

        Raises:
            tasks.cache_folder.CacheError: the folder is not a cache or cannot be written
                (before any work).
        """
        digest = texts_fingerprint(texts)
        fingerprint = embedder.fingerprint()
        key = self.key(fingerprint, digest)
        try:
            found = self._open(key)
        except _DamagedEntry:
            found = None  # repaired below, under the lock, where no other job races the repair
        if found is not None:
            logger.info("activation cache hit %s (%s)", key, label)
            return found
        with self._lock(key):
            try:
                found = self._open(key)  # another job may have written it while we waited
            except _DamagedEntry as damage:
                logger.warning("%s; computing it again", damage)
                remove_entry_folder(self.root / key)
            if found is not None:
                return found
            return self._write(key, embedder, texts, fingerprint, digest, label)

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        prepare_cache_folder(self.root)
        with open(self.root / f".{key}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(
        self, key: str, embedder: Embedder, texts: Sequence[Sequence[str]], fingerprint: str, digest: str, label: str
    ) -> FeatureStore:
        started = time.perf_counter()
        offsets = _offsets(texts)
        for leftover in self.root.glob(f".{key}.*"):  # we hold the key's lock: their writers are dead
            if is_temporary_of(leftover, key):
                logger.info("removing %s, left by an interrupted write", leftover)
                shutil.rmtree(leftover, ignore_errors=True)
        temp = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{key}."))
        try:
            shape = (int(offsets[-1]), embedder.num_layers, embedder.dim)
            data = np.lib.format.open_memmap(temp / "layers.npy", mode="w+", dtype=_DTYPES[self.dtype], shape=shape)
            with open(temp / "layers.npy", "r+b") as handle:
                # Reserve the blocks now: a full disk is an OSError here, not a SIGBUS
                # when the memory map is written.
                os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
            _fill(embedder, texts, data, offsets, label)
            data.flush()
            del data
            np.save(temp / "offsets.npy", offsets)
            meta = {
                "label": label,
                "embedder": type(embedder).__name__,
                "embedder_fingerprint": fingerprint,
                "texts_fingerprint": digest,
                "texts": len(texts),
                "tokens": shape[0],
                "layers": shape[1],
                "dim": shape[2],
                "dtype": self.dtype,
                "seconds": round(time.perf_counter() - started, 2),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (temp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            for name in ENTRY_FILES:
                with open(temp / name, "rb") as written:
                    os.fsync(written.fileno())
            temp.chmod(0o755)
            os.rename(temp, self.root / key)  # atomic: the entry appears complete or not at all
        except OSError as error:
            shutil.rmtree(temp, ignore_errors=True)
            raise with_path(error, self.root / key) from None
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        logger.info("activation cache wrote %s (%s): %d tokens in %.1f s", key, label, shape[0], meta["seconds"])
        return self.load(key)  # type: ignore[return-value]

    def scan(self) -> CacheListing:
        """Sort the folder's contents into entries, damaged entries, leftovers and the rest."""
        listing = CacheListing()
        if not self.root.is_dir():
            return listing
        for path in sorted(self.root.iterdir()):
            kind = kind_of(path)
            if kind == "marker":
                listing.marked = True
            elif kind == "lock":
                listing.locks.append(path)
            elif kind == "entry":
                try:
                    if self._open(path.name, any_dtype=True) is None:
                        raise _DamagedEntry("no meta.json")
                    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
                    listing.entries.append({"key": path.name, "bytes": folder_size(path), **meta})
                    listing.complete.append(path)
                except _DamagedEntry:
                    listing.damaged.append(path)
            elif kind == "temporary":
                with unless_busy(self.root, key_of(path.name)) as free:
                    (listing.leftovers if free else listing.writing).append(path)
            else:
                listing.unknown.append(path)
        return listing

    def entries(self) -> list[dict]:
        """``meta.json`` of every complete entry, with its key and size in bytes."""
        return self.scan().entries

    def clear(self) -> list[Path]:
        """Remove the entries, damaged entries, killed writers' leftovers and lock files.

        Nothing else is touched: files the cache does not recognise stay, and an entry
        that a running job is writing is skipped.

        Returns:
            What was removed.

        Raises:
            tasks.cache_folder.CacheError: the folder is not an activation cache (nothing
                is removed).
        """
        check_cache_folder(self.root)
        listing = self.scan()
        removed = []
        for path in [*listing.complete, *listing.damaged, *listing.leftovers]:
            with unless_busy(self.root, key_of(path.name)) as free:
                if free:
                    remove_entry_folder(path)
                    removed.append(path)
        for lock in listing.locks:
            with unless_busy(self.root, key_of(lock.name)) as free:
                if free:
                    lock.unlink(missing_ok=True)
                    removed.append(lock)
        return removed


@command_line("elmo-cache")
def main(argv: Sequence[str] | None = None) -> int:
    """``elmo-cache show|clear [--dir DIR]``: list or empty the activation cache."""
    import argparse

    parser = argparse.ArgumentParser(prog="elmo-cache", description=main.__doc__, epilog=DEBUG_HELP)
    parser.add_argument("action", choices=["show", "clear"])
    parser.add_argument("--dir", default=".cache/activations", help="the cache folder (default: %(default)s)")
    args = parser.parse_args(argv)
    cache = ActivationCache(args.dir)
    check_cache_folder(cache.root)
    if args.action == "clear" and not cache.root.exists():
        lines = [f"no activation cache at {args.dir}; nothing removed"]
    elif args.action == "clear":
        listing = cache.scan()
        lines = cleared_lines(listing, cache.clear(), args.dir)
    else:
        lines = listing_lines(cache.scan(), args.dir)
    print("\n".join(lines))
    return 0


def embed_texts(
    embedder: Embedder, texts: Sequence[Sequence[str]], cache: ActivationCache | None = None, label: str = ""
) -> Store:
    """An embedder's layers for texts: cached when it is worth it, else computed in memory.

    An embedder made of :meth:`~tasks.embedders.base.Embedder.parts` is assembled from their
    stores, so ``glove+elmo`` reuses the cache entry of ``elmo`` instead of storing ELMo twice.
    """
    parts = embedder.parts()
    if parts != [embedder]:
        stores = tuple(embed_texts(part, texts, cache, label) for part in parts)
        return ConcatStore(stores, embedder.num_layers)
    if cache is not None and embedder.cacheable:
        return cache.features(embedder, texts, label)
    return compute_features(embedder, texts)


if __name__ == "__main__":
    sys.exit(main())
