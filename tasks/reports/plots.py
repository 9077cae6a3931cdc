"""The summary as plots: scores per task, scalar-mix weights, vocabulary coverage."""

from __future__ import annotations

import logging
import math
import textwrap
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from elmo.io import atomic_path
from tasks.reports.paper import PAPER_LAYER_FINDING
from tasks.reports.stats import GROUP_KEY, Cell, Summary, embedder_rank
from tasks.reports.tables import CAPPED_LABEL, HIT_CAP_MARK, marks

logger = logging.getLogger(__name__)

LAYER_NAMES = ("char CNN", "biLSTM 1", "biLSTM 2")


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=120, bbox_inches="tight")
    logger.info("wrote %s", path)
    return path


def _embedder_colours(summary: Summary) -> dict[str, Any]:
    """One colour per embedder, the same in every plot."""
    embedders = sorted({cell.embedder for cell in summary.cells}, key=embedder_rank)
    cmap = colormaps["tab10" if len(embedders) <= 10 else "tab20"]
    return {embedder: cmap(index % cmap.N) for index, embedder in enumerate(embedders)}


def _skip(path: Path, what: str) -> None:
    logger.info("no %s in the run rows; skipping %s", what, path.name)


def error_bars(cells: list[Cell]) -> np.ndarray:
    """(2, cells): the test 95% interval's extent below and above each mean (0 for one seed)."""
    return (
        np.array(
            [
                [0.0, 0.0]
                if c.test.ci is None
                else [c.test.mean - c.test.ci[0], c.test.ci[1] - c.test.mean]
                for c in cells
            ]
        )
        .reshape(-1, 2)
        .T
    )


def paper_lines(cells: list[Cell]) -> list[tuple[str, float]]:
    """The paper's (setting, figure) lines to draw over ``cells``: none over capped data."""
    return sorted(
        {
            (c.paper_setting, c.paper_value)
            for c in cells
            if c.paper_value is not None and not c.capped
        }
    )


def plot_scores(summary: Summary, path: Path) -> Path | None:
    """Bar chart per (task, dataset): mean test score per cell, error bars its 95% t interval.

    The paper's figures are drawn as horizontal lines, apart from our bars, and never for a
    cell on capped data, whose bar is hatched and labelled. The significantly best bar has a
    solid outline, tied best bars a dashed one. Returns the path, or None (nothing written)
    for an empty summary.
    """
    tasks = summary.by_task()
    if not tasks:
        _skip(path, "scores")
        return None
    colours = _embedder_colours(summary)
    ncols = min(len(tasks), 2)
    nrows = math.ceil(len(tasks) / ncols)
    widest = max(len(cells) for _, cells in tasks)
    figure = Figure(
        figsize=(ncols * max(5.0, 0.7 * widest + 3.0), 4.3 * nrows + 0.5), layout="constrained"
    )
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, ((task, dataset), cells) in zip(axes, tasks, strict=False):
        several_heads = len({cell.head for cell in cells}) > 1
        labels = [
            cell.embedder + (f"\n{cell.head}" if several_heads else "") + marks(cell, tie=False)
            for cell in cells
        ]
        means = np.array([cell.test.mean for cell in cells])
        errors = error_bars(cells)
        x = np.arange(len(cells))
        bars = ax.bar(
            x,
            means,
            color=[colours[cell.embedder] for cell in cells],
            edgecolor=["black" if cell.best or cell.tied_best else "none" for cell in cells],
            linewidth=[2.0 if cell.best or cell.tied_best else 0.0 for cell in cells],
            hatch=["//" if cell.capped else None for cell in cells],
        )
        for bar, cell in zip(bars, cells, strict=True):
            bar.set_linestyle("--" if cell.tied_best else "-")
        several_seeds = np.array([cell.test.ci is not None for cell in cells])
        ax.errorbar(
            x[several_seeds],
            means[several_seeds],
            yerr=errors[:, several_seeds],
            fmt="none",
            capsize=6,
            elinewidth=1.5,
            ecolor="black",
        )
        for position, mean, above in zip(x, means, errors[1], strict=True):
            ax.annotate(
                f"{mean:.1f}",
                (position, mean + above),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            )
        references = paper_lines(cells)
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
        low = min([float(np.min(means - errors[0]))] + [value for _, value in references])
        high = max([float(np.max(means + errors[1]))] + [value for _, value in references])
        pad = max(0.25 * (high - low), 2.0)
        ax.set_ylim(max(0.0, low - pad), high + pad)
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel(f"test {cells[0].metric} (%)")
        ax.set_title(f"{task} ({dataset})")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    for ax in axes[len(tasks) :]:
        ax.set_visible(False)
    figure.suptitle(
        "Test score: mean over seeds, error bar 95% t interval (none for one seed); outline: "
        f"significantly best, dashed: tied; {HIT_CAP_MARK}: a run hit its cap; hatched: "
        f"{CAPPED_LABEL} data; y axis zoomed (not from 0)",
        fontsize=10,
    )
    return _save(figure, path)


