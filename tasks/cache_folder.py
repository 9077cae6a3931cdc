"""What an activation cache folder holds, told apart from anything else that is there.

A cache folder carries a marker file from its creation. Inside it, the cache knows four
kinds of things, by name and shape only: entry folders (named by a 32-hex key, holding
only ``layers.npy``, ``offsets.npy``, ``meta.json``), temporary folders of writers
(``.<key>.<suffix>``, the same files), lock files (``.<key>.lock``) and the marker.
Everything else is ``unknown`` and never removed. A folder without the marker counts as a
cache only when it holds nothing unknown (a cache made before the marker existed).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from elmo.cli import describe_os_fault
from elmo.errors import UserError, one_line
from elmo.io import check_writable

#: The file that marks a folder as an activation cache (written when the cache is created).
MARKER = ".elmo-activation-cache"
_MARKER_TEXT = "elmo-bench activation cache: `elmo-cache clear` removes only the entries it recognises.\n"
ENTRY_FILES = ("layers.npy", "offsets.npy", "meta.json")
_KEY = re.compile(r"[0-9a-f]{32}")
_TEMP = re.compile(r"\.([0-9a-f]{32})\.\w+")  # tempfile.mkdtemp's suffixes, and folders set aside
_LOCK = re.compile(r"\.([0-9a-f]{32})\.lock")


class CacheError(UserError, ValueError):
    """A cache folder that cannot be used: not a cache, not a folder, or not writable."""


@dataclass
class CacheListing:
    """What a cache folder holds, sorted into what the cache recognises and the rest.

    Attributes:
        entries: ``meta.json`` of every complete entry, with ``key`` and ``bytes``.
        complete: the folders of those entries.
        damaged: entry folders that cannot be read back (rebuilt when next needed).
        leftovers: temporary folders of writers that were killed (no one holds their lock).
        writing: temporary folders of writers at work now.
        locks: the lock files.
        unknown: anything else; never removed.
        marked: whether the folder carries the marker file.
    """

    entries: list[dict] = field(default_factory=list)
    complete: list[Path] = field(default_factory=list)
    damaged: list[Path] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    writing: list[Path] = field(default_factory=list)
    locks: list[Path] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)
    marked: bool = False

    @property
    def is_cache(self) -> bool:
        """Marked, or (a cache from before the marker) holding only things it recognises."""
        return self.marked or not self.unknown


def kind_of(path: Path) -> str:
    """``marker``, ``lock``, ``entry``, ``temporary`` or ``unknown``, by name and shape only."""
    if path.is_symlink():
        return "unknown"
    if path.name == MARKER and path.is_file():
        return "marker"
    if _LOCK.fullmatch(path.name) and path.is_file():
        return "lock"
    holds_entry_files = path.is_dir() and all(
        child.name in ENTRY_FILES and child.is_file() and not child.is_symlink() for child in path.iterdir()
    )
    if holds_entry_files and _KEY.fullmatch(path.name):
        return "entry"
    if holds_entry_files and _TEMP.fullmatch(path.name):
        return "temporary"
    return "unknown"


def key_of(name: str) -> str:
    """The key in an entry's, a temporary folder's or a lock file's name."""
    match = _TEMP.fullmatch(name) or _LOCK.fullmatch(name)
    return match.group(1) if match else name


def is_temporary_of(path: Path, key: str) -> bool:
    """Whether ``path`` is a temporary folder of ``key``'s writers."""
    match = _TEMP.fullmatch(path.name)
    return bool(match) and match.group(1) == key and kind_of(path) == "temporary"


