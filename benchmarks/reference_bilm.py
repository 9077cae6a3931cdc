"""A plain ELMo biLM, written straight from the equations, for checks and speed comparisons.

It reads the bilm-tf / AllenNLP HDF5 file as it is (gate order ``i, j, f, o``, the forget
bias added at every step) and runs the textbook loop: every token position through the
character CNN, then one LSTM cell step at a time with ``x_t W_x + h_{t-1} W_h + B``
computed per step, the backward direction stepping from each sentence's end. It shares no
numerical code with ``elmo.BiLM`` (only the character ids), so agreement between the two
is evidence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import h5py
import torch

from elmo.characters import BOS_TOKEN, EOS_TOKEN, CharacterEncoder


class ReferenceBiLM:
    """The textbook biLM over weights read from an AllenNLP file.

    Sentences are batched, as in AllenNLP's ``_ElmoBiLm``: the CNN runs on every token
    position of the padded batch, and each LSTM step multiplies the current input and the
    previous state separately for the rows still running (sorted by length).
    """

    def __init__(self, options_file: str | os.PathLike[str], weight_file: str | os.PathLike[str]):
        with open(options_file, encoding="utf-8") as f:
            options = json.load(f)
        cnn, lstm = options["char_cnn"], options["lstm"]
        with h5py.File(weight_file, "r") as f:
            self.w = {name: torch.from_numpy(f[name][...]) for name in _dataset_names(f)}
        self.encoder = CharacterEncoder(cnn["max_characters_per_token"])
        self.n_filters = len(cnn["filters"])
        self.n_highway = cnn["n_highway"]
        self.activation = torch.relu if cnn.get("activation", "relu") == "relu" else torch.tanh
        self.n_layers = lstm["n_layers"]
        self.cell_clip = lstm.get("cell_clip")
        self.proj_clip = lstm.get("proj_clip")
        self.skip = lstm.get("use_skip_connections", False)

    def tokens(self, char_ids: torch.Tensor) -> torch.Tensor:
        """``(words, proj)`` representations of ``(words, 50)`` offset character ids."""
        chars = self.w["char_embed"][char_ids - 1].transpose(1, 2)  # (words, char_dim, 50)
        pooled = []
        for i in range(self.n_filters):
            kernel = self.w[f"CNN/W_cnn_{i}"][0].permute(2, 1, 0)  # (count, char_dim, width)
            conv = torch.nn.functional.conv1d(chars, kernel, self.w[f"CNN/b_cnn_{i}"])
            pooled.append(conv.max(dim=2).values)
        x = self.activation(torch.cat(pooled, dim=1))
        for k in range(self.n_highway):
            p = f"CNN_high_{k}/"
            gate = torch.sigmoid(x @ self.w[p + "W_carry"] + self.w[p + "b_carry"])
            nonlinear = torch.relu(x @ self.w[p + "W_transform"] + self.w[p + "b_transform"])
            x = gate * nonlinear + (1 - gate) * x
        return x @ self.w["CNN_proj/W_proj"] + self.w["CNN_proj/b_proj"]

    def _layer(self, x: torch.Tensor, lengths: list[int], d: int, layer: int) -> torch.Tensor:
        """One direction of one layer over ``(batch, time, dim)`` sorted by length."""
        p = f"RNN_{d}/RNN/MultiRNNCell/Cell{layer}/LSTMCell/"
        w, b, w_p = self.w[p + "W_0"], self.w[p + "B"], self.w[p + "W_P_0"]
        w_x, w_h = w[: x.shape[2]], w[x.shape[2] :]
        hidden, proj = w_p.shape
        batch, time, _ = x.shape
        h, c = x.new_zeros(batch, proj), x.new_zeros(batch, hidden)
        out = x.new_zeros(batch, time, proj)
        steps = range(time) if d == 0 else reversed(range(time))
        for t in steps:
            n = sum(1 for length in lengths if length > t)
            i, j, f, o = (x[:n, t] @ w_x + h[:n] @ w_h + b).split(hidden, dim=1)
            cell = torch.sigmoid(f + 1.0) * c[:n] + torch.sigmoid(i) * torch.tanh(j)
            if self.cell_clip:
                cell = torch.clamp(cell, -self.cell_clip, self.cell_clip)
            state = (torch.sigmoid(o) * torch.tanh(cell)) @ w_p
            if self.proj_clip:
                state = torch.clamp(state, -self.proj_clip, self.proj_clip)
            h = torch.cat([state, h[n:]])
            c = torch.cat([cell, c[n:]])
            out[:n, t] = state
        return out

    @torch.inference_mode()
    def embed_batch(self, sentences: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        """``(n_layers + 1, n_tokens, 2 * proj)`` for each sentence of one batch."""
        order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
        marked = [[BOS_TOKEN, *sentences[i], EOS_TOKEN] for i in order]
        lengths = [len(s) for s in marked]
        ids = self.encoder.encode_batch(marked)  # (batch, time, 50)
        ids[ids == 0] = 1  # padded positions: any valid id, masked below as in AllenNLP
        tokens = self.tokens(ids.view(-1, ids.shape[2])).view(*ids.shape[:2], -1)
        mask = torch.tensor([[t < n for t in range(ids.shape[1])] for n in lengths])
        tokens = tokens * mask.unsqueeze(-1)
        layers = [torch.cat([tokens, tokens], dim=-1)]
        inputs = [tokens, tokens]
        for layer in range(self.n_layers):
            outputs = [self._layer(inputs[d], lengths, d, layer) for d in range(2)]
            if layer > 0 and self.skip:
                outputs = [y + x for y, x in zip(outputs, inputs, strict=True)]
            layers.append(torch.cat(outputs, dim=-1))
            inputs = outputs
        stacked = torch.stack(layers, dim=1)  # (batch, layers, time, 2 * proj)
        result: list[torch.Tensor] = [torch.empty(0)] * len(sentences)
        for row, index in enumerate(order):
            result[index] = stacked[row, :, 1 : lengths[row] - 1].clone()
        return result


def _dataset_names(file: h5py.File) -> list[str]:
    names: list[str] = []
    file.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return names
