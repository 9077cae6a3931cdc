"""The results collector ``elmo-report``: run rows in, a summary table and plots out.

Which files are run rows: every ``*.json`` file under the results folder, at any depth, whose
top level is a JSON object with a ``schema`` key. Other JSON files (prediction files
``*.predictions.json``, anything without ``schema``) are ignored. A file that is not valid
JSON, a row of another schema version, or a row missing a key the summary reads raises
:class:`ReportError` naming the file and the key; so do two rows for the same task, dataset,
embedder, head and seed (runs of two different configs mixed in one folder).

Rows are grouped by (task, dataset, embedder, head). A group's score is the mean and the
sample standard deviation (n - 1; none for one seed) over seeds of
``metrics["test/<metric>"]``, likewise for ``val/<metric>``; scores are percentages. Every
main metric here (F1, accuracy, EM) is higher-is-better, so the best group of a
(task, dataset) is the one with the highest mean test score (ties are all marked).

The paper's figures (:data:`PAPER_TABLE1`) stay in their own columns: the ``+ELMo`` figure
beside ``elmo`` and ``glove+elmo`` rows (the paper added ELMo to a GloVe baseline), the
``baseline`` figure beside ``glove`` rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, stdev
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from elmo.cli import command_line
from elmo.io import atomic_path

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
GROUP_KEY = ("task", "dataset", "embedder", "head")
# Keys every run row must have, with the JSON type the summary reads from them.
REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "task": str,
    "dataset": str,
    "embedder": str,
    "head": str,
    "seed": int,
    "metric": str,
    "metrics": dict,
    "wall_time_s": (int, float),
}
SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
CSV_COLUMNS = (
    "task",
    "dataset",
    "embedder",
    "head",
    "metric",
    "n_seeds",
    "seeds",
    "test_mean",
    "test_std",
    "val_mean",
    "val_std",
    "wall_time_s_mean",
    "best",
    "coverage_share",
    "mix_weights",
    "mix_gamma",
    "paper_setting",
    "paper_value",
    "notes",
)
# Table and plot order; embedders not listed follow in alphabetical order.
EMBEDDER_ORDER = (
    "elmo",
    "glove+elmo",
    "elmo_char",
    "elmo_lstm1",
    "elmo_lstm2",
    "elmo_average",
    "glove",
    "word2vec",
    "fasttext",
    "random",
)
LAYER_NAMES = ("char CNN", "biLSTM 1", "biLSTM 2")


@dataclass(frozen=True)
class PaperResult:
    """One line of the ELMo paper's Table 1: its task model alone and with ELMo added."""

    name: str
    datasets: frozenset[str]  # dataset names it applies to, normalised by _normalise
    metric: str
    baseline: float
    elmo: float


PAPER_CITATION = (
    "Peters et al. (2018), Deep contextualized word representations, NAACL 2018, Table 1"
)
PAPER_TABLE1 = (
    PaperResult("NER, CoNLL-2003", frozenset({"conll2003", "conll03"}), "f1", 90.15, 92.22),
    PaperResult("SST-5", frozenset({"sst5", "sstfine", "stsafine"}), "accuracy", 51.4, 54.7),
    PaperResult(
        "SQuAD v1.1", frozenset({"squad", "squadv1", "squadv11", "squad11"}), "f1", 81.1, 85.8
    ),
)
PAPER_CAVEAT = (
    "The paper's models are not ours: its biLM is the original ELMo, trained on the "
    "1B Word Benchmark (about 800M tokens; AllenNLP's later 5.5B-token release scores slightly "
    "higher), its task models are its own, and its SQuAD model was trained on the official "
    "SQuAD v1.1 train set and scored on the official dev set. The figures are a reference, "
    "not a like-for-like comparison."
)
PAPER_SETTING_BY_EMBEDDER = {"elmo": "+ELMo", "glove+elmo": "+ELMo", "glove": "baseline"}
PAPER_LAYER_FINDING = (
    "Peters et al. (2018), sec. 5.6 and Fig. 2: with ELMo at the task model's input, every task "
    "favours the first biLSTM layer, strongly for SQuAD (and coreference), less peaked for the "
    "others; sec. 5.3: syntax (POS tags) is best read from the first biLSTM layer, word sense "
    "from the second."
)


