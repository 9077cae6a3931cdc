"""Hand-made run rows for the report tests, with means and stds worked out by hand."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from tasks.reports.rows import ResultRow

SQUAD_NOTE = "SQuAD v1.1 dev split by article (seed 0): train/dev/test 38/5/5 articles"


def make_row(
    task: str,
    dataset: str,
    embedder: str,
    seed: int,
    test: float,
    val: float | None = None,
    *,
    metric: str = "f1",
    head: str = "bilstm",
    mix: list[float] | None = None,
    coverage: float | None = None,
    wall_time_s: float = 100.0,
    **extra: Any,
) -> ResultRow:
    """A run row as the run writes it (schema 2, every field)."""
    metrics = {f"test/{metric}": test, "test/precision": test + 1.0}
    if val is not None:
        metrics[f"val/{metric}"] = val
    fields: dict[str, Any] = {
        "secondary_metrics": ["precision"],
        "scalar_mix": None if mix is None else {"weights": mix, "gamma": 1.0 + seed},
        "coverage": (
            None
            if coverage is None
            else {"tokens": 1000, "found": round(1000 * coverage), "share": coverage}
        ),
        "trainable_parameters": 1234,
        "epochs": 3,
        "best_epoch": 2,
        "stopped_by": "early_stopping",
        "learning_curve": [val or 0.0] * 3,
        "capped": False,
        "train_items": 100,
        "tokens_per_second": 5000.0,
        "git_revision": "abc123",
        "config": {"task": {"name": task}},
        "config_hash": f"{seed}abc",
        "created": "2026-11-24T22:40:00Z",
        "predictions": f"seed{seed}-{head}.predictions.txt",
        "example_scores": None,
    }
    return ResultRow(
        task=task,
        dataset=dataset,
        embedder=embedder,
        head=head,
        seed=seed,
        metric=metric,
        metrics=metrics,
        wall_time_s=wall_time_s,
        **(fields | extra),
    )


def write_row(folder: Path, row: ResultRow | dict[str, Any]) -> Path:
    """Write a row (or a raw row dict) as JSON where a sweep would put it."""
    data = row.to_dict() if isinstance(row, ResultRow) else row
    name = f"seed{data['seed']}-{data['head']}.json"
    path = folder / "runs" / data["task"] / data["embedder"] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


ROWS = [
    # NER: elmo 90, 91, 92 -> 91 ± 1; glove 88, 89 -> 88.5 ± sqrt(0.5); elmo_lstm1 one seed.
    make_row("ner", "conll2003", "elmo", 0, 90.0, 92.0, mix=[0.2, 0.5, 0.3], wall_time_s=10.0),
    make_row("ner", "conll2003", "elmo", 1, 91.0, 93.0, mix=[0.4, 0.3, 0.3], wall_time_s=20.0),
    make_row("ner", "conll2003", "elmo", 2, 92.0, 94.0, mix=[0.3, 0.4, 0.3], wall_time_s=30.0),
    make_row("ner", "conll2003", "glove", 0, 88.0, 90.0, coverage=0.95),
    make_row("ner", "conll2003", "glove", 1, 89.0, 91.0, coverage=0.95),
    make_row("ner", "conll2003", "elmo_lstm1", 0, 89.5, 90.5),
    # SST-5: glove+elmo 55, 53 -> 54 ± sqrt(2) is best; elmo 50, 52 -> 51 ± sqrt(2).
    make_row("sentiment", "sst5", "elmo", 0, 50.0, 49.0, metric="accuracy", mix=[0.1, 0.6, 0.3]),
    make_row("sentiment", "sst5", "elmo", 1, 52.0, 51.0, metric="accuracy", mix=[0.1, 0.6, 0.3]),
    make_row(
        "sentiment", "sst5", "glove+elmo", 0, 55.0, 50.0, metric="accuracy", mix=[0.2, 0.7, 0.1]
    ),
    make_row(
        "sentiment", "sst5", "glove+elmo", 1, 53.0, 52.0, metric="accuracy", mix=[0.2, 0.7, 0.1]
    ),
    make_row("sentiment", "sst5", "glove", 0, 45.0, 44.0, metric="accuracy", coverage=0.9),
    # SQuAD with its split note; word2vec has no paper figure.
    make_row("squad", "squad_v1.1", "glove", 0, 60.0, 61.0, coverage=0.8, note=SQUAD_NOTE),
    make_row("squad", "squad_v1.1", "word2vec", 0, 58.0, 59.0, coverage=0.7, note=SQUAD_NOTE),
]


def scored_row(
    embedder: str,
    seed: int,
    num: list[float],
    den: list[float],
    *,
    task: str = "ner",
    dataset: str = "conll2003",
    **extra: Any,
) -> tuple[ResultRow, dict[str, Any]]:
    """A row whose test F1 is ``100 * sum(num) / sum(den)``, and its per-example scores file."""
    score = 100.0 * sum(num) / sum(den)
    row = make_row(task, dataset, embedder, seed, score, score, **extra)
    name = f"seed{seed}-{row.head}.examples.json"
    row = dataclasses.replace(row, example_scores=name)
    return row, {"split": "test", "metrics": {"f1": {"num": num, "den": den}}}


def write_scored(folder: Path, row: ResultRow, scores: dict[str, Any]) -> Path:
    """Write a row and, beside it, the per-example scores file it names."""
    path = write_row(folder, row)
    (path.parent / row.example_scores).write_text(json.dumps(scores), encoding="utf-8")
    return path
