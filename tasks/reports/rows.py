"""Run rows: the one schema of a run's result, written by the run and read by the report.

A run writes one :class:`ResultRow` as a JSON object (:meth:`ResultRow.to_dict`); the report
reads it back with :meth:`ResultRow.from_dict`, which checks every key against the field's
type hint and names the file and the key when one is missing or of the wrong type.

Schema 2 rows must hold every field but those in :data:`OPTIONAL`. Schema-1 rows (written
before schema 2) must hold the keys the report has always read (:data:`SCHEMA1_REQUIRED`);
the fields they lack take their defaults, and ``capped`` is read from the row's config
(``task.max_samples`` set or not).

Which files are run rows: every ``*.json`` file under the results folder, at any depth,
whose top level is a JSON object with a ``schema`` key. Other JSON files (prediction files,
anything without ``schema``) are ignored. A row's per-example scores file
(``<row stem>.examples.json``, named by ``example_scores``) is read with it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from elmo.errors import UserError
from elmo.io import write_json_atomic

if TYPE_CHECKING:
    from tasks import task

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, SCHEMA_VERSION)
STOPPED_BY = ("early_stopping", "max_epochs", "max_time")
# What identifies a run within one sweep: two rows with the same values are one run twice.
RUN_KEY = ("task", "dataset", "embedder", "head", "seed")


class ReportError(UserError, ValueError):
    """A results folder or run row the report cannot read; the message names file and key."""


class ScalarMixReport(TypedDict):
    """The learned scalar mix of a multi-layer embedder: softmax-normalised weights, gamma."""

    weights: list[float]
    gamma: float


class _TokenCounts(TypedDict, total=False):
    tokens: int
    found: int


class CoverageReport(_TokenCounts):
    """How many test tokens a static embedder's vocabulary holds (``share`` is required)."""

    share: float  # found / tokens, a fraction (0-1)