class ReportError(ValueError):
    """A results folder or run row the collector cannot read; the message names file and key."""


# ----------------------------------------------------------------------------- reading rows


def load_rows(folder: str | Path) -> list[dict[str, Any]]:
    """Read every run row under ``folder`` (see the module docstring for which files count).

    Raises:
        ReportError: ``folder`` is not a folder, a ``*.json`` file is not valid JSON, or a
            row has another schema version, lacks a required key, holds a key of the wrong
            type, or repeats another row's (task, dataset, embedder, head, seed).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], Path] = {}
    for path in sorted(folder.rglob("*.json")):
        if not path.is_file():
            continue
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ReportError(f"{path}: not valid JSON ({error})") from error
        if not isinstance(row, dict) or "schema" not in row:
            continue
        _check_row(row, path)
        run = tuple(row[key] for key in GROUP_KEY) + (row["seed"],)
        if run in seen:
            raise ReportError(
                f"{path}: same task, dataset, embedder, head and seed {run} as {seen[run]}; "
                "point elmo-report at one sweep's folder"
            )
        seen[run] = path
        rows.append(row)
    logger.info("read %d run rows from %s", len(rows), folder)
    return rows


def _check_row(row: dict[str, Any], path: Path) -> None:
    if row["schema"] != SCHEMA_VERSION:
        raise ReportError(
            f"{path}: key 'schema' is {row['schema']!r}; elmo-report reads schema {SCHEMA_VERSION}"
        )
    for key, kind in REQUIRED_KEYS.items():
        if key not in row:
            raise ReportError(f"{path}: run row has no key '{key}'")
        _check_type(row[key], kind, path, f"'{key}'")
    metrics = row["metrics"]
    test_key = f"test/{row['metric']}"
    if test_key not in metrics:
        raise ReportError(f"{path}: run row has no key 'metrics[\"{test_key}\"]'")
    for key in (test_key, f"val/{row['metric']}"):
        if key in metrics:
            _check_type(metrics[key], (int, float), path, f"'metrics[\"{key}\"]'")
    if row.get("scalar_mix") is not None:
        mix = row["scalar_mix"]
        _check_type(mix, dict, path, "'scalar_mix'")
        for key, kind in (("weights", list), ("gamma", (int, float))):
            if key not in mix:
                raise ReportError(f"{path}: 'scalar_mix' has no key '{key}'")
            _check_type(mix[key], kind, path, f"'scalar_mix.{key}'")
        for weight in mix["weights"]:
            _check_type(weight, (int, float), path, "'scalar_mix.weights'")
    if row.get("coverage") is not None:
        _check_type(row["coverage"], dict, path, "'coverage'")
        if "share" not in row["coverage"]:
            raise ReportError(f"{path}: 'coverage' has no key 'share'")
        _check_type(row["coverage"]["share"], (int, float), path, "'coverage.share'")
    if row.get("note") is not None:
        _check_type(row["note"], str, path, "'note'")


def _check_type(value: Any, kind: type | tuple[type, ...], path: Path, key: str) -> None:
    # bool is an int in Python but never a count or a score in a run row.
    if isinstance(value, bool) or not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds)
        raise ReportError(f"{path}: key {key} should be {expected}, not {type(value).__name__}")


# ----------------------------------------------------------------------------- summary


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per (task, dataset, embedder, head), ordered by task, dataset and embedder.

    Keys: those of :data:`CSV_COLUMNS`, with ``seeds`` and ``notes`` as lists,
    ``mix_weights`` as the list of mean softmax-normalised weights (None for one-layer
    embedders), ``test_std`` / ``val_std`` None for a single seed, and ``best`` True for the
    highest mean test score of its (task, dataset).
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in GROUP_KEY), []).append(row)
    summary = [_summarize_group(members) for members in groups.values()]
    summary.sort(key=_order)
    for _, entries in _by_task(summary):
        top = max(entry["test_mean"] for entry in entries)
        for entry in entries:
            entry["best"] = entry["test_mean"] == top
    return summary


def _summarize_group(members: list[dict[str, Any]]) -> dict[str, Any]:
    first = members[0]
    metric = first["metric"]
    tests = [row["metrics"][f"test/{metric}"] for row in members]
    vals = [row["metrics"][f"val/{metric}"] for row in members if f"val/{metric}" in row["metrics"]]
    mixes = [row["scalar_mix"] for row in members if row.get("scalar_mix") is not None]
    shares = [row["coverage"]["share"] for row in members if row.get("coverage") is not None]
    setting, value = _paper_reference(first["dataset"], metric, first["embedder"])
    return {
        **{key: first[key] for key in GROUP_KEY},
        "metric": metric,
        "n_seeds": len(members),
        "seeds": sorted(row["seed"] for row in members),
        "test_mean": fmean(tests),
        "test_std": _sample_std(tests),
        "val_mean": fmean(vals) if vals else None,
        "val_std": _sample_std(vals),
        "wall_time_s_mean": fmean(row["wall_time_s"] for row in members),
        "best": False,
        "coverage_share": fmean(shares) if shares else None,
        "mix_weights": (
            [fmean(layer) for layer in zip(*(mix["weights"] for mix in mixes), strict=True)]
            if mixes
            else None
        ),
        "mix_gamma": fmean(mix["gamma"] for mix in mixes) if mixes else None,
        "paper_setting": setting,
        "paper_value": value,
        "notes": sorted({row["note"] for row in members if row.get("note")}),
    }


def _sample_std(values: list[float]) -> float | None:
    return stdev(values) if len(values) > 1 else None


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _paper_reference(dataset: str, metric: str, embedder: str) -> tuple[str | None, float | None]:
    setting = PAPER_SETTING_BY_EMBEDDER.get(embedder)
    if setting is None:
        return None, None
    for result in PAPER_TABLE1:
        if _normalise(dataset) in result.datasets and metric == result.metric:
            return setting, result.elmo if setting == "+ELMo" else result.baseline
    return None, None


def _embedder_rank(embedder: str) -> tuple[int, str]:
    if embedder in EMBEDDER_ORDER:
        return EMBEDDER_ORDER.index(embedder), ""
    return len(EMBEDDER_ORDER), embedder


def _order(entry: dict[str, Any]) -> tuple[Any, ...]:
    return entry["task"], entry["dataset"], _embedder_rank(entry["embedder"]), entry["head"]


def _by_task(
    summary: list[dict[str, Any]],
) -> list[tuple[tuple[str, str], list[dict[str, Any]]]]:
    """The summary split by (task, dataset), in the summary's order."""
    tasks: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in summary:
        tasks.setdefault((entry["task"], entry["dataset"]), []).append(entry)
    return list(tasks.items())


