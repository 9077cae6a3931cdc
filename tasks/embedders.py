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


class EmbedderOutput(NamedTuple):
    """Layers ``(batch, layers, time, dim)``, zero at padding, and the ``(batch, time)`` mask."""

    layers: torch.Tensor
    mask: torch.Tensor


class Embedder(nn.Module, ABC):
    """Turns batches of token lists into layers of vectors."""

    @property
    @abstractmethod
    def num_layers(self) -> int:
        """Layers in the output stack."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Width of every layer."""

    @abstractmethod
    def fingerprint(self) -> str:
        """A hex digest that changes whenever the embedder's output would."""

    @abstractmethod
    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        """Embed a batch of tokenized sentences."""


class ElmoEmbedder(Embedder):
    """A frozen biLM: the shipped default model, or any bilm-tf / AllenNLP model by path.

    It stays in eval mode with no gradients while the task model around it trains.

    Args:
        options_file: ``options.json``; ``None`` for the shipped default model.
        weight_file: the ``.hdf5`` weights; ``None`` for the shipped default model.
        batch_size: sentences per biLM forward pass.
    """

    def __init__(
        self,
        options_file: str | os.PathLike[str] | None = None,
        weight_file: str | os.PathLike[str] | None = None,
        batch_size: int = 32,
    ) -> None:
        super().__init__()
        if (options_file is None) != (weight_file is None):
            raise ValueError("give both options_file and weight_file, or neither for the default model")
        self.options_file = str(options_file or DEFAULT_MODEL_DIR / "options.json")
        self.weight_file = str(weight_file or DEFAULT_MODEL_DIR / "weights.hdf5")
        self.bilm = BiLM.from_allennlp(self.options_file, self.weight_file)
        self.batch_size = batch_size

    @property
    def num_layers(self) -> int:
        return self.bilm.num_layers

    @property
    def dim(self) -> int:
        return self.bilm.output_dim

    def train(self, mode: bool = True) -> ElmoEmbedder:
        super().train(mode)
        self.bilm.eval()  # frozen: no dropout or state changes, whatever the trainer asks
        return self

    def fingerprint(self) -> str:
        digest = hashlib.sha256(type(self).__name__.encode())
        digest.update(json.dumps(self.bilm.config.to_dict(), sort_keys=True).encode())
        for name, tensor in self.bilm.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def forward(self, sentences: Sequence[Sequence[str]]) -> EmbedderOutput:
        per_sentence = self.bilm.embed_sentences(sentences, batch_size=self.batch_size)
        width = max((len(s) for s in sentences), default=0)
        layers = torch.zeros(len(sentences), self.num_layers, width, self.dim)
        mask = torch.zeros(len(sentences), width, dtype=torch.bool)
        for row, vectors in enumerate(per_sentence):
            layers[row, :, : vectors.shape[1]] = vectors
            mask[row, : vectors.shape[1]] = True
        return EmbedderOutput(layers=layers, mask=mask)
