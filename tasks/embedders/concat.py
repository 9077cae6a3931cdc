"""Embedders side by side: ``glove+elmo``, the ELMo paper's recipe of adding ELMo to a baseline."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torch import nn

from tasks.embedders.base import Embedder


class ConcatEmbedder(Embedder):
    """Embedders side by side: each layer is the concatenation of the members' layers.

    A one-layer member (static vectors) is repeated beside every layer of a multi-layer one,
    so after the task's scalar mix it contributes ``gamma * v`` beside ``gamma * mix(ELMo)``:
    ``glove+elmo`` is the ELMo paper's recipe of adding ELMo to a GloVe baseline. The
    members are its :meth:`parts`, so the cache stores each member's layers on its own.

    Args:
        embedders: the members; multi-layer members must agree on the layer count.
        name: the report name (see :class:`~tasks.embedders.base.Embedder`).
    """

    def __init__(self, embedders: Sequence[Embedder], *, name: str | None = None) -> None:
        super().__init__(name)
        if not embedders:
            raise ValueError("ConcatEmbedder needs at least one embedder")
        counts = {e.num_layers for e in embedders} - {1}
        if len(counts) > 1:
            raise ValueError(
                "concatenated embedders must have the same number of layers (or one): got "
                + ", ".join(f"{type(e).__name__}={e.num_layers}" for e in embedders)
            )
        self.members = nn.ModuleList(embedders)
        self._num_layers = counts.pop() if counts else 1

    @property
    def num_layers(self) -> int:
        return self._num_layers

    @property
    def dim(self) -> int:
        return sum(e.dim for e in self.members)

    @property
    def cacheable(self) -> bool:
        return any(e.cacheable for e in self.members)

    def fingerprint(self) -> str:
        digest = hashlib.sha256(type(self).__name__.encode())
        for member in self.members:
            digest.update(member.fingerprint().encode())
        return digest.hexdigest()

    def fit(self, train_sentences: Sequence[Sequence[str]]) -> None:
        for member in self.members:
            member.fit(train_sentences)

    def coverage(self, sentences: Sequence[Sequence[str]]) -> dict[str, float] | None:
        reports = [member.coverage(sentences) for member in self.members]
        return next((report for report in reports if report is not None), None)

    def parts(self) -> list[Embedder]:
        return list(self.members)

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        parts = [member.embed(sentences) for member in self.members]
        return [
            torch.cat([p.expand(self._num_layers, -1, -1) for p in pieces], dim=-1)
            for pieces in zip(*parts, strict=True)
        ]