# ----------------------------------------------------------------------------- table


def _score(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def _overview(summary: list[dict[str, Any]]) -> list[str]:
    """Test scores at a glance: one row per (task, dataset, head), one column per embedder."""
    embedders = sorted({e["embedder"] for e in summary}, key=_embedder_rank)
    rows: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for entry in summary:
        cell = f"{_score(entry['test_mean'], entry['test_std'])} ({entry['n_seeds']})"
        rows.setdefault((entry["task"], entry["dataset"], entry["head"], entry["metric"]), {})[entry["embedder"]] = (
            f"**{cell}**" if entry["best"] else cell
        )
    lines = [
        "",
        "## At a glance",
        "",
        "Test score, mean ± std (number of seeds).",
        "",
        "| task (dataset, metric) | head | " + " | ".join(embedders) + " |",
        "|---|---|" + "---:|" * len(embedders),
    ]
    for (task, dataset, head, metric), cells in rows.items():
        scores = [cells.get(embedder, "") for embedder in embedders]
        lines.append(f"| {task} ({dataset}, {metric}) | {head} | " + " | ".join(scores) + " |")
    return lines


def render_markdown(summary: list[dict[str, Any]], n_rows: int) -> str:
    """The summary as markdown: a header paragraph, then one table per (task, dataset)."""
    lines = [
        "# elmo-bench results",
        "",
        (
            f"{n_rows} run rows in {len(summary)} groups (task, dataset, embedder, head). Scores "
            "are percentages: mean ± sample standard deviation over seeds (n seeds); **bold**: "
            "the best mean test score of the task."
        ),
        "",
        (
            f"Paper column: {PAPER_CITATION}; +ELMo beside `elmo` and `glove+elmo`, baseline "
            f"beside `glove`. {PAPER_CAVEAT}"
        ),
    ]
    lines += _overview(summary)
    notes = sorted({(e["task"], e["dataset"], note) for e in summary for note in e["notes"]})
    if notes:
        lines += ["", "Notes from the runs:", ""]
        lines += [f"- {task} ({dataset}): {note}" for task, dataset, note in notes]
    for (task, dataset), entries in _by_task(summary):
        metric = entries[0]["metric"]
        lines += [
            "",
            f"## {task} ({dataset}): {metric}",
            "",
            (
                f"| embedder | head | test {metric} | val {metric} | paper (Peters et al. 2018) "
                "| coverage | wall time (s) |"
            ),
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for entry in entries:
            test = f"{_score(entry['test_mean'], entry['test_std'])} (n={entry['n_seeds']})"
            embedder = entry["embedder"]
            if entry["best"]:
                test, embedder = f"**{test}**", f"**{embedder}**"
            paper = (
                f"{entry['paper_value']:g} ({entry['paper_setting']})"
                if entry["paper_value"] is not None
                else "—"
            )
            coverage = (
                f"{100 * entry['coverage_share']:.2f}%"
                if entry["coverage_share"] is not None
                else "—"
            )
            cells = [
                embedder,
                entry["head"],
                test,
                _score(entry["val_mean"], entry["val_std"]),
                paper,
                coverage,
                f"{entry['wall_time_s_mean']:.0f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def render_csv(summary: list[dict[str, Any]]) -> str:
    """The summary as CSV: one line per group, the columns of :data:`CSV_COLUMNS`.

    Lists (seeds, mix weights, notes) are joined with ``;``; a missing value is empty.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in summary:
        writer.writerow(_csv_cell(entry[column]) for column in CSV_COLUMNS)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")


def write_summary(rows: Sequence[dict[str, Any]], out_dir: str | Path) -> Path:
    """Write ``summary.md`` and ``summary.csv`` into ``out_dir``, atomically.

    Returns:
        The path of ``summary.md``.
    """
    out_dir = Path(out_dir)
    summary = summarize(rows)
    markdown = out_dir / SUMMARY_MD
    _write_text(markdown, render_markdown(summary, len(rows)))
    _write_text(out_dir / SUMMARY_CSV, render_csv(summary))
    logger.info("wrote %s and %s", markdown, out_dir / SUMMARY_CSV)
    return markdown


# ----------------------------------------------------------------------------- plots


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=120, bbox_inches="tight")
    logger.info("wrote %s", path)
    return path


def _embedder_colours(summary: list[dict[str, Any]]) -> dict[str, Any]:
    """One colour per embedder, the same in every plot."""
    embedders = sorted({entry["embedder"] for entry in summary}, key=_embedder_rank)
    cmap = colormaps["tab10" if len(embedders) <= 10 else "tab20"]
    return {embedder: cmap(index % cmap.N) for index, embedder in enumerate(embedders)}


def _skip(path: Path, what: str) -> None:
    logger.info("no %s in the run rows; skipping %s", what, path.name)


def plot_scores(summary: list[dict[str, Any]], path: Path) -> Path | None:
    """Bar chart per (task, dataset): mean test score per embedder, error bars one sample std.

    The paper's figures are drawn as horizontal lines, apart from our bars. Returns the
    path, or None (nothing written) for an empty summary.
    """
    tasks = _by_task(summary)
    if not tasks:
        _skip(path, "scores")
        return None
    colours = _embedder_colours(summary)
    ncols = min(len(tasks), 2)
    nrows = math.ceil(len(tasks) / ncols)
    widest = max(len(entries) for _, entries in tasks)
    figure = Figure(
        figsize=(ncols * max(5.0, 0.7 * widest + 3.0), 4.3 * nrows + 0.5), layout="constrained"
    )
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, ((task, dataset), entries) in zip(axes, tasks, strict=False):
        several_heads = len({entry["head"] for entry in entries}) > 1
        labels = [
            entry["embedder"] + (f"\n{entry['head']}" if several_heads else "") for entry in entries
        ]
        means = np.array([entry["test_mean"] for entry in entries])
        stds = np.array([entry["test_std"] or 0.0 for entry in entries])
        x = np.arange(len(entries))
        ax.bar(
            x,
            means,
            color=[colours[entry["embedder"]] for entry in entries],
            edgecolor=["black" if entry["best"] else "none" for entry in entries],
            linewidth=[2.0 if entry["best"] else 0.0 for entry in entries],
        )
        several_seeds = np.array([entry["test_std"] is not None for entry in entries])
        ax.errorbar(
            x[several_seeds],
            means[several_seeds],
            yerr=stds[several_seeds],
            fmt="none",
            capsize=6,
            elinewidth=1.5,
            ecolor="black",
        )
        for position, mean, std in zip(x, means, stds, strict=True):
            ax.annotate(
                f"{mean:.1f}",
                (position, mean + std),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            )
        references = sorted(
            {
                (e["paper_setting"], e["paper_value"])
                for e in entries
                if e["paper_value"] is not None
            }
        )
        for setting, value in references:
            ax.axhline(
                value,
                linestyle="--" if setting == "baseline" else ":",
                color="dimgray",
                linewidth=1.3,
                label=f"{setting}: {value:g}",
            )
        if references:
            ax.legend(
                title="Peters et al. 2018",
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=8,
                title_fontsize=8,
            )
        low = min([float(np.min(means - stds))] + [value for _, value in references])
        high = max([float(np.max(means + stds))] + [value for _, value in references])
        pad = max(0.25 * (high - low), 2.0)
        ax.set_ylim(max(0.0, low - pad), high + pad)
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel(f"test {entries[0]['metric']} (%)")
        ax.set_title(f"{task} ({dataset})")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    for ax in axes[len(tasks) :]:
        ax.set_visible(False)
    figure.suptitle(
        "Test score: mean over seeds, error bar one sample std (none for one seed), "
        "outlined bar best; y axis zoomed (not from 0)",
        fontsize=10,
    )
    return _save(figure, path)


def _mix_row_labels(entries: list[dict[str, Any]]) -> list[str]:
    """Task, plus dataset, embedder and head where they tell rows apart, plus gamma."""
    keys = [tuple(entry[key] for key in GROUP_KEY) for entry in entries]
    shown = [0]
    for depth in range(1, len(GROUP_KEY)):
        if len({key[: depth + 1] for key in keys}) > len({key[:depth] for key in keys}):
            shown.append(depth)
    return [
        " / ".join(key[depth] for depth in shown) + f"  (γ={entry['mix_gamma']:.2f})"
        for key, entry in zip(keys, entries, strict=True)
    ]


def plot_mix_weights(summary: list[dict[str, Any]], path: Path) -> Path | None:
    """Heatmap of the mean softmax-normalised scalar-mix weights: a row per task, a column per layer.

    Returns the path, or None (nothing written) when no row has a scalar mix.
    """
    entries = [entry for entry in summary if entry["mix_weights"] is not None]
    if not entries:
        _skip(path, "multi-layer scalar mixes")
        return None
    layers = max(len(entry["mix_weights"]) for entry in entries)
    weights = np.full((len(entries), layers), np.nan)
    for index, entry in enumerate(entries):
        weights[index, : len(entry["mix_weights"])] = entry["mix_weights"]
    figure = Figure(
        figsize=(max(7.0, 1.4 * layers + 4.5), 0.5 * len(entries) + 2.2), layout="constrained"
    )
    ax = figure.subplots()
    image = ax.imshow(
        np.ma.masked_invalid(weights), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto"
    )
    for (row, column), weight in np.ndenumerate(weights):
        if not math.isnan(weight):
            ax.text(
                column,
                row,
                f"{weight:.2f}",
                ha="center",
                va="center",
                fontsize=9,
                color="black" if weight > 0.6 else "white",
            )
    ax.set_xticks(
        range(layers),
        [f"{k}\n{LAYER_NAMES[k]}" if k < len(LAYER_NAMES) else str(k) for k in range(layers)],
    )
    ax.set_yticks(range(len(entries)), _mix_row_labels(entries))
    ax.set_xlabel("layer")
    ax.set_title("Learned scalar-mix weights (softmax-normalised), mean over seeds")
    figure.colorbar(image, ax=ax, label="weight")
    figure.text(0.0, 0.0, textwrap.fill(PAPER_LAYER_FINDING, 110), fontsize=8, va="top")
    return _save(figure, path)


def plot_coverage(summary: list[dict[str, Any]], path: Path) -> Path | None:
    """Bars of vocabulary coverage (share of tokens found) per static embedder and task.

    Returns the path, or None (nothing written) when no row reports coverage.
    """
    entries = [entry for entry in summary if entry["coverage_share"] is not None]
    if not entries:
        _skip(path, "vocabulary coverage")
        return None
    shares: dict[tuple[str, str], dict[str, list[float]]] = {}
    for entry in entries:
        task = shares.setdefault((entry["task"], entry["dataset"]), {})
        task.setdefault(entry["embedder"], []).append(entry["coverage_share"])
    embedders = sorted({entry["embedder"] for entry in entries}, key=_embedder_rank)
    colours = _embedder_colours(summary)
    width = 0.8 / len(embedders)
    figure = Figure(
        figsize=(max(6.0, len(shares) * (0.6 * len(embedders) + 0.8) + 2.5), 4.2),
        layout="constrained",
    )
    ax = figure.subplots()
    for slot, embedder in enumerate(embedders):
        positions = [
            index + (slot - (len(embedders) - 1) / 2) * width
            for index, by_embedder in enumerate(shares.values())
            if embedder in by_embedder
        ]
        values = [
            100 * fmean(by_embedder[embedder])
            for by_embedder in shares.values()
            if embedder in by_embedder
        ]
        ax.bar(positions, values, width, label=embedder, color=colours[embedder])
        for position, value in zip(positions, values, strict=True):
            ax.annotate(
                f"{value:.1f}",
                (position, value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_xticks(range(len(shares)), [f"{task}\n({dataset})" for task, dataset in shares])
    ax.set_ylim(0, 108)
    ax.set_ylabel("tokens found in the vocabulary (%)")
    ax.set_title("Vocabulary coverage of the static embedders")
    ax.legend(title="embedder", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return _save(figure, path)


def write_plots(rows: Sequence[dict[str, Any]], out_dir: str | Path) -> list[Path]:
    """Write ``scores.png``, ``mix_weights.png`` and ``coverage.png`` into ``out_dir``, atomically.

    A plot with no data is skipped with a log message.

    Returns:
        The paths written.
    """
    out_dir = Path(out_dir)
    summary = summarize(rows)
    plots = (
        (plot_scores, "scores.png"),
        (plot_mix_weights, "mix_weights.png"),
        (plot_coverage, "coverage.png"),
    )
    written = [plot(summary, out_dir / name) for plot, name in plots]
    return [path for path in written if path is not None]


# ----------------------------------------------------------------------------- entry points


def report(folder: str | Path, out_dir: str | Path | None = None) -> Path:
    """Collect the run rows under ``folder`` into tables and plots in ``out_dir`` (default: ``folder``).

    Returns:
        The path of ``summary.md``.

    Raises:
        ReportError: as :func:`load_rows`, or when the folder holds no run rows.
    """
    rows = load_rows(folder)
    if not rows:
        raise ReportError(f"{folder}: no run rows (*.json files with a 'schema' key)")
    out_dir = Path(folder if out_dir is None else out_dir)
    summary = write_summary(rows, out_dir)
    write_plots(rows, out_dir)
    return summary


@command_line("elmo-report")
def main(argv: list[str] | None = None) -> int:
    """Console entry point ``elmo-report RESULTS_DIR [--out DIR]``; prints the summary table.

    Returns:
        0, or 2 when the folder is missing, holds no run rows or holds a bad one.
    """
    parser = argparse.ArgumentParser(
        prog="elmo-report",
        description="Summarise the run rows under a results folder into tables and plots.",
    )
    parser.add_argument("results_dir", type=Path, help="folder searched recursively for run rows")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        summary = report(args.results_dir, args.out)
    except ReportError as error:
        print(f"elmo-report: {error}", file=sys.stderr)
        return 2
    print(summary.read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
