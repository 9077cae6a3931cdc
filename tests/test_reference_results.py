"""The committed reference grids (``results/<sweep>/runs``) are what the README says they are.

Every row reads back under the row schema, belongs to its sweep's grid, was made with the
shipped biLM as it is now, on a revision that has the default training recipes, and ended
by early stopping, or is listed, with its reason, in the grid's README. Once a grid's
summary is committed the grid is complete: every task x embedder x seed has its row.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tasks.reports.rows import ResultRow, load_results, row_files
from tasks.run import _instantiate, model_fingerprints

ROOT = Path(__file__).resolve().parents[1]
GRIDS = ("elmo_vs_static", "layers")
# The commit whose recipes the reference grids use (constant head learning rate on the
# shared recipe; SQuAD's plateau schedule): every row must be made at it or after it.
RECIPES_COMMIT = "1c30a59"


def _sweep_grid(name: str) -> tuple[list[str], set[str], set[int]]:
    """The sweep's tasks, the report names of its embedders, and its seeds."""
    config = yaml.safe_load((ROOT / "conf" / "sweep" / f"{name}.yaml").read_text(encoding="utf-8"))
    params = config["hydra"]["sweeper"]["params"]
    embedders = set()
    for choice in str(params["embedder"]).split(","):
        node = yaml.safe_load(
            (ROOT / "conf" / "embedder" / f"{choice}.yaml").read_text(encoding="utf-8")
        )
        embedders.add(node.get("name") or choice)
    seeds = {int(seed) for seed in str(params["seed"]).split(",")}
    return str(params["task"]).split(","), embedders, seeds


def _rows(name: str) -> list[tuple[Path, ResultRow]]:
    """(path under ``runs/``, row) of every committed row of the grid."""
    folder = ROOT / "results" / name / "runs"
    if not folder.is_dir():
        pytest.skip(f"no committed rows for {name}")
    load_results(folder)  # the schema, one row per run key, one model per embedder
    return [
        (path.relative_to(folder), ResultRow.from_dict(data, path))
        for path, data in row_files(folder)
    ]


def _is_ancestor(commit: str, revision: str) -> bool | None:
    """Whether ``commit`` is ``revision`` or one of its ancestors; None without the history."""
    done = subprocess.run(
        ["git", "merge-base", "--is-ancestor", commit, revision],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return {0: True, 1: False}.get(done.returncode)


@pytest.mark.parametrize("name", GRIDS)
def test_rows_belong_to_the_grid_and_a_committed_summary_means_it_is_complete(name):
    tasks, embedders, seeds = _sweep_grid(name)
    rows = [row for _, row in _rows(name)]

    assert {row.embedder for row in rows} <= embedders
    assert {row.seed for row in rows} <= seeds
    assert len({row.task for row in rows}) <= len(tasks)
    if (ROOT / "results" / name / "summary.md").is_file():
        assert len(rows) == len(tasks) * len(embedders) * len(seeds)


@pytest.mark.parametrize("name", GRIDS)
def test_every_row_stopped_early_or_is_listed_with_its_reason(name):
    readme = (ROOT / "results" / name / "README.md").read_text(encoding="utf-8")
    unlisted = [
        f"{path} ({row.stopped_by})"
        for path, row in _rows(name)
        if row.stopped_by != "early_stopping" and path.as_posix() not in readme
    ]
    assert not unlisted, (
        f"rows not ended by early stopping and not listed in results/{name}/README.md"
    )


@pytest.mark.parametrize("name", GRIDS)
def test_every_row_was_made_with_the_recipes_and_the_shipped_bilm(name):
    rows = _rows(name)
    if _is_ancestor(RECIPES_COMMIT, "HEAD") is None:
        pytest.skip("no git history here to place the rows' revisions in")
    current: dict[str, dict[str, str]] = {}
    for path, row in rows:
        assert row.git_revision and _is_ancestor(RECIPES_COMMIT, row.git_revision), (
            f"{path}: made at {row.git_revision}, before the recipes ({RECIPES_COMMIT})"
        )
        recorded = row.model_fingerprints or {}
        for key in recorded:
            node = OmegaConf.select(OmegaConf.create(row.config), key)
            if key not in current.get(row.embedder, {}):
                current.setdefault(row.embedder, {}).update(
                    model_fingerprints(_instantiate(node), key)
                )
            assert recorded[key] == current[row.embedder][key], (
                f"{path}: made with another {key} model"
            )
