"""Stacked LSTMs with a recurrent projection, both directions at once (Sak et al., 2014;
Jozefowicz et al., 2016; Peters et al., 2018).

One step of one layer, as bilm-tf's ``LSTMCell(num_proj=..., cell_clip=..., proj_clip=...)``::

    i, j, f, o = split([x_t, h_{t-1}] W + b)
    c_t = clip(sigmoid(f + 1) * c_{t-1} + sigmoid(i) * tanh(j), cell_clip)
    h_t = clip((sigmoid(o) * tanh(c_t)) W_P, proj_clip)

Every layer above the first adds its input to its output when skip connections are on.

How it is computed: the input products ``x_t W_x`` of a chunk of timesteps are one
matrix multiply, only ``h_{t-1} W_h`` runs step by step, and the forward and backward
directions share each step's batched multiplies (their weights are stacked on a leading
axis of 2). Sentences are sorted by length so the rows still running at step ``t`` are a
prefix of the batch and padding is never computed; the backward direction runs on each
sentence reversed within its own length. The step loop and its hand-written gradient are
in ``elmo.lstm_steps``. Gate columns are stored as ``i, f, o, j`` (the file's order is
``i, j, f, o``) so one ``sigmoid`` covers three gates.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from elmo.config import LstmConfig
from elmo.lstm_steps import run_layer

#: The LSTM state of every layer: ``(h, c)`` with ``h`` of shape ``(2, batch,
#: projection_dim)`` and ``c`` of shape ``(2, batch, dim)``; index 0 is the forward direction.
LstmState = list[tuple[torch.Tensor, torch.Tensor]]

FORGET_BIAS = 1.0


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The type autocast computes in on ``device_type`` now, or ``None`` where it is off."""
    if torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return None


class BiLstmStack(nn.Module):
    """The forward and backward LSTM stacks of the biLM.

    Args:
        config: the ``lstm`` options.
        input_dim: size of the token representation fed to the first layer.
    """

    def __init__(self, config: LstmConfig, input_dim: int) -> None:
        super().__init__()
        self.config = config
        hidden, proj = config.dim, config.projection_dim
        self.input_weights = nn.ParameterList()
        self.recurrent_weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.projections = nn.ParameterList()
        for layer in range(config.n_layers):
            layer_input = input_dim if layer == 0 else proj
            self.input_weights.append(nn.Parameter(torch.zeros(2, layer_input, 4 * hidden)))
            self.recurrent_weights.append(nn.Parameter(torch.zeros(2, proj, 4 * hidden)))
            self.biases.append(nn.Parameter(torch.zeros(2, 4 * hidden)))
            self.projections.append(nn.Parameter(torch.zeros(2, hidden, proj)))
        forget = torch.zeros(4 * hidden)
        forget[hidden : 2 * hidden] = FORGET_BIAS  # the f block in i, f, o, j order
        self.register_buffer("forget_bias", forget, persistent=False)

    def zero_state(self, batch_size: int, like: torch.Tensor) -> LstmState:
        """An all-zero state for ``batch_size`` rows, on ``like``'s device and dtype."""
        return [
            (
                like.new_zeros(2, batch_size, self.config.projection_dim),
                like.new_zeros(2, batch_size, self.config.dim),
            )
            for _ in range(self.config.n_layers)
        ]

    def forward(
        self,
        inputs: torch.Tensor,
        lengths: torch.Tensor,
        initial_state: LstmState | None = None,
    ) -> tuple[list[torch.Tensor], LstmState]:
        """Run both directions over a padded batch.

        Args:
            inputs: ``(batch, time, input_dim)``, zero at padded positions.
            lengths: ``(batch,)`` number of real positions of each row (may be 0).
            initial_state: state to start each row from; zeros when ``None``.

        Returns:
            The output of every layer, each ``(batch, time, 2 * projection_dim)`` with the
            forward half first and zeros at padded positions, and the state each row ended
            with (a row of length 0 keeps its initial state).
        """
        batch, time, _ = inputs.shape
        if initial_state is None:
            initial_state = self.zero_state(batch, inputs)
        lengths_list = lengths.tolist()
        order = sorted(range(batch), key=lambda row: -lengths_list[row])
        sorted_lengths = [lengths_list[row] for row in order]
        order_t = torch.tensor(order, device=inputs.device)
        # Rows still running at each step: a prefix of the sorted batch.
        active = [sum(1 for n in sorted_lengths if n > t) for t in range(time)]

        x = inputs.index_select(0, order_t).transpose(0, 1)  # (time, batch, dim)
        reverse = self._reverse_index(sorted_lengths, time, inputs.device)  # (time, batch)
        rows = torch.arange(batch, device=inputs.device)
        x = torch.stack([x, x[reverse, rows]])  # (2, time, batch, dim), backward reversed

        outputs, final_state = [], []
        for layer in range(self.config.n_layers):
            h, c = (s.index_select(1, order_t) for s in initial_state[layer])
            y, h, c = self._run_layer(layer, x, h, c, active)
            if layer > 0 and self.config.use_skip_connections:
                y = y + x
            final_state.append((h, c))
            outputs.append(y)
            x = y

        unsort = torch.empty_like(order_t)
        unsort[order_t] = torch.arange(batch, device=inputs.device)
        layer_outputs = [
            torch.cat([y[0], y[1][reverse, rows]], dim=-1)  # (time, batch, 2 * proj)
            .transpose(0, 1)
            .index_select(0, unsort)
            for y in outputs
        ]
        final = [(h.index_select(1, unsort), c.index_select(1, unsort)) for h, c in final_state]
        return layer_outputs, final

    @staticmethod
    def _reverse_index(lengths: list[int], time: int, device: torch.device) -> torch.Tensor:
        """``index[t, b]``: the position read at step ``t`` of row ``b`` run backwards.

        Each row is reversed within its own length; padded positions map to themselves, so
        applying the index twice is the identity.
        """
        steps = torch.arange(time, device=device).unsqueeze(1)  # (time, 1)
        n = torch.tensor(lengths, device=device).unsqueeze(0)  # (1, batch)
        return torch.where(steps < n, n - 1 - steps, steps)

    def _run_layer(
        self,
        layer: int,
        x: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        active: list[int],
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One layer of both directions over the sorted batch ``x`` of ``(2, time, batch, dim)``."""
        device = x.device.type
        # Under autocast (bfloat16-mixed training) the multiplies take the autocast type and
        # everything else stays float32; autocast itself is off inside, as it would round
        # the state too.
        low = autocast_dtype(device)
        with torch.autocast(device, enabled=False) if low else contextlib.nullcontext():
            bias = self.biases[layer] + self.forget_bias  # (2, 4 * hidden)
            weights = (
                self.input_weights[layer], self.recurrent_weights[layer], bias, self.projections[layer]
            )
            x, h, c = (t.to(bias.dtype) for t in (x, h, c))
            return run_layer(x, h, c, weights, active, self.config.cell_clip, self.config.proj_clip, low)
