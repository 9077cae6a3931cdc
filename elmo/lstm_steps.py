"""One layer of the biLM's LSTM with projection, both directions, step by step, with its
gradient written out by hand.

Per step, on the ``n`` rows still running (a prefix of the length-sorted batch)::

    g = x_t W + b + h_{t-1} R
    i, f, o = sigmoid(g_i, g_f, g_o);   j = tanh(g_j)
    u_t = f * c_{t-1} + i * j;          c_t = clip(u_t, cell_clip)
    p_t = (o * tanh(c_t)) P;            h_t = clip(p_t, proj_clip)

Steps are taken in chunks of about ``_ROWS_PER_CHUNK`` rows (timesteps x sentences): the
input products ``x_t W + b`` of a chunk are one multiply, and the step loop turns them
into the gate activations in place.

With ``matmul_dtype`` (bfloat16 under autocast) every multiply, forward and backward, takes
its two operands rounded to that type and returns its product in that type (summed in
float32 inside the kernel), which is then widened to float32, as autocast would; the state,
the gates and every sum across multiplies stay float32. On a CPU with bfloat16 instructions such a multiply runs two to three
times as fast.

Why a hand-written gradient: under autograd every step records a dozen small nodes, each
step adds its share of ``dR`` and ``dP`` (a few dozen rows) into the whole weight
gradients, and reading a slice of a chunk's products back allocates and fills a gradient
as large as the chunk. Here the backward pass runs only the recurrence step by step (two
small multiplies: ``dm_t = dp_t P^T`` and ``dh_{t-1} = dg_t R^T``), keeps the chunk's gate
gradients, and takes every weight gradient of the chunk as one multiply
(``dR += sum_t h_{t-1}^T dg_t`` over its steps). The function is the same; sums are taken in
another order, so gradients agree to float rounding. Clipping passes the gradient where
``|value| <= clip``, as ``torch.clamp`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.autograd.function import once_differentiable

# Rows (timesteps x sentences) of one chunk: large enough for efficient multiplies, small
# enough that its buffers stay in cache and come from the heap rather than fresh pages.
_ROWS_PER_CHUNK = 256

#: A layer's weights: input ``(2, in, 4H)``, recurrent ``(2, P, 4H)``, bias ``(2, 4H)``
#: (forget bias included), projection ``(2, H, P)``; gate columns in ``i, f, o, j`` order.
LayerWeights = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def _bmm(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """``a @ b`` (batched); with ``dtype``, of the operands rounded to it, the product (in
    ``dtype``) widened back to ``a``'s type."""
    if dtype is None:
        return torch.bmm(a, b)
    return torch.bmm(a.to(dtype), b.to(dtype)).to(a.dtype)


