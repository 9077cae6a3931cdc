"""The heads' BiLSTM encoder against PyTorch's own bidirectional LSTM over packed sequences."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tasks.heads import BiLstmEncoder

INPUT, HIDDEN = 7, 5


def reference_lstm(num_layers: int, seed: int) -> nn.LSTM:
    torch.manual_seed(seed)
    return nn.LSTM(INPUT, HIDDEN, num_layers=num_layers, batch_first=True, bidirectional=True)


def encoder(num_layers: int, seed: int) -> BiLstmEncoder:
    torch.manual_seed(seed)
    return BiLstmEncoder(INPUT, HIDDEN, num_layers=num_layers)


def packed_reference(lstm: nn.LSTM, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    output, _ = lstm(packed)
    return pad_packed_sequence(output, batch_first=True, total_length=inputs.shape[1])[0]


def reference_parameters(lstm: nn.LSTM, layer: int, reverse: bool) -> list[torch.Tensor]:
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    return [getattr(lstm, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def own_parameters(module: nn.LSTM) -> list[torch.Tensor]:
    return [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0]


@pytest.mark.parametrize("num_layers", [1, 2])
def test_initialisation_draws_the_same_weights_as_a_bidirectional_lstm(num_layers):
    lstm, ours = reference_lstm(num_layers, seed=3), encoder(num_layers, seed=3)
    for layer in range(num_layers):
        for reverse, module in ((False, ours.forward_layers[layer]), (True, ours.backward_layers[layer])):
            for expected, actual in zip(reference_parameters(lstm, layer, reverse), own_parameters(module), strict=True):
                assert torch.equal(expected, actual)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_outputs_and_gradients_match_the_packed_bidirectional_lstm(num_layers):
    lstm, ours = reference_lstm(num_layers, seed=0), encoder(num_layers, seed=0)
    lengths = torch.tensor([9, 4, 1, 7, 9, 2])
    mask = torch.arange(9) < lengths.unsqueeze(1)
    inputs = torch.randn(len(lengths), 9, INPUT)
    inputs[~mask] = 100.0  # padding must not leak into any real position

    expected = packed_reference(lstm, inputs, lengths)
    actual = ours(inputs, mask)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)
    assert torch.all(actual[~mask] == 0)

    weights = torch.randn_like(expected)  # a loss that weighs every output differently
    (expected * weights).sum().backward()
    (actual * weights).sum().backward()
    for layer in range(num_layers):
        for reverse, module in ((False, ours.forward_layers[layer]), (True, ours.backward_layers[layer])):
            for expected_p, actual_p in zip(reference_parameters(lstm, layer, reverse), own_parameters(module), strict=True):
                torch.testing.assert_close(actual_p.grad, expected_p.grad, rtol=1e-4, atol=1e-5)


def test_an_empty_sequence_gives_zeros_and_does_not_disturb_the_others():
    ours = encoder(1, seed=1)
    inputs = torch.randn(2, 4, INPUT)
    mask = torch.tensor([[True, True, True, False], [False, False, False, False]])
    output = ours(inputs, mask)
    assert torch.all(output[1] == 0)
    torch.testing.assert_close(output[:1, :3], ours(inputs[:1, :3], mask[:1, :3]))


def test_zero_layers_is_refused():
    with pytest.raises(ValueError, match="num_layers=0"):
        BiLstmEncoder(INPUT, HIDDEN, num_layers=0)
