"""The frozen biLM as an embedder: the shipped default model, or any AllenNLP model by path."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence

import torch

from elmo import BiLM
from elmo.bilm import DEFAULT_MODEL_DIR
from elmo.config import BiLMConfig
from tasks.data.files import MissingDataError
from tasks.embedders.base import Embedder


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        name: the report name (see :class:`~tasks.embedders.base.Embedder`).
    """

    def __init__(
        self,
        options_file: str | os.PathLike[str] | None = None,
        weight_file: str | os.PathLike[str] | None = None,
        batch_size: int = 32,
        layers: Sequence[int] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if (options_file is None) != (weight_file is None):
            raise ValueError("give both options_file and weight_file, or neither for the default model")
        self.options_file = str(options_file or DEFAULT_MODEL_DIR / "options.json")
        self.weight_file = str(weight_file or DEFAULT_MODEL_DIR / "weights.hdf5")
        for path in (self.options_file, self.weight_file):
            if not os.path.isfile(path):
                raise MissingDataError(f"ELMo model file not found: {path}")
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
        # Where a lazily loaded biLM goes: ``embedder.to("cuda")`` moves this buffer, loaded or not.
        self.register_buffer("_device_anchor", torch.empty(0), persistent=False)
        self._bilm: BiLM | None = None

    @property
    def bilm(self) -> BiLM:
        """The frozen biLM, loaded on first use."""
        if self._bilm is None:
            self._bilm = BiLM.from_allennlp(self.options_file, self.weight_file).to(self._device_anchor.device)
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
