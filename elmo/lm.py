"""The biLM's pretraining objective (Peters et al., 2018, eq. 1)::

    sum_k  log p(t_k | t_1..t_{k-1}; Θ_x, Θ->_LSTM, Θ_s) + log p(t_k | t_{k+1}..t_N; Θ_x, Θ<-_LSTM, Θ_s)

Both directions share the token layer Θ_x and the softmax Θ_s. Every sentence is wrapped in
``<S> ... </S>`` and starts from a zero state, exactly as the benchmark later runs the biLM:
the forward LM reads ``<S> w_1 .. w_n`` and predicts ``w_1 .. w_n </S>``, the backward LM
reads ``w_1 .. w_n </S>`` backwards and predicts ``<S> w_1 .. w_n``. The softmax is an
adaptive softmax (Grave et al., 2017): exact log-probabilities, so held-out perplexity is
the real one, at a fraction of the cost of a full softmax over a large vocabulary.
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import torch
from torch import nn

from elmo.bilm import BiLM
from elmo.config import BiLMConfig
from elmo.errors import UserError
from elmo.lstm import autocast_dtype


class NonFiniteLossError(UserError, RuntimeError):
    """The loss became NaN or infinite."""


class BiLanguageModel(L.LightningModule):
    """Forward and backward language models over one ``BiLM``, for Lightning.

    Args:
        options: the biLM's ``options.json`` content.
        vocab_size: output vocabulary size (ids sorted by frequency, specials first).
        cutoffs: adaptive-softmax cluster boundaries, each below ``vocab_size``.
        learning_rate: peak Adam learning rate.
        warmup_steps: linear warm-up steps, then inverse square-root decay.
        seed: seed of the initial weights.
        steps_before: steps an earlier run already took with these weights (training
            continued from an export): the inverse square-root decay goes on from there,
            after a new warm-up, since the optimizer's moments start afresh.
        cooldown_steps: the last ``cooldown_steps`` of this run's ``total_steps`` also take
            the rate linearly down to zero (0: no cool-down).
        total_steps: the steps this run takes (``trainer.max_steps``); needed for a cool-down.
    """

    def __init__(
        self,
        options: dict[str, Any],
        vocab_size: int,
        cutoffs: list[int],
        learning_rate: float = 2e-3,
        warmup_steps: int = 200,
        seed: int = 0,
        steps_before: int = 0,
        cooldown_steps: int = 0,
        total_steps: int | None = None,
    ) -> None:
        super().__init__()
        if cooldown_steps and not (total_steps and 0 < cooldown_steps <= total_steps):
            raise ValueError(f"cooldown_steps={cooldown_steps} needs total_steps >= it, got {total_steps}")
        self.save_hyperparameters()
        self.bilm = BiLM(BiLMConfig.from_dict(options), word_cache_size=0).init_weights(seed)
        self.projection_dim = self.bilm.config.lstm.projection_dim
        cutoffs = [c for c in cutoffs if c < vocab_size - 1]
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(self.projection_dim, vocab_size, cutoffs, div_value=4.0)
        self.data_position = 0  # training batches consumed; saved in checkpoints
        self.tokens_trained = 0  # targets per direction trained on; saved in checkpoints
        self._tokens_seen = 0
        self._clock = time.perf_counter()
        self._eval_sums = torch.zeros(3, dtype=torch.float64)

    def negative_log_likelihoods(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Summed NLL of the forward and backward LM over a batch, and the number of targets."""
        out = self.bilm(batch["char_ids"], keep_markers=True)
        top = out.layers[:, -1]  # (batch, time + 2, 2 * proj)
        targets = batch["targets"]  # (batch, time + 2): <S> w_1 .. w_n </S>, -1 padding
        # Forward: position k predicts token k + 1; backward: position k predicts token k - 1.
        forward_states = top[:, :-1, : self.projection_dim]
        backward_states = top[:, 1:, self.projection_dim :]
        forward_targets, backward_targets = targets[:, 1:], targets[:, :-1]
        valid = forward_targets >= 0  # the same positions for both directions
        count = int(valid.sum())
        forward = self._nll(forward_states[valid], forward_targets[valid])
        backward = self._nll(backward_states[valid], backward_targets[valid])
        return forward, backward, count

    def _nll(self, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if autocast_dtype(states.device.type):
            return -adaptive_log_probs(self.softmax, states, targets).sum()
        return -self.softmax(states, targets).output.sum()

    def training_step(self, batch: tuple[int, dict[str, torch.Tensor]], batch_idx: int) -> torch.Tensor:
        position, data = batch
        forward, backward, count = self.negative_log_likelihoods(data)
        loss = (forward + backward) / (2 * count)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss is {loss.item()} at step {self.global_step} (batch {position}); "
                "lower the learning rate or the gradient clipping value"
            )
        # Each rank read one batch of this round (positions r, r + 1, ... of the stream):
        # the next round starts after all of them, alike on every rank.
        self.data_position = position - self.global_rank + self.trainer.world_size
        if self.trainer.world_size > 1:  # every rank's targets, so checkpoints count them all
            total = torch.tensor(count, dtype=torch.float64, device=self.device)  # NCCL reduces on the GPU
            count = int(self.trainer.strategy.reduce(total, reduce_op="sum"))
        self.tokens_trained += count
        self._tokens_seen += count
        elapsed = time.perf_counter() - self._clock
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/tokens_per_s", self._tokens_seen / max(elapsed, 1e-9), prog_bar=True)
        self.log("train/learning_rate", self.optimizers().param_groups[0]["lr"])  # the rate of this step
        return loss

    def on_train_epoch_start(self) -> None:
        self._tokens_seen, self._clock = 0, time.perf_counter()

    def on_validation_epoch_start(self) -> None:
        self._eval_sums.zero_()

    def validation_step(self, batch: tuple[bool, dict[str, torch.Tensor]], batch_idx: int) -> None:
        counted, data = batch  # a batch repeated only to keep the ranks in step is not counted
        with torch.autocast(self.device.type, enabled=False):  # held-out scores in float32 always
            forward, backward, count = self.negative_log_likelihoods(data)
        if counted:
            self._eval_sums += torch.tensor([forward.item(), backward.item(), count], dtype=torch.float64)

    def on_validation_epoch_end(self) -> None:
        sums = self._eval_sums
        if self.trainer.world_size > 1:  # each rank scored its share of the held-out batches
            sums = self.trainer.strategy.reduce(sums.to(self.device), reduce_op="sum").cpu()
        forward, backward, count = sums.tolist()
        if count:
            for name, value in held_out_perplexities(forward, backward, count).items():
                # The same on every rank already: syncing only tells Lightning so.
                self.log(f"val/{name}", value, prog_bar=name == "ppl", sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: learning_rate_factor(
                step, self.hparams.warmup_steps, self.hparams.steps_before,
                self.hparams.cooldown_steps, self.hparams.total_steps,
            ),
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["data_position"] = self.data_position
        checkpoint["tokens_trained"] = self.tokens_trained

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.data_position = checkpoint.get("data_position", 0)
        self.tokens_trained = checkpoint.get("tokens_trained", 0)


def adaptive_log_probs(
    softmax: nn.AdaptiveLogSoftmaxWithLoss, states: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """``softmax(states, targets).output``, the log-probability of each target, computed so
    that it also runs under autocast: the multiplies take the autocast type, each
    log-softmax is taken in float32 (``AdaptiveLogSoftmaxWithLoss`` itself fails there)."""
    head = torch.log_softmax(softmax.head(states).float(), dim=-1)
    shortlist = softmax.shortlist_size
    log_probs = head.gather(1, targets.clamp(max=shortlist - 1).unsqueeze(1)).squeeze(1)
    for i, cluster in enumerate(softmax.tail):
        low, high = softmax.cutoffs[i], softmax.cutoffs[i + 1]
        rows = ((targets >= low) & (targets < high)).nonzero().squeeze(1)
        if rows.numel():
            tail = torch.log_softmax(cluster(states[rows]).float(), dim=-1)
            in_cluster = tail.gather(1, (targets[rows] - low).unsqueeze(1)).squeeze(1)
            log_probs = log_probs.index_put((rows,), head[rows, shortlist + i] + in_cluster)
    return log_probs


def learning_rate_factor(
    step: int, warmup_steps: int, steps_before: int = 0, cooldown_steps: int = 0, total_steps: int | None = None
) -> float:
    """The peak rate's multiplier at ``step`` of this run: a linear warm-up over
    ``warmup_steps``, times an inverse square-root decay in the steps of every run so far,
    times, over the last ``cooldown_steps`` of this run's ``total_steps``, a linear fall
    to zero (warm-up, stable, decay: the decay is where much of the loss drops)."""
    warmup = max(1, warmup_steps)
    ramp = min(1.0, (step + 1) / warmup)
    factor = ramp * math.sqrt(warmup / max(warmup, steps_before + step + 1))
    if cooldown_steps and total_steps:
        factor *= min(1.0, max(0.0, (total_steps - step) / cooldown_steps))
    return factor


def held_out_perplexities(forward_nll: float, backward_nll: float, count: float) -> dict[str, float]:
    """Perplexity of each direction and their mean, from summed NLLs over ``count`` targets."""
    ppl_forward = math.exp(forward_nll / count)
    ppl_backward = math.exp(backward_nll / count)
    return {"ppl_forward": ppl_forward, "ppl_backward": ppl_backward, "ppl": (ppl_forward + ppl_backward) / 2}