def _baddbmm(target: torch.Tensor, a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """``target + a @ b``, the product as ``_bmm`` takes it."""
    return torch.baddbmm(target, a, b) if dtype is None else target + _bmm(a, b, dtype)


def _add_bmm_(target: torch.Tensor, a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """``target += a @ b`` in place, the product as ``_bmm`` takes it."""
    return target.baddbmm_(a, b) if dtype is None else target.add_(_bmm(a, b, dtype))


def _low(weights: tuple[torch.Tensor, ...], dtype: torch.dtype | None) -> tuple[torch.Tensor, ...]:
    """The weights rounded to ``dtype`` once, so the step loop does not round them every step."""
    return weights if dtype is None else tuple(w.to(dtype) for w in weights)


def step_chunks(active: list[int]) -> Iterator[tuple[int, int, int]]:
    """``(start, stop, rows)``: consecutive steps with rows running, ``rows = active[start]``."""
    start, time = 0, len(active)
    while start < time and active[start] > 0:
        rows = active[start]
        stop = min(time, start + max(1, _ROWS_PER_CHUNK // rows))
        stop = next((t for t in range(start, stop) if active[t] == 0), stop)
        yield start, stop, rows
        start = stop


def run_layer(
    x: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor,
    weights: LayerWeights,
    active: list[int],
    cell_clip: float | None,
    proj_clip: float | None,
    matmul_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One layer of both directions over a length-sorted batch.

    Args:
        x: ``(2, time, batch, in)`` inputs of each direction (the backward one already reversed).
        h0, c0: ``(2, batch, P)`` and ``(2, batch, H)`` initial state.
        weights: the layer's weights.
        active: rows still running at each step, non-increasing.
        cell_clip, proj_clip: clipping values (0 or ``None``: none).
        matmul_dtype: the type the multiplies round their operands to (``None``: the inputs').

    Returns:
        ``(2, time, batch, P)`` outputs (zero where a row has ended), and the final ``h``
        and ``c`` of every row (a row of length 0 keeps its initial state).
    """
    cell_clip, proj_clip = cell_clip or None, proj_clip or None
    if torch.is_grad_enabled() and any(t.requires_grad for t in (x, h0, c0, *weights)):
        return _LstmLayer.apply(x, h0, c0, *weights, active, cell_clip, proj_clip, matmul_dtype)
    out, h, c, _ = _forward(x, h0, c0, weights, active, (cell_clip, proj_clip), matmul_dtype, keep=False)
    return out, h, c


def _forward(
    x: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor,
    weights: LayerWeights,
    active: list[int],
    clips: tuple[float | None, float | None],
    matmul_dtype: torch.dtype | None,
    keep: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """The step loop. Also returns, per chunk, what the backward pass reads: the gate
    activations ``(2, steps, rows, 4H)``, the cells ``u`` before clipping and, with
    ``proj_clip`` (of ``clips``) and ``keep``, the projections ``p`` before clipping (rows past
    ``active[t]`` unset)."""
    input_weight, recurrent, bias, projection = weights
    input_weight, recurrent, projection = _low((input_weight, recurrent, projection), matmul_dtype)
    cell_clip, proj_clip = clips
    _, time, batch, dim = x.shape
    hidden, proj_dim = projection.shape[1], projection.shape[2]
    out = x.new_zeros(2, time, batch, proj_dim)
    h_final, c_final = h0.clone(), c0.clone()
    saved = []
    h, c = h0, c0
    for start, stop, rows in step_chunks(active):
        steps = stop - start
        chunk_x = x[:, start:stop, :rows].reshape(2, steps * rows, dim)
        gates = _baddbmm(bias.unsqueeze(1), chunk_x, input_weight, matmul_dtype)
        gates = gates.view(2, steps, rows, 4 * hidden)
        cells = x.new_empty(2, steps, rows, hidden)
        projections = x.new_empty(2, steps, rows, proj_dim if proj_clip else 0)
        saved += [gates, cells, projections]
        for t in range(start, stop):
            n = active[t]
            g = _add_bmm_(gates[:, t - start, :n], h[:, :n], recurrent, matmul_dtype)  # (2, n, 4H)
            g[..., : 3 * hidden].sigmoid_()
            g[..., 3 * hidden :].tanh_()
            i, f, o, j = g.split(hidden, dim=-1)
            cell = torch.addcmul(f * c[:, :n], i, j, out=cells[:, t - start, :n])
            if cell_clip:
                cell = cell.clamp(-cell_clip, cell_clip)
            p = _bmm(o * cell.tanh(), projection, matmul_dtype)  # (2, n, P)
            if proj_clip:
                if keep:
                    projections[:, t - start, :n] = p
                torch.clamp(p, -proj_clip, proj_clip, out=out[:, t, :n])
            else:
                out[:, t, :n] = p
            h, c = out[:, t], cell
            ending = active[t + 1] if t + 1 < time else 0  # rows whose last step this is
            if ending < n:
                h_final[:, ending:n] = h[:, ending:n]
                c_final[:, ending:n] = cell[:, ending:n]
    return out, h_final, c_final, saved


class _LstmLayer(torch.autograd.Function):
    """``_forward`` and its gradient, chunk by chunk from the last."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        h0: torch.Tensor,
        c0: torch.Tensor,
        input_weight: torch.Tensor,
        recurrent: torch.Tensor,
        bias: torch.Tensor,
        projection: torch.Tensor,
        active: list[int],
        cell_clip: float | None,
        proj_clip: float | None,
        matmul_dtype: torch.dtype | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        weights = (input_weight, recurrent, bias, projection)
        out, h_final, c_final, saved = _forward(x, h0, c0, weights, active, (cell_clip, proj_clip), matmul_dtype)
        ctx.save_for_backward(x, h0, c0, input_weight, recurrent, projection, out, *saved)
        ctx.active, ctx.cell_clip, ctx.proj_clip, ctx.matmul_dtype = active, cell_clip, proj_clip, matmul_dtype
        return out, h_final, c_final

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any,
        d_out: torch.Tensor | None,
        d_h_final: torch.Tensor | None,
        d_c_final: torch.Tensor | None,
    ) -> tuple[torch.Tensor | None, ...]:
        x, h0, c0, input_weight, recurrent, projection, out, *saved = ctx.saved_tensors
        active, cell_clip, proj_clip, low = ctx.active, ctx.cell_clip, ctx.proj_clip, ctx.matmul_dtype
        dim, (hidden, proj_dim) = x.shape[-1], projection.shape[1:]
        input_t, recurrent_t, projection_t = _low(
            (input_weight.transpose(1, 2), recurrent.transpose(1, 2), projection.transpose(1, 2)), low
        )
        chunks = list(step_chunks(active))
        # The cell of every step before clipping, ``(2, rows, H)``.
        cell_at = [
            cells[:, k]
            for (start, stop, _), cells in zip(chunks, saved[1::3], strict=True)
            for k in range(stop - start)
        ]

        def clipped(u: torch.Tensor) -> torch.Tensor:
            return u.clamp(-cell_clip, cell_clip) if cell_clip else u

        d_out = d_out.contiguous() if d_out is not None else torch.zeros_like(out)
        d_h = d_h_final.clone() if d_h_final is not None else torch.zeros_like(h0)
        d_c = d_c_final.clone() if d_c_final is not None else torch.zeros_like(c0)
        d_x = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        d_input, d_recurrent, d_projection = (
            torch.zeros_like(w) for w in (input_weight, recurrent, projection)
        )
        d_bias = x.new_zeros(2, 4 * hidden)
        for (start, stop, rows), gates, cells, projections in reversed(
            list(zip(chunks, saved[0::3], saved[1::3], saved[2::3], strict=True))
        ):
            steps = stop - start
            # Rows past active[t] stay zero, so whole-chunk multiplies add nothing for them.
            d_gates = x.new_zeros(2, steps, rows, 4 * hidden)
            d_p_chunk = x.new_zeros(2, steps, rows, proj_dim)
            m_chunk = x.new_zeros(2, steps, rows, hidden)  # o * tanh(c), the projection's input
            for t in reversed(range(start, stop)):
                k, n = t - start, active[t]
                i, f, o, j = gates[:, k, :n].split(hidden, dim=-1)
                u = cells[:, k, :n]
                tanh_c = clipped(u).tanh()
                torch.mul(o, tanh_c, out=m_chunk[:, k, :n])
                d_p = d_out[:, t, :n] + d_h[:, :n]  # (2, n, P)
                if proj_clip:
                    d_p.mul_(projections[:, k, :n].abs() <= proj_clip)
                d_p_chunk[:, k, :n] = d_p
                d_m = _bmm(d_p, projection_t, low)  # (2, n, H)
                d_u = torch.addcmul(d_c[:, :n], d_m * o, 1 - tanh_c * tanh_c)
                if cell_clip:
                    d_u.mul_(u.abs() <= cell_clip)
                c_prev = clipped(cell_at[t - 1][:, :n]) if t else c0[:, :n]
                d_g = d_gates[:, k, :n]
                torch.mul(d_u * j, i - i * i, out=d_g[..., :hidden])
                torch.mul(d_u * c_prev, f - f * f, out=d_g[..., hidden : 2 * hidden])
                torch.mul(d_m * tanh_c, o - o * o, out=d_g[..., 2 * hidden : 3 * hidden])
                torch.mul(d_u * i, 1 - j * j, out=d_g[..., 3 * hidden :])
                torch.mul(d_u, f, out=d_c[:, :n])
                d_h[:, :n] = _bmm(d_g, recurrent_t, low)
            # The chunk's weight gradients, each one multiply over all its rows.
            flat_d_gates = d_gates.view(2, steps * rows, 4 * hidden)
            if start:
                h_prev = out[:, start - 1 : stop - 1, :rows]
            else:
                h_prev = torch.cat([h0[:, None, :rows], out[:, : stop - 1, :rows]], dim=1)
            h_prev = h_prev.reshape(2, steps * rows, proj_dim)
            _add_bmm_(d_recurrent, h_prev.transpose(1, 2), flat_d_gates, low)
            m_flat = m_chunk.view(2, steps * rows, hidden)
            _add_bmm_(d_projection, m_flat.transpose(1, 2), d_p_chunk.view(2, steps * rows, proj_dim), low)
            chunk_x = x[:, start:stop, :rows].reshape(2, steps * rows, dim)
            _add_bmm_(d_input, chunk_x.transpose(1, 2), flat_d_gates, low)
            d_bias += flat_d_gates.sum(dim=1)
            if d_x is not None:
                d_chunk_x = _bmm(flat_d_gates, input_t, low)
                d_x[:, start:stop, :rows] = d_chunk_x.view(2, steps, rows, dim)
        return d_x, d_h, d_c, d_input, d_recurrent, d_bias, d_projection, None, None, None, None
