"""A task-specific weighting of the biLM's layers (Peters et al., 2018, eq. 1)::

    ELMo_k = gamma * sum_j softmax(w)_j * h_{k,j}

With ``layer_norm`` each layer is first normalised over its unmasked entries (mean and
variance taken over every real token and dimension of the layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ScalarMix(nn.Module):
    """``gamma * sum_k softmax(w)_k * h_k`` over a stack of layers.

    Args:
        num_layers: number of layers mixed.
        layer_norm: normalise each layer (over its unmasked entries) before mixing.
        initial_weights: starting values of the unnormalised ``w`` (zeros by default,
            i.e. an equal-weight average).
        fixed_weights: use these normalised weights as they are, without a softmax and
            without learning them: ``[0, 0, 1]`` probes the top layer alone, equal
            values give a fixed average. ``gamma`` is still learned.
        gamma: starting value of ``gamma``.
    """

    def __init__(
        self,
        num_layers: int,
        layer_norm: bool = False,
        initial_weights: Sequence[float] | None = None,
        fixed_weights: Sequence[float] | None = None,
        gamma: float = 1.0,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be positive, got {num_layers}")
        self.num_layers = num_layers
        self.layer_norm = layer_norm
        self.gamma = nn.Parameter(torch.tensor(float(gamma)))
        if fixed_weights is not None:
            fixed = torch.tensor([float(w) for w in fixed_weights])
            if len(fixed) != num_layers or bool((fixed < 0).any()) or abs(float(fixed.sum()) - 1) > 1e-6:
                raise ValueError(
                    f"fixed_weights must be {num_layers} non-negative numbers summing to 1, "
                    f"got {list(fixed_weights)}"
                )
            self.register_buffer("fixed_weights", fixed)
            self.scalar_parameters = None
        else:
            initial = [0.0] * num_layers if initial_weights is None else list(initial_weights)
            if len(initial) != num_layers:
                raise ValueError(f"initial_weights needs {num_layers} values, got {len(initial)}")
            self.fixed_weights = None
            self.scalar_parameters = nn.Parameter(torch.tensor(initial, dtype=torch.float32))

    @property
    def weights(self) -> torch.Tensor:
        """The normalised layer weights ``softmax(w)`` (or the fixed ones)."""
        if self.scalar_parameters is None:
            return self.fixed_weights
        return torch.softmax(self.scalar_parameters, dim=0)

    def forward(self, layers: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Mix the layers.

        Args:
            layers: ``(batch, num_layers, time, dim)``.
            mask: ``(batch, time)`` bool, needed with ``layer_norm``.

        Returns:
            ``(batch, time, dim)``.
        """
        if layers.shape[1] != self.num_layers:
            raise ValueError(f"expected {self.num_layers} layers, got {layers.shape[1]}")
        if self.layer_norm:
            if mask is None:
                raise ValueError("layer_norm needs the mask of real tokens")
            layers = _masked_layer_norm(layers, mask)
        weights = self.weights.to(layers.dtype).view(1, -1, 1, 1)
        return self.gamma * (weights * layers).sum(dim=1)


def _masked_layer_norm(layers: torch.Tensor, mask: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Normalise each layer of ``(batch, layers, time, dim)`` over its real tokens."""
    m = mask[:, None, :, None].to(layers.dtype)  # (batch, 1, time, 1)
    count = m.sum() * layers.shape[-1]
    mean = (layers * m).sum(dim=(0, 2, 3), keepdim=True) / count  # (1, layers, 1, 1)
    variance = (((layers - mean) * m) ** 2).sum(dim=(0, 2, 3), keepdim=True) / count
    return (layers - mean) / torch.sqrt(variance + eps)
