"""The errors a user can cause in the benchmark, and the boundary that reports them.

Every command turns these into one line naming the file, line or key, and a non-zero exit.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad input or a bad setting, not a bug."""
    from elmo.config import OptionsError
    from elmo.lm import NonFiniteLossError
    from elmo.weights import WeightFileError
    from tasks.data.files import DataFormatError
    from tasks.data.hub import HubDatasetError
    from tasks.run import ConfigError

    return (DataFormatError, HubDatasetError, FileNotFoundError, OptionsError, WeightFileError, NonFiniteLossError, ConfigError)


@contextmanager
def command_boundary(command: str) -> Iterator[None]:
    """One line ``<command>: <message>`` and exit status 1 for a user error or an OS fault.

    ``ELMO_BENCH_DEBUG=1`` lets the traceback through instead.
    """
    try:
        yield
    except (*user_errors(), OSError) as error:
        if os.environ.get("ELMO_BENCH_DEBUG"):
            raise
        logger.debug("%s failed", command, exc_info=True)
        sys.exit(f"{command}: {error}")
