"""The base of every error a user can cause (a bad file, option or setting).

Commands print such an error as one line and exit non-zero (``elmo.cli``); anything else
is a bug and keeps its traceback. Each concrete error also derives from the built-in type
its callers already catch (``ValueError``, ``RuntimeError``).
"""

from __future__ import annotations


class UserError(Exception):
    """An error in what the user handed over; its message names the file, line or key."""


class ConfigError(UserError, ValueError):
    """A configuration value that is missing or cannot work; the message names its key."""


def one_line(text: str) -> str:
    """``text`` on one line: its non-blank lines joined by spaces (tool messages span several)."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())
