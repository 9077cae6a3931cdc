"""ScalarMix against a NumPy transcription of the ELMo paper's equation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from elmo import ScalarMix


def numpy_mix(layers, mask, w, gamma, layer_norm):
    weights = np.exp(w) / np.exp(w).sum()
    total = np.zeros_like(layers[:, 0])
    for k in range(layers.shape[1]):
        h = layers[:, k]
        if layer_norm:
            values = h[mask]  # (real tokens, dim)
            h = (h - values.mean()) / np.sqrt(values.var() + 1e-12)
        total += weights[k] * h
    return gamma * total


@pytest.mark.parametrize("layer_norm", [False, True])
def test_matches_numpy(layer_norm):
    rng = np.random.default_rng(0)
    layers = rng.normal(2.0, 3.0, size=(3, 4, 7, 5)).astype(np.float32)
    mask = np.ones((3, 7), dtype=bool)
    mask[1, 4:] = False
    mask[2, 2:] = False
    layers.transpose(0, 2, 1, 3)[~mask] = 100.0  # garbage at padding must not leak into the statistics
    w = np.array([0.3, -1.0, 2.0, 0.1], dtype=np.float32)
    mix = ScalarMix(4, layer_norm=layer_norm, initial_weights=w.tolist(), gamma=0.7)
    out = mix(torch.from_numpy(layers), torch.from_numpy(mask)).detach().numpy()
    expected = numpy_mix(layers, mask, w, 0.7, layer_norm)
    assert np.allclose(out[mask], expected[mask], atol=1e-5)


def test_default_is_an_equal_average_and_learns():
    mix = ScalarMix(3)
    layers = torch.randn(2, 3, 4, 6)
    assert torch.allclose(mix(layers), layers.mean(dim=1), atol=1e-6)
    mix(layers).pow(2).sum().backward()
    assert mix.scalar_parameters.grad is not None and mix.gamma.grad is not None


def test_fixed_weights_probe_one_layer():
    mix = ScalarMix(3, fixed_weights=[0, 1, 0])
    layers = torch.randn(2, 3, 4, 6)
    assert torch.equal(mix(layers), layers[:, 1])
    assert [name for name, _ in mix.named_parameters()] == ["gamma"]


@pytest.mark.parametrize("weights", [[0.5, 0.6, 0.0], [1, 0], [-0.5, 1.5, 0]])
def test_bad_fixed_weights(weights):
    with pytest.raises(ValueError, match="fixed_weights must be 3 non-negative numbers summing to 1"):
        ScalarMix(3, fixed_weights=weights)


def test_layer_norm_needs_a_mask():
    with pytest.raises(ValueError, match="layer_norm needs the mask"):
        ScalarMix(2, layer_norm=True)(torch.randn(1, 2, 3, 4))
