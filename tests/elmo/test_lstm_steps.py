"""The LSTM's hand-written gradient against autograd through every step (the previous
implementation, kept in ``benchmarks.pretrain_speed``), on identical weights."""

from __future__ import annotations

import pytest
import torch

from benchmarks.pretrain_speed import AutogradBiLstmStack
from elmo.config import LstmConfig
from elmo.lstm import BiLstmStack
from elmo.lstm_steps import step_chunks

INPUT_DIM = 7


def _stacks(cell_clip: float, proj_clip: float, skip: bool) -> tuple[BiLstmStack, BiLstmStack]:
    """The package's stack and the autograd one, float64, with the same random weights."""
    config = LstmConfig(dim=12, projection_dim=5, n_layers=2, cell_clip=cell_clip, proj_clip=proj_clip,
                        use_skip_connections=skip)
    new = BiLstmStack(config, INPUT_DIM).double()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in new.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * 0.8)
    old = AutogradBiLstmStack(config, INPUT_DIM).double()
    old.load_state_dict(new.state_dict())
    return new, old


def _inputs(lengths: list[int], seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lengths_t = torch.tensor(lengths)
    time = max(lengths)
    x = torch.randn(len(lengths), time, INPUT_DIM, generator=generator, dtype=torch.float64)
    return x * (torch.arange(time) < lengths_t.unsqueeze(1)).unsqueeze(-1), lengths_t


def _run(stack: BiLstmStack, x: torch.Tensor, lengths: torch.Tensor, state: list | None, with_state_loss: bool):
    """Outputs, final state and the gradients of a random linear function of them."""
    x = x.clone().requires_grad_()
    initial = None if state is None else [(h.clone().requires_grad_(), c.clone().requires_grad_()) for h, c in state]
    outputs, final = stack(x, lengths, initial)
    generator = torch.Generator().manual_seed(2)
    loss = sum((y * torch.randn(y.shape, generator=generator, dtype=y.dtype)).sum() for y in outputs)
    if with_state_loss:
        for h, c in final:
            loss = loss + (h * torch.randn(h.shape, generator=generator, dtype=h.dtype)).sum()
            loss = loss + (c * torch.randn(c.shape, generator=generator, dtype=c.dtype)).sum()
    leaves = [x, *stack.parameters(), *([t for pair in initial for t in pair] if initial else [])]
    return outputs, final, torch.autograd.grad(loss, leaves)


@pytest.mark.parametrize("clips", [(1.0, 0.4), (0.0, 0.0)])
@pytest.mark.parametrize("skip", [True, False])
@pytest.mark.parametrize("lengths", [[3, 0, 9, 1, 9, 4, 6], [5, 5, 5], [1]])
def test_outputs_and_gradients_equal_autograd_through_every_step(clips, skip, lengths):
    new, old = _stacks(*clips, skip)
    x, lengths_t = _inputs(lengths)
    ours, ours_final, ours_grads = _run(new, x, lengths_t, None, with_state_loss=False)
    ref, ref_final, ref_grads = _run(old, x, lengths_t, None, with_state_loss=False)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-13)
    for (h, c), (rh, rc) in zip(ours_final, ref_final, strict=True):
        torch.testing.assert_close(h, rh, rtol=0, atol=1e-13)
        torch.testing.assert_close(c, rc, rtol=0, atol=1e-13)
    for a, b in zip(ours_grads, ref_grads, strict=True):
        # Every input and weight is reached (a single step from a zero state leaves R alone).
        assert a.abs().max() > 0 or max(lengths) == 1
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    if clips[1]:  # the clipping is exercised, so its gradient mask is tested too
        assert any(bool((y.abs() == clips[1]).any()) for y in ours)


def test_gradients_through_initial_and_final_states():
    """A carried state (stateful mode) and a loss on the final state, with rows of length 0."""
    new, old = _stacks(1.0, 0.4, True)
    x, lengths = _inputs([2, 0, 8, 5, 8, 1])
    generator = torch.Generator().manual_seed(3)
    state = [(torch.randn(2, 6, 5, generator=generator, dtype=torch.float64),
              torch.randn(2, 6, 12, generator=generator, dtype=torch.float64)) for _ in range(2)]
    ours = _run(new, x, lengths, state, with_state_loss=True)
    ref = _run(old, x, lengths, state, with_state_loss=True)
    for a, b in zip(ours[2], ref[2], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    # A row of length 0 passes its state through: its final state's gradient comes out unchanged.
    for (h, c), (h0, c0) in zip(ours[1], state, strict=True):
        assert torch.equal(h[:, 1], h0[:, 1]) and torch.equal(c[:, 1], c0[:, 1])


def test_without_gradients_the_outputs_are_the_same():
    new, _ = _stacks(1.0, 0.4, True)
    x, lengths = _inputs([3, 0, 9, 1, 9, 4, 6])
    with torch.no_grad():
        plain, plain_final = new(x, lengths)
    tracked, tracked_final = new(x.clone().requires_grad_(), lengths)
    for a, b in zip(plain, tracked, strict=True):
        assert torch.equal(a, b.detach())
    for (h, c), (th, tc) in zip(plain_final, tracked_final, strict=True):
        assert torch.equal(h, th.detach()) and torch.equal(c, tc.detach())


def test_step_chunks_cover_each_running_step_once():
    active = [40, 40, 38, 30, 30, 12, 12, 12, 3, 1, 0, 0]
    chunks = list(step_chunks(active))
    steps = [t for start, stop, _ in chunks for t in range(start, stop)]
    assert steps == list(range(10))
    assert all(rows == active[start] for start, _, rows in chunks)
    assert list(step_chunks([0, 0])) == []


def test_under_bfloat16_autocast_only_the_multiplies_are_rounded():
    """bfloat16 multiplies (operands rounded, float32 sums), float32 state: within bfloat16's
    precision of float32 (itself checked against autograd above), forward and backward."""
    exact, _ = _stacks(1.0, 0.4, True)
    single = BiLstmStack(exact.config, INPUT_DIM)
    single.load_state_dict(exact.state_dict())
    with torch.no_grad():  # weights of a trained model's scale: with the test's larger ones the
        for p in single.parameters():  # recurrence amplifies any rounding, float32's too
            p.mul_(0.3)
    x, lengths = _inputs([3, 0, 9, 1, 9, 4, 6])
    ref_out, _, ref_grads = _run(single, x.float(), lengths, None, with_state_loss=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low_out, _, low_grads = _run(single, x.float(), lengths, None, with_state_loss=True)
    for low, ref in zip(low_out, ref_out, strict=True):
        assert low.dtype == torch.float32 and not torch.equal(low, ref)  # the multiplies did round
        torch.testing.assert_close(low, ref, rtol=0, atol=1e-2 * float(ref.abs().max()))
    for low, ref in zip(low_grads, ref_grads, strict=True):
        assert low.dtype == torch.float32
        torch.testing.assert_close(low, ref, rtol=0, atol=2e-2 * float(ref.abs().max()))
        assert torch.nn.functional.cosine_similarity(low.flatten(), ref.flatten(), dim=0) > 0.9999
