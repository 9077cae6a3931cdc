"""The README's code and links: its Python examples run, its in-page links have targets, its
local links exist, and the commands it shows use options and config names that exist."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Commands whose options an argparse parser defines (the others are Hydra apps).
ARGPARSE_COMMANDS = ("elmo-embed", "elmo-cache", "elmo-perplexity", "elmo-train-vectors", "elmo-report")
# Config groups whose choices are files under conf/ (hydra/launcher choices come from plugins too).
CONFIG_GROUPS = ("task", "embedder", "head", "trainer", "sweep")


def code_blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block in ``language``."""
    return [
        (README.count("\n", 0, match.start()) + 1, match.group(2))
        for match in FENCE.finditer(README)
        if match.group(1) == language
    ]


def prose() -> str:
    """The README without its code blocks (a ``#`` in code is not a heading)."""
    return FENCE.sub("", README)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors() -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(), re.MULTILINE):
        anchor = base = github_anchor(heading)
        suffix = 0
        while anchor in found:  # GitHub numbers repeated headings
            suffix += 1
            anchor = f"{base}-{suffix}"
        found.add(anchor)
    return found


def command_lines() -> list[tuple[str, list[str]]]:
    """(command name, arguments) of every command in the bash blocks, comments dropped."""
    commands = []
    for _, block in code_blocks("bash"):
        for line in block.splitlines():
            for part in line.split("#")[0].split("&&"):
                words = shlex.split(part)
                if words:
                    commands.append((Path(words[0]).name, words[1:]))
    return commands


def scripts() -> dict[str, str]:
    """``[project.scripts]`` of pyproject.toml: command name to ``module:function``."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def test_the_readme_has_python_examples():
    assert code_blocks("python")


@pytest.mark.parametrize(("line", "code"), code_blocks("python"), ids=lambda value: str(value)[:12])
def test_python_example_runs(line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    exec(compile(code, f"README.md, block at line {line}", "exec"), {"__name__": "readme_example"})


def test_in_page_links_have_headings():
    targets = anchors()
    missing = [link for link in re.findall(r"\]\(#([^)]+)\)", README) if link not in targets]
    assert not missing, f"links to no heading: {missing}; headings: {sorted(targets)}"


def test_local_links_exist():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose())
    local = [link for link in links if "://" not in link and not link.startswith("mailto:")]
    assert local
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"links to nothing in the checkout: {missing}"


def test_command_options_exist():
    entry_points = scripts()
    used: dict[str, set[str]] = {}
    for name, arguments in command_lines():
        if name in ARGPARSE_COMMANDS:
            used.setdefault(name, set()).update(a.split("=")[0] for a in arguments if a.startswith("--"))
    assert used
    for name, options in used.items():
        module, function = entry_points[name].split(":")
        help_text = io.StringIO()
        with contextlib.redirect_stdout(help_text), pytest.raises(SystemExit) as exit_:
            getattr(importlib.import_module(module), function)(["--help"])
        assert exit_.value.code == 0
        unknown = sorted(option for option in options if option not in help_text.getvalue().split())
        assert not unknown, f"the README passes {name} options its --help does not list: {unknown}"


def test_config_choices_exist():
    checked = 0
    added = {"task=topics"}  # the "Adding a task" recipe creates it (tests/test_adding_a_task.py follows it)
    for name, arguments in command_lines():
        if name != "elmo-bench":
            continue
        for argument in arguments:
            group, _, choices = argument.partition("=")
            if group in CONFIG_GROUPS and argument not in added:
                for choice in choices.split(","):
                    assert (ROOT / "conf" / group / f"{choice}.yaml").is_file(), f"{argument}: no conf/{group}/{choice}.yaml"
                    checked += 1
    assert checked