def check_cache_folder(root: Path) -> None:
    """Refuse a path that is a file, or a folder that is not an activation cache.

    Raises:
        CacheError: naming the folder (and a few of the files that are not the cache's).
    """
    if root.exists() and not root.is_dir():
        raise CacheError(f"{root}: is a file, not an activation cache folder")
    if not root.is_dir():
        return
    children = list(root.iterdir())
    kinds = [kind_of(child) for child in children]
    if "marker" in kinds or "unknown" not in kinds:
        return
    others = [child.name for child, kind in zip(children, kinds, strict=True) if kind == "unknown"]
    shown = ", ".join(sorted(others)[:3]) + (", ..." if len(others) > 3 else "")
    raise CacheError(f"{root}: not an activation cache (no {MARKER} file, and it holds {shown}); nothing changed")


def prepare_cache_folder(root: Path) -> None:
    """Create or adopt the cache folder and mark it, after checking it can be written.

    Raises:
        CacheError: the folder is not a cache or cannot be written (one line, naming it).
    """
    check_cache_folder(root)
    try:
        check_writable(root)
        marker = root / MARKER
        if not marker.exists():
            marker.write_text(_MARKER_TEXT, encoding="utf-8")
    except OSError as error:
        reason = describe_os_fault(error) or one_line(str(error))
        raise CacheError(f"the activation cache folder cannot be written: {reason}") from None


@contextmanager
def unless_busy(root: Path, key: str) -> Iterator[bool]:
    """Hold ``key``'s lock if no job holds it (yield True), else yield False at once.

    Creates no lock file: without one, no job is writing the key.
    """
    try:
        handle = open(root / f".{key}.lock", "rb")
    except FileNotFoundError:
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_entry_folder(folder: Path) -> None:
    """Remove one entry's folder: renamed aside first (as a temporary), so it vanishes at once."""
    aside = folder.with_name(f".{key_of(folder.name)}.removing{os.getpid()}")
    os.rename(folder, aside)
    shutil.rmtree(aside)


def folder_size(folder: Path) -> int:
    """Bytes of the files directly in ``folder``."""
    return sum(f.stat().st_size for f in folder.iterdir())


def listing_lines(listing: CacheListing, root: str) -> list[str]:
    """What ``elmo-cache show`` prints: one line per entry or stray item, then a total."""
    lines = [
        f"{entry['key']}  {entry['bytes'] / 2**20:9.1f} MiB  {entry['dtype']:8s} "
        f"{entry['texts']:7d} texts {entry['tokens']:9d} tokens  {entry['layers']}x{entry['dim']}  "
        f"{entry['label']}  ({entry['created']})"
        for entry in listing.entries
    ]
    for title, paths in (
        ("damaged entry, computed again when next needed", listing.damaged),
        ("left by an interrupted write", listing.leftovers),
        ("being written now", listing.writing),
        ("not the cache's, left alone", listing.unknown),
    ):
        lines += [f"{path.name}  {title}" for path in paths]
    total = sum(entry["bytes"] for entry in listing.entries)
    lines.append(f"{len(listing.entries)} entries, {total / 2**20:.1f} MiB in {root}")
    if listing.damaged or listing.leftovers:
        lines.append("elmo-cache clear removes the damaged entries and the leftovers")
    return lines


def cleared_lines(listing: CacheListing, removed: list[Path], root: str) -> list[str]:
    """What ``elmo-cache clear`` prints: every path removed, a count of each kind, what stayed."""
    lines = [f"removed {path}" for path in removed]
    groups = (listing.complete, listing.damaged, listing.leftovers, listing.locks)
    counts = [sum(p in group for p in removed) for group in groups]
    lines.append(
        f"removed {counts[0]} entries, {counts[1]} damaged entries, {counts[2]} leftovers of "
        f"interrupted writes and {counts[3]} lock files from {root}"
    )
    busy = [p.name for p in [*listing.writing, *listing.complete, *listing.damaged, *listing.leftovers] if p not in removed]
    if busy:
        lines.append(f"left in place, in use by a running job: {', '.join(busy)}")
    if listing.unknown:
        lines.append(f"left in place, not the cache's: {', '.join(p.name for p in listing.unknown)}")
    return lines