@dataclass(frozen=True)
class ResultRow:
    """One run's result: what it ran, every metric it reports (in percent) and how it went.

    ``metrics`` maps ``{stage}/{metric}`` (``val/f1``, ``test/f1``) to a percentage and holds
    at least ``test/<metric>``. ``predictions`` and ``example_scores`` are file names in the
    row's folder; ``example_scores`` (per-example numerators and denominators of the test
    metrics) is None for rows written without one.
    """

    task: str
    dataset: str
    embedder: str
    head: str
    seed: int
    metric: str
    metrics: dict[str, float]
    wall_time_s: float
    schema: int = SCHEMA_VERSION
    secondary_metrics: list[str] = field(default_factory=list)
    scalar_mix: ScalarMixReport | None = None
    coverage: CoverageReport | None = None
    trainable_parameters: int | None = None
    epochs: int | None = None
    best_epoch: int | None = None
    stopped_by: str | None = None
    learning_curve: list[float] | None = None
    learning_rates: list[float] | None = None  # the head's learning rate in each epoch (optional)
    capped: bool = False
    train_items: int | None = None
    tokens_per_second: float | None = None
    git_revision: str | None = None
    config: dict[str, Any] | None = None
    config_hash: str | None = None
    model_fingerprints: dict[str, str] | None = None  # the embedder's frozen models by config key
    created: str | None = None
    predictions: str | None = None
    example_scores: str | None = None
    note: str | None = None

    @property
    def run_key(self) -> tuple[Any, ...]:
        """(task, dataset, embedder, head, seed): what tells runs of one sweep apart."""
        return tuple(getattr(self, key) for key in RUN_KEY)

    def to_dict(self) -> dict[str, Any]:
        """The row as the JSON object a run writes: every field, ``note`` included."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str | Path) -> ResultRow:
        """Check a row read from ``path`` against the schema and build it.

        Raises:
            ReportError: naming ``path`` and the key, when the schema version is not one
                of :data:`READABLE_SCHEMAS`, or a key is missing, unknown (schema 2) or of
                the wrong type, or ``metrics`` lacks ``test/<metric>``.
        """
        schema = data.get("schema")
        if isinstance(schema, bool) or schema not in READABLE_SCHEMAS:
            readable = " and ".join(str(version) for version in READABLE_SCHEMAS)
            raise ReportError(
                f"{path}: key 'schema' is {schema!r}; elmo-report reads schema {readable}"
            )
        hints = _field_hints()
        required = SCHEMA1_REQUIRED if schema == 1 else tuple(hints.keys() - set(OPTIONAL))
        for key in sorted(required, key=list(hints).index):
            if key not in data:
                raise ReportError(f"{path}: run row has no key '{key}'")
        known = {key: value for key, value in data.items() if key in hints}
        if schema != 1 and len(known) < len(data):
            unknown = sorted(data.keys() - hints.keys())
            raise ReportError(
                f"{path}: run row has an unknown key '{unknown[0]}' (schema {schema})"
            )
        for key, value in known.items():
            _check(value, hints[key], key, path)
        test_key = f"test/{data['metric']}"
        if test_key not in data["metrics"]:
            raise ReportError(f"{path}: run row has no key 'metrics[\"{test_key}\"]'")
        if data.get("stopped_by") not in (None, *STOPPED_BY):
            raise ReportError(
                f"{path}: key 'stopped_by' is {data['stopped_by']!r}; "
                f"expected one of {', '.join(STOPPED_BY)}"
            )
        if schema == 1:
            known.setdefault("capped", _capped_by_config(known.get("config")))
        return cls(**known)


# The keys every row has held since schema 1, the ones the report reads.
# Schema-2 fields a row may lack (added after schema 2 was first written).
OPTIONAL = ("note", "learning_rates", "model_fingerprints")

SCHEMA1_REQUIRED = (
    "task",
    "dataset",
    "embedder",
    "head",
    "seed",
    "metric",
    "metrics",
    "wall_time_s",
)


@cache
def _field_hints() -> dict[str, Any]:
    # Resolved once: the annotations are strings under ``from __future__ import annotations``.
    return typing.get_type_hints(ResultRow)


def _capped_by_config(config: dict[str, Any] | None) -> bool:
    task = (config or {}).get("task")
    return isinstance(task, dict) and task.get("max_samples") is not None


def _describe(hint: Any) -> str:
    """A type hint in the words of JSON: ``number``, ``list of number``, ``str or null``."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if origin is list:
        return f"list of {_describe(typing.get_args(hint)[0])}"
    if origin is dict or typing.is_typeddict(hint):
        return "object"
    return {type(None): "null", float: "number", Any: "anything"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def _matches_scalar(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    # bool is an int in Python but never a count or a score in a run row.
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, hint)


def _check(value: Any, hint: Any, key: str, path: str | Path, shown: Any = None) -> None:
    """Raise :class:`ReportError` naming ``path`` and ``key`` unless ``value`` fits ``hint``.

    ``shown`` is the hint the message names (the whole ``X | None`` while X is checked).
    """
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        # Our unions are ``X | None``: null passes, anything else is checked against X.
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is not None:
            _check(value, inner, key, path, shown=hint)
        return
    container = (
        list if origin is list else dict if origin is dict or typing.is_typeddict(hint) else None
    )
    if container is not None:
        if not isinstance(value, container):
            _wrong_type(value, shown or hint, key, path)
        if origin is list:
            for index, item in enumerate(value):
                _check(item, typing.get_args(hint)[0], f"{key}[{index}]", path)
        elif origin is dict:
            for name, item in value.items():
                _check(item, typing.get_args(hint)[1], f'{key}["{name}"]', path)
        else:
            for name in sorted(hint.__required_keys__):
                if name not in value:
                    raise ReportError(f"{path}: '{key}' has no key '{name}'")
            for name, item_hint in typing.get_type_hints(hint).items():
                if name in value:
                    _check(value[name], item_hint, f"{key}.{name}", path)
        return
    if not _matches_scalar(value, hint):
        _wrong_type(value, shown or hint, key, path)


def _wrong_type(value: Any, hint: Any, key: str, path: str | Path) -> typing.NoReturn:
    found = "null" if value is None else type(value).__name__
    raise ReportError(f"{path}: key '{key}' should be {_describe(hint)}, not {found}")


EXAMPLE_SCORES_SUFFIX = ".examples.json"
# A per-example file's metric and its row's test metric are rounded apart; a larger gap
# means the file is not this run's.
SCORE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ExampleScores:
    """Per-example numerators and denominators of a run's test metrics.

    Each decomposable metric M is ``100 * sum(num) / sum(den)`` over the test examples
    (accuracy: correct and all tokens of a sentence; span F1: 2tp and 2tp + fp + fn of a
    sentence; SQuAD F1/EM: the question's score in [0, 1] and 1), so a resample of the
    examples recomputes M exactly from sums.
    """

    metrics: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (num, den), (examples,) each

    @property
    def n_examples(self) -> int:
        """How many test examples the file scores."""
        return len(next(iter(self.metrics.values()))[0])

    def score(self, metric: str) -> float:
        """``100 * sum(num) / sum(den)`` of ``metric`` over all examples."""
        num, den = self.metrics[metric]
        return 100.0 * float(num.sum()) / float(den.sum()) if den.sum() else 0.0

    @classmethod
    def from_dict(cls, data: Any, path: str | Path) -> ExampleScores:
        """Check a per-example scores file read from ``path`` and build it.

        Raises:
            ReportError: naming ``path`` and the key, when the file is not for the test
                split, a metric lacks ``num`` or ``den`` or holds something other than a
                list of numbers, or the metrics score different numbers of examples.
        """
        if not isinstance(data, dict) or data.get("split") != "test":
            found = data.get("split") if isinstance(data, dict) else None
            raise ReportError(f"{path}: key 'split' is {found!r}; expected 'test'")
        _check(data.get("metrics"), dict[str, dict[str, Any]], "metrics", path)
        metrics: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, parts in data["metrics"].items():
            for part in ("num", "den"):
                if part not in parts:
                    raise ReportError(f"{path}: 'metrics.{name}' has no key '{part}'")
            num, den = (
                _numbers(parts[part], f'metrics["{name}"]["{part}"]', path)
                for part in ("num", "den")
            )
            sizes = {len(num), len(den), *(len(pair[0]) for pair in metrics.values())}
            if len(sizes) > 1:
                raise ReportError(
                    f"{path}: key 'metrics.{name}' scores {len(num)} numerators and "
                    f"{len(den)} denominators; every list should have one value per example"
                )
            metrics[name] = (num, den)
        if not metrics:
            raise ReportError(f"{path}: key 'metrics' is empty")
        return cls(metrics)


def _numbers(values: Any, key: str, path: str | Path) -> np.ndarray:
    """A JSON list of numbers as an array; checked here, not by :func:`_check`, as it is long."""
    if not isinstance(values, list):
        _wrong_type(values, list[float], key, path)
    # type() rather than isinstance: a bool is not a number here.
    bad = next((i for i, value in enumerate(values) if type(value) not in (int, float)), None)
    if bad is not None:
        _wrong_type(values[bad], float, f"{key}[{bad}]", path)
    return np.asarray(values, dtype=np.float64)


def read_example_scores(row: ResultRow, row_path: Path) -> ExampleScores | None:
    """The per-example scores file a row names, checked against the row; None if it names none.

    Raises:
        ReportError: the file is missing, not valid JSON or not a per-example scores file
            (:meth:`ExampleScores.from_dict`), lacks the row's primary metric, or scores it
            differently from the row's ``test/<metric>``.
    """
    if row.example_scores is None:
        return None
    path = row_path.parent / row.example_scores
    scores = ExampleScores.from_dict(_read_json(path), path)
    if row.metric not in scores.metrics:
        raise ReportError(f"{path}: per-example scores have no key 'metrics.{row.metric}'")
    recomputed, reported = scores.score(row.metric), row.metrics[f"test/{row.metric}"]
    if abs(recomputed - reported) > SCORE_TOLERANCE:
        raise ReportError(
            f"{path}: key 'metrics.{row.metric}' sums to {recomputed:.4f} but its row "
            f"{row_path.name} reports test/{row.metric} = {reported}"
        )
    return scores


def write_example_scores(path: Path, scores: Mapping[str, task.ExampleScores]) -> None:
    """Write a run's per-example test scores, the file :meth:`ExampleScores.from_dict` reads."""
    parts = {name: {"num": s.num, "den": s.den} for name, s in scores.items()}
    write_json_atomic(path, {"split": "test", "metrics": parts}, indent=None)  # thousands of numbers: one line


def row_files(folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``(path, JSON object)`` of every run row under ``folder``, in path order (see the module
    docstring for which files are rows).

    Raises:
        ReportError: a ``*.json`` file that is not valid JSON.
    """
    for path in sorted(folder.rglob("*.json")):
        if not path.is_file() or path.name.endswith(EXAMPLE_SCORES_SUFFIX):
            continue
        data = _read_json(path)
        if isinstance(data, dict) and "schema" in data:
            yield path, data


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ReportError(f"{path}: no such file") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: not valid JSON ({error})") from error


@dataclass(frozen=True)
class Results:
    """The run rows of a results folder and the per-example scores of those that have them."""

    rows: list[ResultRow]
    example_scores: dict[tuple[Any, ...], ExampleScores] = field(default_factory=dict)
    """Per-example scores by the row's :attr:`ResultRow.run_key`."""


def short_fingerprints(fingerprints: Mapping[str, str]) -> str:
    """A row's ``model_fingerprints`` for a message: each one's first 12 digits, or ``none``."""
    return ", ".join(fingerprint[:12] for fingerprint in fingerprints.values()) or "none"


def _check_one_model_per_embedder(rows: list[ResultRow], paths: Mapping[tuple[Any, ...], Path]) -> None:
    """Every row of one embedder name made with the same frozen model (rows that record it).

    Raises:
        ReportError: naming two rows of one embedder whose ``model_fingerprints`` differ.
    """
    first: dict[str, ResultRow] = {}
    for row in rows:
        if row.model_fingerprints is None:
            continue
        other = first.setdefault(row.embedder, row)
        if other.model_fingerprints != row.model_fingerprints:
            raise ReportError(
                f"{paths[row.run_key]}: embedder {row.embedder!r} made with another model than "
                f"{paths[other.run_key]} (key 'model_fingerprints': {short_fingerprints(row.model_fingerprints)} "
                f"against {short_fingerprints(other.model_fingerprints)}); one comparison needs one model per embedder"
            )


def load_results(folder: str | Path) -> Results:
    """Read every run row under ``folder`` and the per-example scores files they name.

    See the module docstring for which files are rows; ``*.examples.json`` files are read
    only through the row that names them.

    Raises:
        ReportError: ``folder`` is not a folder, a ``*.json`` file is not valid JSON, a row
            does not fit the schema (:meth:`ResultRow.from_dict`) or its per-example scores
            file is bad (:func:`read_example_scores`), a row repeats another row's
            (task, dataset, embedder, head, seed), or two rows of one embedder record
            different models (``model_fingerprints``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    rows: list[ResultRow] = []
    example_scores: dict[tuple[Any, ...], ExampleScores] = {}
    seen: dict[tuple[Any, ...], Path] = {}
    for path, data in row_files(folder):
        row = ResultRow.from_dict(data, path)
        if row.run_key in seen:
            raise ReportError(
                f"{path}: same task, dataset, embedder, head and seed {row.run_key} as "
                f"{seen[row.run_key]}; point elmo-report at one sweep's folder"
            )
        seen[row.run_key] = path
        rows.append(row)
        scores = read_example_scores(row, path)
        if scores is not None:
            example_scores[row.run_key] = scores
    _check_one_model_per_embedder(rows, seen)
    logger.info(
        "read %d run rows from %s, %d with per-example scores",
        len(rows),
        folder,
        len(example_scores),
    )
    return Results(rows, example_scores)