def _mix_row_labels(cells: list[Cell]) -> list[str]:
    """Task, plus dataset, embedder and head where they tell rows apart, plus gamma."""
    keys = [cell.key for cell in cells]
    shown = [0]
    for depth in range(1, len(GROUP_KEY)):
        if len({key[: depth + 1] for key in keys}) > len({key[:depth] for key in keys}):
            shown.append(depth)
    return [
        " / ".join(key[depth] for depth in shown) + f"  (γ={cell.mix_gamma:.2f})"
        for key, cell in zip(keys, cells, strict=True)
    ]


def plot_mix_weights(summary: Summary, path: Path) -> Path | None:
    """Heatmap of the mean softmax-normalised scalar-mix weights: a row per task, a column per layer.

    Returns the path, or None (nothing written) when no row has a scalar mix.
    """
    cells = [cell for cell in summary.cells if cell.mix_weights is not None]
    if not cells:
        _skip(path, "multi-layer scalar mixes")
        return None
    layers = max(len(cell.mix_weights) for cell in cells)
    weights = np.full((len(cells), layers), np.nan)
    for index, cell in enumerate(cells):
        weights[index, : len(cell.mix_weights)] = cell.mix_weights
    figure = Figure(
        figsize=(max(7.0, 1.4 * layers + 4.5), 0.5 * len(cells) + 2.2), layout="constrained"
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
    ax.set_yticks(range(len(cells)), _mix_row_labels(cells))
    ax.set_xlabel("layer")
    ax.set_title("Learned scalar-mix weights (softmax-normalised), mean over seeds")
    figure.colorbar(image, ax=ax, label="weight")
    figure.text(0.0, 0.0, textwrap.fill(PAPER_LAYER_FINDING, 110), fontsize=8, va="top")
    return _save(figure, path)


def plot_coverage(summary: Summary, path: Path) -> Path | None:
    """Bars of vocabulary coverage (share of tokens found) per static embedder and task.

    Returns the path, or None (nothing written) when no row reports coverage.
    """
    cells = [cell for cell in summary.cells if cell.coverage_share is not None]
    if not cells:
        _skip(path, "vocabulary coverage")
        return None
    shares: dict[tuple[str, str], dict[str, list[float]]] = {}
    for cell in cells:
        task = shares.setdefault((cell.task, cell.dataset), {})
        task.setdefault(cell.embedder, []).append(cell.coverage_share)
    embedders = sorted({cell.embedder for cell in cells}, key=embedder_rank)
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


def write_plots(summary: Summary, out_dir: str | Path) -> list[Path]:
    """Write ``scores.png``, ``mix_weights.png`` and ``coverage.png`` into ``out_dir``, atomically.

    A plot with no data is skipped with a log message.

    Returns:
        The paths written.
    """
    out_dir = Path(out_dir)
    plots = (
        (plot_scores, "scores.png"),
        (plot_mix_weights, "mix_weights.png"),
        (plot_coverage, "coverage.png"),
    )
    written = [plot(summary, out_dir / name) for plot, name in plots]
    return [path for path in written if path is not None]
