"""The embedder interface: token lists in, a stack of layers out.

Every embedder gives each sentence ``(layers, tokens, dim)``; batched, that is
``(batch, layers, time, dim)`` plus a ``(batch, time)`` mask. The task model mixes the
layers with a learned ``elmo.ScalarMix`` (a one-layer embedder simply has one layer).
``fingerprint`` changes whenever the output would, so cached activations can be keyed by it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn


class EmbedderOutput(NamedTuple):
    """Layers ``(batch, layers, time, dim)``, zero at padding, and the ``(batch, time)`` mask."""

    layers: torch.Tensor
    mask: torch.Tensor


class Embedder(nn.Module, ABC):
    """Turns batches of token lists into layers of vectors.

    Frozen: nothing here is trained by a task head, so an embedder's output for a dataset
    never changes and can be cached (see :mod:`tasks.cache`), keyed by :meth:`fingerprint`.
    The pipeline calls :meth:`embed`, the one method a new embedder writes beside its
    ``num_layers``, ``dim`` and ``fingerprint``; calling the module pads :meth:`embed`'s
    sentences into one batch.

    Args:
        name: The name reports and result rows give the embedder (e.g. ``glove+elmo``); it
            never changes the output, so it is left out of the fingerprint.
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.name = name

    @property
    @abstractmethod
    def num_layers(self) -> int:
        """Layers in the output stack."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Width of every layer."""

    @property
    def cacheable(self) -> bool:
        """Whether computing the output costs enough to be worth an on-disk cache entry.

        A cacheable embedder is a frozen model: its :meth:`fingerprint` must be cheap and work
        before :meth:`fit` (the cache and a rerun's row check ask for it first).
        """
        return False

    @abstractmethod
    def fingerprint(self) -> str:
        """A hex digest that changes whenever the embedder's output would."""

    @abstractmethod
    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        """One ``(layers, n_tokens, dim)`` float32 tensor per sentence."""

    def fit(self, train_sentences: Sequence[Sequence[str]]) -> None:
        """See the task's training sentences before embedding anything (no-op by default)."""

    def coverage(self, sentences: Sequence[Sequence[str]]) -> dict[str, float] | None:
        """Share of tokens in the vocabulary (``tokens``, ``found``, ``share``); None if open."""
        return None

    def parts(self) -> list[Embedder]:
        """The embedders whose outputs, side by side on the feature axis, make this one's.

        Each part is cached on its own and the parts' stores are joined per read (a one-layer
        part repeated across ``num_layers``), so ``glove+elmo`` reuses the entry of ``elmo``.
        ``[self]`` for an embedder computed as a whole.
        """
        return [self]

    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        """Embed a batch of tokenized sentences, padded to the longest."""
        per_sentence = self.embed(sentences)
        width = max((vectors.shape[1] for vectors in per_sentence), default=0)
        device = per_sentence[0].device if per_sentence else None
        layers = torch.zeros(len(per_sentence), self.num_layers, width, self.dim, device=device)
        mask = torch.zeros(len(per_sentence), width, dtype=torch.bool, device=device)
        for row, vectors in enumerate(per_sentence):
            layers[row, :, : vectors.shape[1]] = vectors
            mask[row, : vectors.shape[1]] = True
        return EmbedderOutput(layers=layers, mask=mask)
