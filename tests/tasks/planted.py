"""A synthetic embedder whose layer stack has one informative layer among noise layers.

Every word of a closed vocabulary has a fixed random vector; the ``signal`` layer of a
token is its word's vector, and every other layer is fresh Gaussian noise of the same scale
(drawn per occurrence, so it says nothing about the word). A tagging task whose tag is a
function of the word can then be solved from the signal layer only, and a scalar mix that
learns must move its weight onto that layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch

from tasks.embedders.base import Embedder


class PlantedEmbedder(Embedder):
    """``num_layers`` layers of width ``dim``; layer ``signal`` carries the word, the rest is noise."""

    def __init__(self, num_layers: int = 3, dim: int = 16, signal: int = 1, seed: int = 0, name: str | None = None) -> None:
        super().__init__(name)
        self._num_layers, self._dim, self.signal, self.seed = num_layers, dim, signal, seed
        self.noise = torch.Generator().manual_seed(seed)

    @property
    def num_layers(self) -> int:
        return self._num_layers

    @property
    def dim(self) -> int:
        return self._dim

    def fingerprint(self) -> str:
        return hashlib.sha256(f"planted {self._num_layers} {self._dim} {self.signal} {self.seed}".encode()).hexdigest()

    def word_vector(self, word: str) -> torch.Tensor:
        digest = int(hashlib.sha256(f"{self.seed} {word}".encode()).hexdigest()[:15], 16)
        return torch.randn(self._dim, generator=torch.Generator().manual_seed(digest))

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        out = []
        for tokens in sentences:
            layers = torch.randn(self._num_layers, len(tokens), self._dim, generator=self.noise)
            if tokens:
                layers[self.signal] = torch.stack([self.word_vector(word) for word in tokens])
            out.append(layers)
        return out
