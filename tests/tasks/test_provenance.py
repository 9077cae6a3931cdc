"""The git revision a result row records."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tasks.provenance import git_revision

revision = git_revision.__wrapped__  # uncached: each call reads the repository again


def _git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def test_dirty_means_changed_code_not_rewritten_results(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "summary.md").write_text("old table\n")
    (tmp_path / "head.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "start")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert revision(tmp_path) == head

    (tmp_path / "results" / "summary.md").write_text("a sweep's new table\n")
    (tmp_path / "results" / "new_row.json").write_text("{}\n")
    assert revision(tmp_path) == head

    (tmp_path / "head.py").write_text("x = 2\n")
    assert revision(tmp_path) == f"{head}+dirty"


def test_new_files_git_does_not_ignore_make_the_revision_dirty(tmp_path):
    (tmp_path / ".gitignore").write_text(".cache/\n")
    (tmp_path / "head.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "start")
    head = _git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "features.npy").write_text("ignored\n")
    assert revision(tmp_path) == head

    (tmp_path / "my_task.py").write_text("class MyTask: ...\n")  # a new task, not yet committed
    assert revision(tmp_path) == f"{head}+dirty"


def test_outside_a_repository_the_revision_is_unknown(tmp_path):
    assert revision(tmp_path) == "unknown"
