"""The error boundary of every command: a user's mistake is one line, a bug a traceback.

Inside the boundary an error the user can cause ends the command with one line on stderr,
``<command>: <message>``, and exit status 2:

- an :class:`elmo.errors.UserError` (bad options, weights, corpus, ...) or one of the
  extra types a command names;
- an OS fault on a path the user chose: permission denied, a folder where a file was
  expected or the other way round, a missing file, a full disk, a file over the size
  limit (``ulimit -f``), a read-only file system. The line names the path.

``Ctrl-C`` ends with ``<command>: interrupted`` and status 130. Anything else keeps its
traceback. ``--debug`` on the command line of an argparse command, or the environment
variable ``ELMO_BENCH_DEBUG=1``, shows the traceback of every error instead.

The boundary also ignores ``SIGXFSZ`` while it runs: past ``ulimit -f`` a write then fails
with ``EFBIG`` (an ``OSError`` the boundary reports) instead of the signal killing the
process with a half-written file.

Argparse commands are decorated; a Hydra command wraps its body::

    @command_line("elmo-embed")
    def main(argv: list[str] | None = None) -> int: ...

    @hydra.main(...)
    def main(cfg: DictConfig) -> None:
        with error_boundary("elmo-pretrain"):
            run(cfg)
"""

from __future__ import annotations

import argparse
import errno
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from elmo.errors import UserError, one_line

#: The environment variable that shows tracebacks instead of one-line errors.
DEBUG_ENV = "ELMO_BENCH_DEBUG"
#: The command-line flag that does the same for argparse commands.
DEBUG_FLAG = "--debug"
#: Exit status of a command stopped by a user error or an OS fault.
EXIT_USER_ERROR = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: One line to add to an argparse command's help.
DEBUG_HELP = f"{DEBUG_FLAG} (or {DEBUG_ENV}=1): show the traceback of an error instead of one line"

# OS faults that come from the user's paths or machine, not from a bug.
_OS_FAULTS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOTDIR: "a part of the path is a file, expected a folder",
    errno.ENOENT: "no such file or folder",
    errno.EEXIST: "already exists",
    errno.ENOTEMPTY: "folder not empty",
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (over the file size limit, see ulimit -f)",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links",
}


def debug_requested() -> bool:
    """Whether ``ELMO_BENCH_DEBUG`` asks for tracebacks (any value but empty, 0, false, no)."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def describe_os_fault(error: OSError) -> str | None:
    """``<path>: <reason>`` for an OS fault the user can fix, None for any other ``OSError``."""
    reason = _OS_FAULTS.get(error.errno)  # type: ignore[arg-type]
    if reason is None:
        return None
    paths = [os.fsdecode(name) for name in (error.filename, error.filename2) if name is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def describe(error: BaseException, user_errors: Sequence[type[BaseException]] = ()) -> str | None:
    """The one-line message for an error a user can cause, or None for a bug.

    Args:
        error: the exception that ended the command.
        user_errors: further exception types the command counts as user errors.
    """
    if isinstance(error, (UserError, *user_errors)):
        return one_line(str(error)) or type(error).__name__
    if isinstance(error, OSError):
        return describe_os_fault(error)
    return None


class ErrorBoundary:
    """Context manager: reports a user error as one line and keeps the exit status.

    After the block, ``status`` is 0 when nothing failed, else the exit status. With
    ``exit=True`` the boundary raises ``SystemExit(status)`` itself (for Hydra mains,
    whose return value is dropped).

    Args:
        command: the command's name, the prefix of the line.
        user_errors: exception types counted as user errors besides ``UserError``.
        debug: show tracebacks instead; None reads ``ELMO_BENCH_DEBUG``.
        exit: raise ``SystemExit`` on a reported error rather than swallow it.
    """

    def __init__(
        self,
        command: str,
        user_errors: Sequence[type[BaseException]] = (),
        debug: bool | None = None,
        exit: bool = False,
    ) -> None:
        self.command = command
        self.user_errors = tuple(user_errors)
        self.debug = debug_requested() if debug is None else debug
        self.exit = exit
        self.status = 0
        self._previous_handler: Any = None

    def __enter__(self) -> ErrorBoundary:
        # Only the main thread may change signal handlers (a test may run a command in another).
        if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        if self._previous_handler is not None:
            signal.signal(signal.SIGXFSZ, self._previous_handler)
        if error is None or self.debug:
            return False
        if isinstance(error, KeyboardInterrupt):
            message, self.status = "interrupted", EXIT_INTERRUPTED
        else:
            message = describe(error, self.user_errors) if isinstance(error, Exception) else None
            if message is None:
                return False
            self.status = EXIT_USER_ERROR
        sys.stdout.flush()
        print(f"{self.command}: {message}", file=sys.stderr, flush=True)
        if self.exit:
            raise SystemExit(self.status) from None
        return True


@contextmanager
def error_boundary(command: str, *user_errors: type[BaseException], debug: bool | None = None) -> Iterator[None]:
    """Run a block as the body of ``command``: a user error exits with one line (status 2).

    For Hydra mains and other code whose return value is not the exit status::

        with error_boundary("elmo-bench"):
            run(cfg)

    Raises:
        SystemExit: after printing the line of a user error or an OS fault.
    """
    with ErrorBoundary(command, user_errors, debug=debug, exit=True):
        yield


def split_debug_flag(argv: Sequence[str] | None) -> tuple[list[str], bool]:
    """The arguments without ``--debug`` (before any ``--``), and whether it was there."""
    args = list(sys.argv[1:] if argv is None else argv)
    end = args.index("--") if "--" in args else len(args)
    found = DEBUG_FLAG in args[:end]
    return [a for i, a in enumerate(args) if i >= end or a != DEBUG_FLAG], found


def command_line(
    command: str, *user_errors: type[BaseException]
) -> Callable[[Callable[..., int | None]], Callable[..., int]]:
    """Decorate an argparse ``main(argv=None)``: the boundary, and ``--debug`` taken off argv.

    The decorated function returns the exit status: the function's own (None counts as
    0), or 2 (130 after Ctrl-C) when the boundary reported an error.
    """

    def decorate(main: Callable[..., int | None]) -> Callable[..., int]:
        @functools.wraps(main)
        def wrapper(argv: Sequence[str] | None = None) -> int:
            args, flag = split_debug_flag(argv)
            boundary = ErrorBoundary(command, user_errors, debug=flag or None)
            with boundary:
                return main(args) or 0
            return boundary.status

        return wrapper

    return decorate


def positive_int(text: str) -> int:
    """Argparse type: an integer > 0."""
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")


def fraction(text: str) -> float:
    """Argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value
