"""The README's "Adding a task" recipe, followed verbatim in a copy of the checkout.

Every code block of that section runs in order: shell blocks as written (``elmo-bench``
is this checkout's ``python -m tasks.run``), a block whose preceding line names a file
(``tasks/topics.py``, ``conf/task/topics.yaml``) is written to that file. The new task
then trains, writes its row, and is found by the every-task test's discovery.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("tasks", "conf", "elmo", "tests", "pyproject.toml")


def recipe_steps(readme: str) -> list[tuple[str, str, str | None]]:
    """``(language, code, file it goes to)`` for each code block of the "Adding a task" section."""
    section = readme.split("\n## Adding a task\n", 1)[1].split("\n## ", 1)[0]
    steps = []
    for match in re.finditer(r"(?P<before>[^\n]*)\n\n```(?P<language>\w+)\n(?P<code>.*?)```", section, re.S):
        named = re.search(r"`([\w/]+\.(?:py|yaml))`", match["before"])
        steps.append((match["language"], match["code"], named.group(1) if named else None))
    return steps


def test_the_recipe_has_data_code_config_and_a_run():
    steps = recipe_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    assert [language for language, _, _ in steps] == ["bash", "python", "yaml", "bash"]
    assert [target for _, _, target in steps][1:3] == ["tasks/topics.py", "conf/task/topics.yaml"]


@pytest.mark.slow
def test_following_the_recipe_adds_a_task_that_trains(tmp_path):
    checkout = tmp_path / "checkout"
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__", "models"))
        else:
            shutil.copy(source, checkout / name)
    (checkout / "elmo" / "models").symlink_to(ROOT / "elmo" / "models")
    elmo_bench = f"{sys.executable} -m tasks.run"
    for language, code, target in recipe_steps((ROOT / "README.md").read_text(encoding="utf-8")):
        if target:
            (checkout / target).write_text(code, encoding="utf-8")
            continue
        assert language == "bash"
        script = re.sub(r"^elmo-bench ", f"{elmo_bench} cache.enabled=false trainer.enable_progress_bar=false ", code, flags=re.M)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=checkout, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]

    rows = [p for p in (checkout / "results" / "topics").rglob("seed0-*.json") if p.stem.count(".") == 0]
    assert len(rows) == 1, rows
    row = json.loads(rows[0].read_text())
    assert (row["task"], row["dataset"], row["metric"], row["head"]) == ("topics", "toy_topics", "micro_f1", "multilabel")
    assert {"test/micro_f1", "test/macro_f1", "test/exact_match"} <= set(row["metrics"])
    predictions = (rows[0].parent / row["predictions"]).read_text().splitlines()
    assert len(predictions) == 6  # one line per test example
    assert sorted(p.stem for p in (checkout / "conf" / "task").glob("*.yaml")).count("topics") == 1
