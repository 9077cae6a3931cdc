"""Where a task's splits come from: local files when they all exist, else the hub."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from elmo.errors import ConfigError
from tasks.data.files import DataFormatError, MissingDataError
from tasks.data.hub import load_hub

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")


def resolve_path(path: str | None) -> Path | None:
    """A data path as given, or relative to the project root when it is not found as given."""
    if path is None:
        return None
    candidate = Path(path).expanduser()
    if candidate.exists() or candidate.is_absolute():
        return candidate
    from_root = Path(__file__).resolve().parents[2] / candidate
    return from_root if from_root.exists() else candidate


def data_source(files: dict[str, str | None] | None, hub: dict[str, Any] | None, task: str) -> str:
    """``files`` when every local file exists, else ``hub`` (a Hugging Face dataset).

    Raises:
        FileNotFoundError: naming the missing file, when there is no hub fallback.
    """
    missing = [
        str(p) for p in (resolve_path(v) for v in (files or {}).values() if v) if not p.exists()
    ]
    if files and not missing:
        return "files"
    if hub and hub.get("name"):
        if files:
            logger.warning(
                "%s: local data not found (%s); loading %s from the hub",
                task,
                ", ".join(missing),
                hub["name"],
            )
        return "hub"
    raise MissingDataError(
        f"{task}: data file(s) not found: {', '.join(missing) or 'none configured'}; set "
        f"task.files.<split>=PATH or task.hub.name=<Hugging Face dataset>"
    )


def split_caps(max_samples: dict[str, int | None] | int | None) -> dict[str, int | None]:
    """``task.max_samples`` as ``{split: cap}``: one positive cap for every split, or per split.

    Raises:
        ValueError: naming ``task.max_samples``, for an unknown split or a cap below 1.
    """
    caps = dict(max_samples) if isinstance(max_samples, dict) else dict.fromkeys(SPLITS, max_samples)
    unknown = sorted(set(caps) - set(SPLITS))
    if unknown:
        raise ConfigError(f"task.max_samples: splits must be among {SPLITS}, got {unknown}")
    for split, cap in caps.items():
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ConfigError(f"task.max_samples: the {split} cap must be a positive integer or null, got {cap!r}")
    return {split: caps.get(split) for split in SPLITS}


def check_nonempty(examples: Sequence[Any], split: str, source: str) -> None:
    """An empty split is a user error, named with its source."""
    if not examples:
        raise DataFormatError(source, f"the {split} split has no examples")


def read_splits(
    task: str,
    files: dict[str, str | None] | None,
    hub: dict[str, Any] | None,
    read_file: Any,
    max_samples: dict[str, int | None] | int | None = None,
) -> tuple[str, dict[str, tuple[list[Any], str]]]:
    """Read train, dev and test from local files or the hub.

    Returns:
        ``"files"`` or ``"hub"``, and ``{split: (examples, source)}``.

    Args:
        task: the task's name, for messages.
        files: ``{split: path}``; used when every file exists.
        hub: ``{name, config, revision, splits: {split: hub split}, fields}`` for
            :func:`tasks.data.hub.load_hub`.
        read_file: ``read_file(path, max_samples=n)`` for one local file.
        max_samples: a cap for every split, or ``{split: cap}``.
    """
    caps = split_caps(max_samples)
    result = {}
    kind = data_source(files, hub, task)
    if kind == "files":
        for split in SPLITS:
            path = resolve_path(files.get(split))  # type: ignore[union-attr]
            if path is None:
                raise ConfigError(f"{task}: no file for the {split} split (task.files.{split})")
            result[split] = (read_file(path, max_samples=caps.get(split)), str(path))
    else:
        assert hub is not None
        splits = hub.get("splits") or {"train": "train", "dev": "validation", "test": "test"}
        for split in SPLITS:
            examples = load_hub(
                hub["name"],
                splits[split],
                config=hub.get("config"),
                revision=hub.get("revision"),
                max_samples=caps.get(split),
                **hub.get("fields", {}),
            )
            result[split] = (examples, f"hub {hub['name']}[{splits[split]}]")
    for split, (examples, source) in result.items():
        check_nonempty(examples, split, source)
    return kind, result
