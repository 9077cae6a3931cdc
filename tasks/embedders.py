"""Embedders: one interface from token lists to a stack of representation layers.

Every embedder returns ``(batch, layers, time, dim)`` plus a ``(batch, time)`` mask; the
task model mixes the layers with a learned ``elmo.ScalarMix`` (a one-layer embedder simply
has one layer). ``fingerprint`` changes whenever the output would, so cached activations
can be keyed by it.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from elmo import BiLM
from elmo.bilm import DEFAULT_MODEL_DIR
from elmo.config import BiLMConfig


class EmbedderOutput(NamedTuple):
    """Layers ``(batch, layers, time, dim)``, zero at padding, and the ``(batch, time)`` mask."""

    layers: torch.Tensor
    mask: torch.Tensor


class Embedder(nn.Module, ABC):
    """Turns batches of token lists into layers of vectors.

    Frozen: nothing here is trained by a task head, so an embedder's output for a dataset
    never changes and can be cached (see :mod:`tasks.cache`), keyed by :meth:`fingerprint`.
    """

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
        """Whether computing the output costs enough to be worth an on-disk cache entry."""
        return False

    @abstractmethod
    def fingerprint(self) -> str:
        """A hex digest that changes whenever the embedder's output would."""

    @abstractmethod
    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        """Embed a batch of tokenized sentences."""

    def fit(self, train_sentences: Sequence[Sequence[str]]) -> None:
        """See the task's training sentences before embedding anything (no-op by default)."""

    def coverage(self, sentences: Sequence[Sequence[str]]) -> dict[str, float] | None:
        """Share of tokens in the vocabulary (``tokens``, ``found``, ``share``); None if open."""
        return None

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        """One ``(layers, n_tokens, dim)`` float32 tensor per sentence."""
        out = self(sentences)
        lengths = out.mask.sum(dim=1).tolist()
        return [out.layers[row, :, :length] for row, length in enumerate(lengths)]


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pad(per_sentence: Sequence[torch.Tensor], num_layers: int, dim: int) -> EmbedderOutput:
    width = max((t.shape[1] for t in per_sentence), default=0)
    layers = torch.zeros(len(per_sentence), num_layers, width, dim)
    mask = torch.zeros(len(per_sentence), width, dtype=torch.bool)
    for row, vectors in enumerate(per_sentence):
        layers[row, :, : vectors.shape[1]] = vectors
        mask[row, : vectors.shape[1]] = True
    return EmbedderOutput(layers=layers, mask=mask)


class ElmoEmbedder(Embedder):
    """A frozen biLM: the shipped default model, or any bilm-tf / AllenNLP model by path.

    It stays in eval mode with no gradients while the task model around it trains. The
    biLM is loaded on first use, and the fingerprint hashes the two files, so a run whose
    activations are all cached never loads it.

    Args:
        options_file: ``options.json``; ``None`` for the shipped default model.
        weight_file: the ``.hdf5`` weights; ``None`` for the shipped default model.
        batch_size: sentences per biLM forward pass.
        layers: indices of the layers to output (0 is the character CNN's token layer,
            1.. the LSTM layers); ``None`` for all of them. The ELMo paper's ablations
            select ``[0]``, ``[1]`` or the top layer alone.
    """

    def __init__(
        self,
        options_file: str | os.PathLike[str] | None = None,
        weight_file: str | os.PathLike[str] | None = None,
        batch_size: int = 32,
        layers: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if (options_file is None) != (weight_file is None):
            raise ValueError("give both options_file and weight_file, or neither for the default model")
        self.options_file = str(options_file or DEFAULT_MODEL_DIR / "options.json")
        self.weight_file = str(weight_file or DEFAULT_MODEL_DIR / "weights.hdf5")
        for path in (self.options_file, self.weight_file):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"ELMo model file not found: {path}")
        self.config = BiLMConfig.from_json(self.options_file)
        total = self.config.num_output_layers
        self.layers = list(range(total)) if layers is None else [int(i) for i in layers]
        valid = all(0 <= i < total for i in self.layers) and len(set(self.layers)) == len(self.layers)
        if not self.layers or not valid:
            raise ValueError(
                f"layers must be distinct indices in 0..{total - 1} ({self.options_file} has "
                f"{total} layers), got {list(layers or [])}"
            )
        self.batch_size = batch_size
        self._bilm: BiLM | None = None

    @property
    def bilm(self) -> BiLM:
        """The frozen biLM, loaded on first use."""
        if self._bilm is None:
            self._bilm = BiLM.from_allennlp(self.options_file, self.weight_file)
            self._bilm.train(False)
        return self._bilm

    @property
    def loaded(self) -> bool:
        """Whether the biLM's weights have been read (a warm cache never reads them)."""
        return self._bilm is not None

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def dim(self) -> int:
        return self.config.output_dim

    @property
    def cacheable(self) -> bool:
        return True

    def train(self, mode: bool = True) -> ElmoEmbedder:
        super().train(mode)
        if self._bilm is not None:
            self._bilm.eval()  # frozen: no dropout or state changes, whatever the trainer asks
        return self

    def fingerprint(self) -> str:
        digest = hashlib.sha256(type(self).__name__.encode())
        digest.update(json.dumps({"layers": self.layers}).encode())
        digest.update(_file_digest(self.options_file).encode())
        digest.update(_file_digest(self.weight_file).encode())
        return digest.hexdigest()

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        everything = self.bilm.embed_sentences(sentences, batch_size=self.batch_size)
        if len(self.layers) == self.bilm.num_layers:
            return everything
        return [vectors[self.layers] for vectors in everything]

    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        return _pad(self.embed(sentences), self.num_layers, self.dim)


class ConcatEmbedder(Embedder):
    """Embedders side by side: each layer is the concatenation of the members' layers.

    A one-layer member (static vectors) is repeated beside every layer of a multi-layer one,
    so after the task's scalar mix it contributes ``gamma * v`` beside ``gamma * mix(ELMo)``:
    ``glove+elmo`` is the ELMo paper's recipe of adding ELMo to a GloVe baseline.

    Args:
        embedders: the members; multi-layer members must agree on the layer count.
    """

    def __init__(self, embedders: Sequence[Embedder]) -> None:
        super().__init__()
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

    def embed(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        parts = [member.embed(sentences) for member in self.members]
        return [
            torch.cat([p.expand(self._num_layers, -1, -1) for p in pieces], dim=-1)
            for pieces in zip(*parts, strict=True)
        ]

    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        return _pad(self.embed(sentences), self.num_layers, self.dim)
