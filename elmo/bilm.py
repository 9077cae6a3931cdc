"""The ELMo bidirectional language model (Peters et al., 2018, "Deep contextualized word
representations").

For a sentence ``t_1..t_N`` wrapped in ``<S>`` and ``</S>``, the biLM computes a
context-free token vector ``x_k`` (character CNN, highway, projection) and, for every
LSTM layer ``j``, a forward state ``h->_{k,j}`` reading ``t_1..t_k`` and a backward state
``h<-_{k,j}`` reading ``t_N..t_k``. ELMo's layers are::

    R_k = { [x_k; x_k], [h->_{k,j}; h<-_{k,j}] for j = 1..L }

which ``BiLM.forward`` returns as a ``(batch, L + 1, time, 2 * projection_dim)`` tensor, the
sentence markers removed.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from elmo.char_cnn import PAD_ID, CharCnnEncoder
from elmo.characters import BOS_TOKEN, EOS_TOKEN, CharacterEncoder
from elmo.config import BiLMConfig
from elmo.io import write_json_atomic
from elmo.lstm import BiLstmStack, LstmState
from elmo.weights import load_weights, save_weights

#: The biLM shipped with the package (weights, vocabulary, softmax and model card).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"

# Distinct words put through the character CNN at once: bounds its activations
# (words x filters x characters floats) on long inputs.
_CNN_CHUNK = 512


class BiLMOutput(NamedTuple):
    """All ELMo layers of a batch.

    Attributes:
        layers: ``(batch, num_layers + 1, time, 2 * projection_dim)``; layer 0 is the token
            representation twice, then each LSTM layer (forward ++ backward). Zero at
            padded positions.
        mask: ``(batch, time)`` bool, true at real tokens.
    """

    layers: torch.Tensor
    mask: torch.Tensor


class BiLM(nn.Module):
    """ELMo's biLM: character CNN, highway layers, projection and stacked LSTMs.

    Args:
        config: the model's options.
        stateful: carry each batch row's final LSTM state into the next call, as bilm-tf
            did. By default every sentence starts from a zero state, so a sentence gets
            the same vectors whatever else is in its batch.
        word_cache_size: words whose context-free vectors ``embed_sentences`` keeps
            between calls (least recently used dropped first; 0 turns it off). The
            cache is emptied whenever the character CNN's weights change.
    """

    def __init__(self, config: BiLMConfig, stateful: bool = False, word_cache_size: int = 50_000) -> None:
        super().__init__()
        self.config = config
        self.stateful = stateful
        self.characters = CharacterEncoder(config.char_cnn.max_characters_per_token)
        self.char_cnn = CharCnnEncoder(config.char_cnn, config.lstm.projection_dim)
        self.lstm = BiLstmStack(config.lstm, config.lstm.projection_dim)
        self._state: LstmState | None = None
        markers = torch.tensor([self.characters.bos_ids, self.characters.eos_ids])
        self.register_buffer("_markers", markers, persistent=False)
        self._markers: torch.Tensor
        self.word_cache_size = word_cache_size
        self._word_cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._cache_version: tuple[int, ...] = ()

    @classmethod
    def from_allennlp(
        cls,
        options_file: str | os.PathLike[str],
        weight_file: str | os.PathLike[str],
        stateful: bool = False,
        word_cache_size: int = 50_000,
    ) -> BiLM:
        """Load a bilm-tf / AllenNLP model (``options.json`` + ``.hdf5``), frozen.

        The model is returned in eval mode with ``requires_grad=False`` on every weight;
        ``stateful`` and ``word_cache_size`` are as in the constructor.

        Raises:
            OptionsError: the options file is missing a key or holds a wrong value.
            WeightFileError: the weight file is unreadable or a dataset is missing or
                has the wrong shape; the message names it and the expected shape.
        """
        config = BiLMConfig.from_json(options_file)
        bilm = cls(config, stateful=stateful, word_cache_size=word_cache_size)
        load_weights(bilm, weight_file)
        return bilm.freeze()

    @classmethod
    def default(cls, stateful: bool = False, word_cache_size: int = 50_000) -> BiLM:
        """The biLM pretrained by this project and shipped with it (``elmo/models/default``), frozen."""
        return cls.from_allennlp(
            DEFAULT_MODEL_DIR / "options.json",
            DEFAULT_MODEL_DIR / "weights.hdf5",
            stateful=stateful,
            word_cache_size=word_cache_size,
        )

    def save_allennlp(
        self, options_file: str | os.PathLike[str], weight_file: str | os.PathLike[str]
    ) -> None:
        """Write ``options.json`` and the ``.hdf5`` weights in the bilm-tf / AllenNLP layout."""
        save_weights(self, weight_file)
        write_json_atomic(options_file, self.config.to_dict())

    def init_weights(self, seed: int = 0) -> BiLM:
        """Random starting weights for training from scratch; returns ``self``.

        Matrices are drawn with variance ``1 / fan_in``, biases start at zero except the
        highway carry gates (-2, so each highway layer starts close to the identity, as
        in bilm-tf); the padded-token row of the character embedding stays zero.
        """
        generator = torch.Generator().manual_seed(seed)
        cnn = self.char_cnn
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() == 1 or name.startswith("lstm.biases"):
                    p.zero_()
                elif name == "char_cnn.char_embedding":
                    p.copy_(torch.randn(p.shape, generator=generator))
                    p[0].zero_()
                else:  # (..., fan_in, fan_out) except convolutions (count, dim, width)
                    fan_in = p.shape[1] * p.shape[2] if "convolutions" in name else p.shape[-2]
                    p.copy_(torch.randn(p.shape, generator=generator) / fan_in**0.5)
            for bias in cnn.highway_carry_bias:
                bias.fill_(-2.0)
        return self

    def freeze(self) -> BiLM:
        """Eval mode and no gradients for every weight; returns ``self``."""
        self.eval()
        self.requires_grad_(False)
        return self

    @property
    def num_layers(self) -> int:
        """Number of ELMo layers: the token layer plus one per LSTM layer."""
        return self.config.num_output_layers

    @property
    def output_dim(self) -> int:
        """Width of every layer (``2 * projection_dim``)."""
        return self.config.output_dim

    def reset_states(self) -> None:
        """Forget the carried LSTM state (stateful mode)."""
        self._state = None

    def token_embedding(self, char_ids: torch.Tensor) -> torch.Tensor:
        """Context-free token representations.

        Args:
            char_ids: ``(..., max_characters)`` character ids, all-zero rows for padding.

        Returns:
            ``(..., projection_dim)``, zero at padded tokens.

        Each distinct word goes through the CNN once per call.
        """
        flat = char_ids.reshape(-1, char_ids.shape[-1])
        out = flat.new_zeros(flat.shape[0], self.config.lstm.projection_dim, dtype=self._dtype)
        real = flat[:, 0] != 0
        if bool(real.any()):
            words, inverse = torch.unique(flat[real], dim=0, return_inverse=True)
            out[real] = self._cnn(words)[inverse]
        return out.view(*char_ids.shape[:-1], -1)

    def _cnn(self, words: torch.Tensor) -> torch.Tensor:
        """``(words, proj)`` vectors of distinct words' ids, in chunks of similar length."""
        by_length = torch.argsort((words != PAD_ID).sum(dim=1))  # shorter tails of padding
        vectors = torch.empty(len(words), self.config.lstm.projection_dim, dtype=self._dtype, device=words.device)
        for start in range(0, len(words), _CNN_CHUNK):
            chunk = by_length[start : start + _CNN_CHUNK]
            vectors[chunk] = self.char_cnn(words[chunk]).to(vectors.dtype)  # bfloat16 under autocast
        return vectors

    @property
    def _dtype(self) -> torch.dtype:
        return self.char_cnn.projection.dtype

    def forward(self, char_ids: torch.Tensor, keep_markers: bool = False) -> BiLMOutput:
        """All layers for a batch of character ids.

        Args:
            char_ids: ``(batch, time, max_characters)`` ids from ``CharacterEncoder``;
                each row's tokens first, then all-zero padding. No sentence markers: they
                are added here.
            keep_markers: keep the ``<S>`` and ``</S>`` positions in the output (language-
                model training reads them); the time axis is then ``time + 2`` long.

        Returns:
            The layers and mask.
        """
        mask = char_ids[:, :, 0] != 0  # (batch, time)
        markers = self.token_embedding(self._markers)  # (2, proj): <S>, </S>
        return self._contextualize(self.token_embedding(char_ids), mask, markers, keep_markers)

    def _contextualize(
        self, tokens: torch.Tensor, mask: torch.Tensor, markers: torch.Tensor, keep_markers: bool = False
    ) -> BiLMOutput:
        """Run the LSTMs over token vectors ``(batch, time, proj)`` wrapped in the markers."""
        batch, time, _ = tokens.shape
        lengths = mask.sum(dim=1)
        rows = torch.arange(batch, device=tokens.device)
        marked = tokens.new_zeros(batch, time + 2, tokens.shape[2])
        marked[:, 1 : time + 1] = tokens * mask.unsqueeze(-1)
        marked[:, 0] = markers[0]
        marked[rows, lengths + 1] = markers[1]
        outputs, state = self.lstm(marked, lengths + 2, self._initial_state(batch, marked))
        if self.stateful:
            self._keep_state(state)
        layers = torch.stack([torch.cat([marked, marked], dim=-1), *outputs], dim=1)
        if keep_markers:
            marked_mask = torch.arange(time + 2, device=mask.device) < (lengths + 2).unsqueeze(1)
            return BiLMOutput(layers=layers * marked_mask[:, None, :, None], mask=marked_mask)
        layers = layers[:, :, 1 : time + 1] * mask[:, None, :, None]  # (batch, L+1, time, 2*proj)
        return BiLMOutput(layers=layers, mask=mask)

    def _word_vectors(self, words: list[str]) -> torch.Tensor:
        """``(words, proj)`` token vectors of distinct words, through the word cache."""
        version = tuple(p._version for p in self.char_cnn.parameters())
        if version != self._cache_version:  # the weights changed in place: forget
            self._word_cache.clear()
            self._cache_version = version
        cache = self._word_cache
        missing = [w for w in words if w not in cache]
        if missing:
            ids = torch.tensor([self.characters.encode_token(w) for w in missing], device=self._markers.device)
            for word, vector in zip(missing, self._cnn(ids), strict=True):
                cache[word] = vector
        vectors = torch.stack([cache[w] for w in words])
        for word in words:
            cache.move_to_end(word)
        while len(cache) > self.word_cache_size:
            cache.popitem(last=False)
        return vectors

    def _initial_state(self, batch: int, like: torch.Tensor) -> LstmState | None:
        if not self.stateful or self._state is None:
            return None
        carried = self._state[0][0].shape[1]
        if carried < batch:  # new rows start from zero
            zeros = self.lstm.zero_state(batch - carried, like)
            self._state = [
                (torch.cat([h, zh], dim=1), torch.cat([c, zc], dim=1))
                for (h, c), (zh, zc) in zip(self._state, zeros, strict=True)
            ]
        return [(h[:, :batch], c[:, :batch]) for h, c in self._state]

    def _keep_state(self, state: LstmState) -> None:
        batch = state[0][0].shape[1]
        if self._state is None:
            self._state = [(h.detach(), c.detach()) for h, c in state]
            return
        # Rows beyond this batch keep the state they had.
        self._state = [
            (torch.cat([h.detach(), old_h[:, batch:]], dim=1), torch.cat([c.detach(), old_c[:, batch:]], dim=1))
            for (h, c), (old_h, old_c) in zip(state, self._state, strict=True)
        ]

    def embed_sentences(
        self, sentences: Sequence[Sequence[str]], batch_size: int = 32
    ) -> list[torch.Tensor]:
        """ELMo layers of tokenized sentences.

        Args:
            sentences: token lists (an empty list gives an empty result).
            batch_size: sentences per forward pass; sentences are grouped by length so
                little padding is computed. In stateful mode all sentences form one batch,
                row ``i`` being sentence ``i``, as bilm-tf's rows were.

        Returns:
            One float32 tensor per sentence, ``(num_layers + 1, n_tokens, 2 * projection_dim)``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if self.stateful:
            batches = [list(range(len(sentences)))]
        else:
            order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
            batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        results: list[torch.Tensor | None] = [None] * len(sentences)
        device = self._markers.device
        with torch.inference_mode():
            markers = self._word_vectors([BOS_TOKEN, EOS_TOKEN])
            for batch in batches:
                if not batch:
                    continue
                vocabulary: dict[str, int] = {}
                index = [[vocabulary.setdefault(w, len(vocabulary)) for w in sentences[i]] for i in batch]
                width = max(len(row) for row in index)
                positions = torch.zeros(len(batch), width, dtype=torch.long)
                for row, words in enumerate(index):
                    positions[row, : len(words)] = torch.tensor(words, dtype=torch.long)
                mask = (torch.arange(width) < torch.tensor([len(r) for r in index]).unsqueeze(1)).to(device)
                if vocabulary:
                    tokens = self._word_vectors(list(vocabulary))[positions.to(device)]
                else:
                    tokens = markers.new_zeros(len(batch), 0, markers.shape[1])
                layers = self._contextualize(tokens, mask, markers).layers
                for row, i in enumerate(batch):
                    results[i] = layers[row, :, : len(sentences[i])].float().clone()
        return results  # type: ignore[return-value]
