"""Learning curves of head-training recipes, read from run rows: the evidence for a recipe.

A calibration is an ordinary multirun over recipe values (train and dev only decide: the
curves are validation scores, and the test split is read once per run, at its end):

    elmo-bench -m task=sentiment embedder=glove,elmo training.batch_tokens=512,1024,2048 \\
        training.max_epochs=40 results_dir=results/calibration/runs \\
        hydra/launcher=joblib hydra.launcher.n_jobs=2 threads=1
    python -m benchmarks.calibrate results/calibration/runs --out results/calibration

It prints, per task and embedder, each recipe (the ``training`` keys that differ between
the rows) with what stopped it, its best epoch, its best validation score and its wall
time, and draws every learning curve into ``curves.png``. A recipe is good when every run
ends by early stopping with its best epoch clearly before the cap, at the lowest cost.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from elmo.io import atomic_path
from tasks.reports.rows import row_files


def load_rows(folder: Path) -> list[dict[str, Any]]:
    """Every run row under ``folder`` that records a learning curve."""
    return [row for _, row in row_files(folder) if row.get("learning_curve")]


def recipe_label(row: dict[str, Any], varying: list[str]) -> str:
    """``batch_tokens=512 lr=0.002``: the row's values of the keys that vary in its group."""
    training = row["config"]["training"]
    return " ".join(f"{key}={training.get(key)}" for key in varying) or "default"


def group_recipes(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]:
    """``{(task, embedder): [(recipe label, row), ...]}``, labels naming only what varies."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["task"], row["embedder"])].append(row)
    labelled = {}
    for key, members in groups.items():
        settings = [m["config"]["training"] for m in members]
        keys = {key for setting in settings for key in setting}  # older rows lack newer keys
        varying = sorted(k for k in keys if len({json.dumps(s.get(k)) for s in settings}) > 1)
        labelled[key] = sorted(((recipe_label(m, varying), m) for m in members), key=lambda pair: pair[0])
    return labelled


def table(groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]) -> str:
    """One markdown table line per run: recipe, stop, best epoch of epochs, best val, the
    epochs after which a plateau schedule lowered the learning rate, wall time."""
    lines = [
        "| task | embedder | recipe | seed | stopped by | best epoch / epochs | best val | lr lowered after epochs | wall time (s) |",
        "|---|---|---|---:|---|---:|---:|---|---:|",
    ]
    for (task, embedder), members in sorted(groups.items()):
        for label, row in members:
            curve = row["learning_curve"]
            lines.append(
                f"| {task} | {embedder} | {label} | {row['seed']} | {row['stopped_by']} | "
                f"{row['best_epoch'] + 1} / {len(curve)} | {max(curve):.2f} | {lowered(row)} | {row['wall_time_s']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def lowered(row: dict[str, Any]) -> str:
    """``9, 12``: the (1-based) epochs after which the learning rate fell; ``-`` if it never did,
    blank when the row does not record its learning rates."""
    rates = row.get("learning_rates")
    if not rates:
        return ""
    return ", ".join(str(epoch) for epoch in range(1, len(rates)) if rates[epoch] < rates[epoch - 1]) or "-"


def plot(groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]], path: Path) -> None:
    """One panel per (task, embedder), a row of panels per task: validation score against
    epoch, one line per run."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tasks = sorted({task for task, _ in groups})
    embedders = sorted({embedder for _, embedder in groups})
    figure = Figure(figsize=(5 * len(embedders), 3.6 * len(tasks)), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(len(tasks), len(embedders), squeeze=False)
    for (task, embedder), axis in zip(((t, e) for t in tasks for e in embedders), grid.flat, strict=True):
        key = (task, embedder)
        if key not in groups:
            axis.set_axis_off()
            continue
        for label, row in groups[key]:
            curve = row["learning_curve"]
            axis.plot(range(1, len(curve) + 1), curve, marker=".", label=f"{label} (seed {row['seed']})")
        metric = groups[key][0][1]["metric"]
        axis.set(title=f"{key[0]}, {key[1]}", xlabel="epoch", ylabel=f"val {metric}")
        axis.legend(fontsize=7)
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="folder of run rows (searched recursively)")
    parser.add_argument("--out", type=Path, default=None, help="where curves.md and curves.png go (default: RUNS' parent)")
    args = parser.parse_args(argv)
    rows = load_rows(args.runs)
    if not rows:
        parser.exit(2, f"python -m benchmarks.calibrate: {args.runs}: no run rows with a learning curve\n")
    groups = group_recipes(rows)
    out = args.out or args.runs.parent
    out.mkdir(parents=True, exist_ok=True)
    text = table(groups)
    with atomic_path(out / "curves.md") as temp:
        temp.write_text(text, encoding="utf-8")
    plot(groups, out / "curves.png")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
