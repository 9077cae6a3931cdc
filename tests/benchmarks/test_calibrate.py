"""The calibration report: recipes named by what varies, one line per run, a curves plot."""

from __future__ import annotations

import json

from benchmarks.calibrate import group_recipes, main, table


def _row(embedder: str, batch: int, curve: list[float], stopped: str = "early_stopping") -> dict:
    training = {"lr": 0.001, "batch_tokens": batch, "max_epochs": 40, "patience": 3}
    best = max(range(len(curve)), key=curve.__getitem__)
    return {
        "schema": 2, "task": "sentiment", "embedder": embedder, "seed": 0, "metric": "accuracy", "stopped_by": stopped,
        "best_epoch": best, "learning_curve": curve, "wall_time_s": 12.0, "config": {"training": training},
    }


def test_recipes_are_named_by_the_keys_that_vary_and_tabulated_per_run():
    rows = [_row("glove", 2048, [30.0, 35.0, 34.0]), _row("glove", 512, [33.0, 38.0, 37.5, 37.0]), _row("elmo", 512, [31.0])]
    groups = group_recipes(rows)
    assert [label for label, _ in groups[("sentiment", "glove")]] == ["batch_tokens=2048", "batch_tokens=512"]
    assert [label for label, _ in groups[("sentiment", "elmo")]] == ["default"]
    lines = table(groups).splitlines()
    assert len(lines) == 2 + 3
    assert "| sentiment | glove | batch_tokens=512 | 0 | early_stopping | 2 / 4 | 38.00 |  | 12 |" in lines


def test_a_key_only_newer_rows_have_varies_and_learning_rate_drops_are_listed():
    old = _row("glove", 512, [30.0, 35.0])
    new = _row("glove", 512, [33.0, 38.0, 37.5, 37.0])
    new["config"]["training"]["lr_decay"] = 0.5
    new["learning_rates"] = [0.001, 0.001, 0.001, 0.0005]
    constant = _row("elmo", 512, [31.0, 32.0])
    constant["learning_rates"] = [0.001, 0.001]
    groups = group_recipes([old, new, constant])
    assert [label for label, _ in groups[("sentiment", "glove")]] == ["lr_decay=0.5", "lr_decay=None"]
    lines = table(groups).splitlines()
    assert "| sentiment | glove | lr_decay=0.5 | 0 | early_stopping | 2 / 4 | 38.00 | 3 | 12 |" in lines
    assert "| sentiment | elmo | default | 0 | early_stopping | 2 / 2 | 32.00 | - | 12 |" in lines


def test_the_command_writes_the_table_and_the_curves(tmp_path):
    runs = tmp_path / "runs"
    for index, row in enumerate([_row("glove", 2048, [30.0, 35.0]), _row("glove", 512, [33.0, 38.0]), _row("elmo", 512, [31.0])]):
        folder = runs / f"sentiment-sst5/glove{index}"
        folder.mkdir(parents=True)
        (folder / f"seed0-{index:012x}.json").write_text(json.dumps(row))
        (folder / f"seed0-{index:012x}.examples.json").write_text("{}")
    assert main([str(runs)]) == 0
    assert (tmp_path / "curves.md").read_text().count("| sentiment |") == 3
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
