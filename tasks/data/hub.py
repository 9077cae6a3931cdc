"""Hugging Face hub datasets: loading a split by name and mapping its rows to our examples.

``datasets`` is an optional dependency, imported only when :func:`load_hub` runs.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from elmo.errors import UserError
from tasks.data.examples import LabeledSentence, TaggedSentence
from tasks.data.files import DataFormatError, check_max_samples, collect
from tasks.data.squad import SquadExample, log_dropped, squad_example

if TYPE_CHECKING:
    import datasets


class HubDatasetError(UserError, RuntimeError):
    """A hub dataset that ``datasets`` cannot load, with what to do instead."""


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
    check_max_samples(max_samples)
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
    return collect(rows, max_samples, source, f"rows with {tokens_field!r} and {tags_field!r}")


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
    check_max_samples(max_samples)
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
    return collect(rows, max_samples, source, f"rows with {text_field!r} and {label_field!r}")


def squad_from_hub(
    dataset: datasets.Dataset,
    *,
    max_samples: int | None = None,
    source: str = "hub dataset",
    on_misaligned: Literal["raise", "drop"] = "raise",
) -> list[SquadExample]:
    """Map ``squad`` rows (id, title, context, question, answers) to SquadExample.

    Answers are checked against the context as in :func:`tasks.data.squad.read_squad`.
    """
    check_max_samples(max_samples)
    _require_columns(dataset, ["id", "title", "context", "question", "answers"], source)
    dropped: Counter[str] = Counter()
    rows = (
        squad_example(
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
    result = collect((row for row in rows if row is not None), max_samples, source, "SQuAD rows")
    log_dropped(dropped, source)
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


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub's host answers a TCP connection within ``timeout`` seconds.

    True in offline mode (``HF_HUB_OFFLINE``, ``HF_DATASETS_OFFLINE``): ``datasets`` then
    reads its local cache and says itself what is missing.
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_DATASETS_OFFLINE", "").lower() in ("1", "true", "yes"):
        return True
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def load_hub(
    name: str,
    split: str,
    *,
    config: str | None = None,
    revision: str | None = None,
    max_samples: int | None = None,
    **fields: str,
) -> list[Any]:
    """Load a split of a Hugging Face dataset and map it to TaggedSentence, LabeledSentence or SquadExample.

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
        raise HubDatasetError(
            f"task.hub.name={name!r}: no column mapping for this dataset; known: {', '.join(sorted(_HUB_PRESETS))} "
            f"(matched on the name's last part); {_LOCAL_DATA_HINT}"
        )
    import datasets  # optional dependency, only needed here
    from datasets.exceptions import DatasetNotFoundError

    convert, defaults = _HUB_PRESETS[key]
    where = f"hub dataset {name!r}" + (f" (config {config!r})" if config else "")
    if not Path(name).is_dir() and not hub_reachable():
        # datasets would retry for about 40 s before saying the same
        raise HubDatasetError(f"{where}: the hub cannot be reached; {_LOCAL_DATA_HINT}")
    try:
        dataset = datasets.load_dataset(name, config, split=split, revision=revision)
    except ConnectionError as error:
        raise HubDatasetError(
            f"{where}: the hub cannot be reached ({error}); {_LOCAL_DATA_HINT}"
        ) from None
    except DatasetNotFoundError as error:
        raise HubDatasetError(
            f"{where}: {error}; check task.hub.name, or {_LOCAL_DATA_HINT}"
        ) from None
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
