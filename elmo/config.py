"""The biLM's configuration, field for field the ``options.json`` of bilm-tf / AllenNLP.

A released ``options.json`` looks like::

    {"lstm": {"dim": 4096, "projection_dim": 512, "n_layers": 2, "cell_clip": 3,
              "proj_clip": 3, "use_skip_connections": true},
     "char_cnn": {"embedding": {"dim": 16}, "filters": [[1, 32], [2, 32], ...],
                  "n_highway": 2, "n_characters": 262, "max_characters_per_token": 50,
                  "activation": "relu"},
     "bidirectional": true, "n_tokens_vocab": 793471, ...}

Keys that only matter to training (``n_tokens_vocab``, ``batch_size``, ...) are kept in
``BiLMConfig.extra`` so that an exported file carries them unchanged.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from elmo.errors import UserError


class OptionsError(UserError, ValueError):
    """An ``options.json`` that is missing a key or holds a wrong value."""


@dataclass(frozen=True)
class CharEmbeddingConfig:
    """``char_cnn.embedding``."""

    dim: int


@dataclass(frozen=True)
class CharCnnConfig:
    """``char_cnn``: character embedding, convolutions, highway layers."""

    embedding: CharEmbeddingConfig
    filters: tuple[tuple[int, int], ...]  # (width, number of filters)
    n_highway: int
    max_characters_per_token: int = 50
    n_characters: int = 262
    activation: str = "relu"

    @property
    def n_filters(self) -> int:
        """Width of the CNN output: the sum of the filter counts."""
        return sum(count for _, count in self.filters)


@dataclass(frozen=True)
class LstmConfig:
    """``lstm``: the stacked LSTMs with projection of each direction."""

    dim: int
    projection_dim: int
    n_layers: int
    cell_clip: float | None = None
    proj_clip: float | None = None
    use_skip_connections: bool = False


@dataclass(frozen=True)
class BiLMConfig:
    """The whole ``options.json``."""

    lstm: LstmConfig
    char_cnn: CharCnnConfig
    bidirectional: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def output_dim(self) -> int:
        """Width of every ELMo layer: forward ++ backward projection."""
        return 2 * self.lstm.projection_dim

    @property
    def num_output_layers(self) -> int:
        """The token layer plus one per LSTM layer."""
        return self.lstm.n_layers + 1

    @classmethod
    def from_dict(cls, options: dict[str, Any], source: str = "options") -> BiLMConfig:
        """Validate and convert a parsed ``options.json``.

        Raises:
            OptionsError: naming ``source`` and the dotted key that is missing or wrong.
        """
        reader = KeyReader(options, source)
        lstm = LstmConfig(
            dim=reader.integer("lstm.dim"),
            projection_dim=reader.integer("lstm.projection_dim"),
            n_layers=reader.integer("lstm.n_layers"),
            cell_clip=reader.number("lstm.cell_clip", optional=True),
            proj_clip=reader.number("lstm.proj_clip", optional=True),
            use_skip_connections=bool(reader.get("lstm.use_skip_connections", False)),
        )
        filters = reader.get("char_cnn.filters")
        if (
            not isinstance(filters, list)
            or not filters
            or not all(
                isinstance(f, list | tuple) and len(f) == 2 and all(is_integer(v) and v > 0 for v in f)
                for f in filters
            )
        ):
            raise OptionsError(
                f"{source}: key 'char_cnn.filters' must be a non-empty list of "
                f"[width, count] pairs of positive integers, got {filters!r}"
            )
        activation = reader.get("char_cnn.activation", "relu")
        if activation not in ("relu", "tanh"):
            raise OptionsError(
                f"{source}: key 'char_cnn.activation' must be 'relu' or 'tanh', got {activation!r}"
            )
        char_cnn = CharCnnConfig(
            embedding=CharEmbeddingConfig(dim=reader.integer("char_cnn.embedding.dim")),
            filters=tuple((int(w), int(n)) for w, n in filters),
            n_highway=reader.integer("char_cnn.n_highway", minimum=0),
            max_characters_per_token=reader.integer("char_cnn.max_characters_per_token", minimum=3),
            n_characters=reader.integer("char_cnn.n_characters", default=262, minimum=261),
            activation=activation,
        )
        bidirectional = bool(options.get("bidirectional", True))
        if not bidirectional:
            raise OptionsError(f"{source}: key 'bidirectional' is false; only biLMs are supported")
        extra = {k: v for k, v in options.items() if k not in ("lstm", "char_cnn", "bidirectional")}
        return cls(lstm=lstm, char_cnn=char_cnn, bidirectional=True, extra=extra)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> BiLMConfig:
        """Read and validate an ``options.json`` file."""
        path = Path(path)
        try:
            options = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OptionsError(f"{path}: options file not found") from None
        except IsADirectoryError:
            raise OptionsError(f"{path}: is a folder, expected the options file (options.json)") from None
        except OSError as error:
            raise OptionsError(f"{path}: cannot read the options file ({error.strerror})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise OptionsError(f"{path}: not a valid JSON options file ({error})") from None
        if not isinstance(options, dict):
            raise OptionsError(f"{path}: expected a JSON object at the top level")
        return cls.from_dict(options, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """The ``options.json`` content, training keys included."""
        char_cnn = asdict(self.char_cnn)
        char_cnn["filters"] = [list(f) for f in self.char_cnn.filters]
        lstm = {k: v for k, v in asdict(self.lstm).items() if v is not None}
        return {**self.extra, "bidirectional": True, "char_cnn": char_cnn, "lstm": lstm}


def is_integer(value: Any) -> bool:
    """An ``int`` that is not a ``bool`` (JSON and YAML ``true`` would pass ``isinstance``)."""
    return isinstance(value, int) and not isinstance(value, bool)


class KeyReader:
    """Looks up dotted keys in a nested dict (options, a config) with errors that name them.

    Args:
        options: the parsed file or config.
        source: what the message names first (a file, ``config``).
        error: the exception type raised.
    """

    _MISSING = object()

    def __init__(
        self, options: Mapping[str, Any], source: str, error: type[ValueError] = OptionsError
    ) -> None:
        self.options = options
        self.source = source
        self.error = error

    def get(self, key: str, default: Any = _MISSING) -> Any:
        node: Any = self.options
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                if default is self._MISSING:
                    raise self.error(f"{self.source}: missing key '{key}'")
                return default
            node = node[part]
        return node

    def integer(self, key: str, default: Any = _MISSING, minimum: int = 1, optional: bool = False) -> int | None:
        """An integer >= ``minimum``; with ``optional``, None (or a missing key) is allowed."""
        value = self.get(key, None if optional and default is self._MISSING else default)
        if optional and value is None:
            return None
        if not is_integer(value) or value < minimum:
            allowed = " or null" if optional else ""
            raise self.error(
                f"{self.source}: key '{key}' must be an integer >= {minimum}{allowed}, got {value!r}"
            )
        return value

    def number(self, key: str, optional: bool = False) -> float | None:
        value = self.get(key, None if optional else self._MISSING)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < math.inf:
            raise self.error(f"{self.source}: key '{key}' must be a positive number, got {value!r}")
        return float(value)
