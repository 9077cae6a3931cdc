"""The error boundary itself, and guards over the source: no import cycle in ``elmo``, no
pickle loaded from what a user hands over."""

from __future__ import annotations

import ast
import errno
import signal
from pathlib import Path

import pytest
from commands_under_test import ROOT, assert_one_line, run_command
from reports.report_rows import make_row, write_row

from elmo.cli import ErrorBoundary, command_line, describe, error_boundary
from elmo.config import OptionsError
from elmo.lm import NonFiniteLossError


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OptionsError("options.json: missing key 'lstm.dim'"), "options.json: missing key 'lstm.dim'"),
        (NonFiniteLossError("loss is nan\nat step 3"), "loss is nan at step 3"),
        (PermissionError(errno.EACCES, "Permission denied", "/data/x"), "/data/x: permission denied"),
        (OSError(errno.ENOSPC, "No space left on device", "out.h5"), "out.h5: no space left on the device (disk full)"),
        (OSError(errno.EFBIG, "File too large"), "file too large (over the file size limit, see ulimit -f)"),
        (OSError(errno.EROFS, "Read-only file system", "/mnt"), "/mnt: read-only file system"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "conf"), "conf: is a folder, expected a file"),
        (OSError(errno.EXDEV, "Invalid cross-device link", "a", "b"), None),  # not the user's doing
        (ValueError("a bug"), None),
        (KeyError("x"), None),
    ],
)
def test_what_counts_as_a_users_error(error, expected):
    assert describe(error) == expected


def test_a_decorated_command_returns_2_and_prints_one_line(capsys):
    @command_line("demo")
    def main(argv):
        assert argv == ["x"]  # --debug is taken off
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "input.txt")

    assert main(["x"]) == 2
    assert capsys.readouterr().err == "demo: input.txt: no such file or folder\n"
    with pytest.raises(FileNotFoundError):
        main(["x", "--debug"])


def test_a_command_that_succeeds_returns_its_status():
    assert command_line("demo")(lambda argv: None)([]) == 0
    assert command_line("demo")(lambda argv: 3)([]) == 3


def test_bugs_keep_their_traceback_and_extra_types_count(capsys):
    with pytest.raises(ZeroDivisionError), ErrorBoundary("demo"):
        1 / 0

    class ReportError(ValueError):
        pass

    with ErrorBoundary("demo", (ReportError,)) as boundary:
        raise ReportError("results/: no run rows")
    assert boundary.status == 2 and capsys.readouterr().err == "demo: results/: no run rows\n"


def test_the_hydra_form_exits_and_the_variable_shows_tracebacks(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exited, error_boundary("elmo-bench"):
        raise OptionsError("embedder.options_file: not found")
    assert exited.value.code == 2 and capsys.readouterr().err == "elmo-bench: embedder.options_file: not found\n"
    monkeypatch.setenv("ELMO_BENCH_DEBUG", "1")
    with pytest.raises(OptionsError), error_boundary("elmo-bench"):
        raise OptionsError("shown with its traceback")


def test_sigxfsz_is_ignored_inside_and_restored_after():
    before = signal.getsignal(signal.SIGXFSZ)
    with ErrorBoundary("demo"):
        assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN
    assert signal.getsignal(signal.SIGXFSZ) == before


def test_ctrl_c_is_one_line_and_status_130(capsys):
    with ErrorBoundary("demo") as boundary:
        raise KeyboardInterrupt
    assert boundary.status == 130 and capsys.readouterr().err == "demo: interrupted\n"


def test_report_names_an_output_folder_below_a_file(tmp_path):
    write_row(tmp_path / "results", make_row("ner", "conll2003", "elmo", 0, 90.0, 92.0))
    (tmp_path / "taken").write_text("a file\n")
    outcome = run_command(
        ["-m", "tasks.reports.cli", "results", "--out", "taken/report"], cwd=tmp_path,
    )
    assert_one_line(outcome, "elmo-report", "taken")
    assert (tmp_path / "taken").read_text() == "a file\n"


# ----------------------------------------------------------------------------- source guards


def _imports(path: Path) -> set[str]:
    """Every ``elmo`` module a file imports, type-checking imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("elmo"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("elmo."))
    return found


def test_the_elmo_package_has_no_import_cycle():
    modules = {f"elmo.{p.stem}": _imports(p) for p in (ROOT / "elmo").glob("*.py") if p.stem != "__init__"}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done" or module not in modules:
            return
        assert state.get(module) != "open", f"import cycle: {' -> '.join([*trail, module])}"
        state[module] = "open"
        for imported in sorted(modules[module]):
            visit(imported, [*trail, module])
        state[module] = "done"

    for module in sorted(modules):
        visit(module, [])


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    calls = []
    for folder in ("elmo", "tasks", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and ast.unparse(node.func) == name:
                    calls.append((path, node))
    return calls


def _keyword(call: ast.Call, name: str) -> str | None:
    return next((ast.unparse(k.value) for k in call.keywords if k.arg == name), None)


def test_every_torch_load_refuses_pickled_code():
    for path, call in _calls("torch.load"):
        assert _keyword(call, "weights_only") == "True", f"{path}:{call.lineno}"
    for path, call in _calls("trainer.fit"):
        if _keyword(call, "ckpt_path") not in (None, "None"):
            assert _keyword(call, "weights_only") == "True", f"{path}:{call.lineno}"


def test_every_np_load_refuses_pickles():
    for path, call in _calls("np.load"):
        assert _keyword(call, "allow_pickle") == "False", f"{path}:{call.lineno}"
