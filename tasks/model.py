"""The shared LightningModule: a learned scalar mix of the embedder's layers, then a task head.

Peters et al. (2018), eq. 1: ``ELMo_task = gamma * sum_j softmax(w)_j * h_j``; the head
sees ``ELMo_task`` for every token of every input sequence (one mix shared by all of a
task's inputs, e.g. a SQuAD context and its question). Only the mix and the head train;
the features come precomputed from the frozen embedder.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

import lightning as L
import torch

from elmo import ScalarMix
from elmo.lm import NonFiniteLossError
from tasks.batching import Batch
from tasks.distributed import in_batch_order
from tasks.task import Item, Split, Task

logger = logging.getLogger(__name__)


class TaskModel(L.LightningModule):
    """Scalar mix + head for one task, scored with the task's own metric.

    Args:
        task: the task (data, decoding, metric).
        splits: its loaded splits; validation scores ``dev``, testing scores ``test``.
        num_layers: layers in the embedder's stack.
        input_dim: width of every layer.
        mix: keyword arguments of :class:`elmo.ScalarMix` (``layer_norm``, ``fixed_weights``).
        learning_rate: Adam's learning rate.
        weight_decay: Adam's L2 penalty on the head (not on the mix).
        mix_l2: the ELMo paper's ``lambda * ||w||^2`` on the mix's weights.
        mix_learning_rate: Adam's learning rate for the mix's weights and gamma (their own
            parameter group); None for ``learning_rate``.
        lr_decay: on a validation plateau, both learning rates are multiplied by this
            (``ReduceLROnPlateau`` on the task's metric); None keeps them constant.
        lr_decay_patience: epochs without a better validation score before each decay.
    """

    def __init__(
        self,
        task: Task,
        splits: dict[str, Split],
        num_layers: int,
        input_dim: int,
        mix: dict[str, Any] | None = None,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        mix_l2: float = 0.0,
        mix_learning_rate: float | None = None,
        lr_decay: float | None = None,
        lr_decay_patience: int = 0,
    ) -> None:
        super().__init__()
        self.task = task
        self.splits = splits
        self.mix = ScalarMix(num_layers, **(mix or {}))
        self.head = task.build_head(input_dim)
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.mix_l2 = mix_l2
        self.mix_learning_rate = learning_rate if mix_learning_rate is None else mix_learning_rate
        self.lr_decay = lr_decay
        self.lr_decay_patience = lr_decay_patience
        self.trained_tokens = 0
        self.predictions: dict[str, list[Any]] = {}
        self.scores: dict[str, dict[str, float]] = {}
        # Per evaluation batch, (position of the item in its split, head output) pairs.
        self._outputs: list[list[tuple[int, Any]]] = []
        self._positions = {id(item): index for split in splits.values() for index, item in enumerate(split.items)}

    def _mixed(self, batch: Batch) -> list[torch.Tensor]:
        return [self.mix(layers, mask) for layers, mask in zip(batch.layers, batch.masks, strict=True)]

    def transfer_batch_to_device(self, batch: Batch, device: torch.device, dataloader_idx: int) -> Batch:
        return batch.to(device)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        loss = self.head.loss(batch, self._mixed(batch))
        if not math.isfinite(loss.item()):
            raise NonFiniteLossError(
                f"{self.task.name}: the training loss became {loss.item()} at step {self.global_step} "
                f"(epoch {self.current_epoch}, batch {batch_idx}); lower the learning rate or check the inputs"
            )
        if self.mix_l2 and self.mix.scalar_parameters is not None:
            loss = loss + self.mix_l2 * self.mix.scalar_parameters.pow(2).sum()
        self.trained_tokens += sum(item.num_tokens for item in batch.items)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch.items))
        return loss

    def _collect(self, batch: Batch) -> None:
        outputs = self.head.predict(batch, self._mixed(batch))
        self._outputs.append([(self._positions[id(item)], output) for item, output in zip(batch.items, outputs, strict=True)])

    def _gathered(self, split: str, batches: list[list[tuple[int, Any]]]) -> list[tuple[Item, Any]]:
        """Every rank's outputs for the split, in one device's batch order, each item once."""
        shares = [batches]
        if self.trainer.world_size > 1:
            shares = [[] for _ in range(self.trainer.world_size)]
            torch.distributed.all_gather_object(shares, batches)
        items = self.splits[split].items
        return [(items[position], output) for position, output in in_batch_order(shares)]

    def _score(self, split: str, stage: str) -> None:
        batches, self._outputs = self._outputs, []
        outputs = self._gathered(split, batches)
        predictions = self.task.decode(self.splits[split], outputs)
        scores = self.task.score(self.splits[split], predictions)
        self.predictions[split] = predictions
        self.scores[split] = scores
        for name, value in scores.items():
            # Gathered above, so the same on every rank: syncing only tells Lightning so.
            self.log(f"{stage}/{name}", value, prog_bar=name == self.task.metric, sync_dist=True)
        if self.trainer.is_global_zero:
            logger.info("epoch %d %s/%s = %.2f", self.current_epoch, stage, self.task.metric, scores[self.task.metric])

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._collect(batch)

    def on_validation_epoch_end(self) -> None:
        self._score("dev", "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._collect(batch)

    def on_test_epoch_end(self) -> None:
        self._score("test", "test")

    def configure_optimizers(self) -> torch.optim.Optimizer | dict[str, Any]:
        optimizer = torch.optim.Adam(
            [
                {"params": [p for p in self.mix.parameters() if p.requires_grad], "weight_decay": 0.0, "lr": self.mix_learning_rate},
                {"params": [p for p in self.head.parameters() if p.requires_grad]},
            ],
            lr=self.learning_rate,
            weight_decay=self.weight_decay,
        )
        if self.lr_decay is None:
            return optimizer
        # Stepped after each validation, on the metric early stopping watches, with its notion
        # of a better score (any rise: threshold 0).
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=self.lr_decay, patience=self.lr_decay_patience,
            threshold=0.0, threshold_mode="abs",
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": plateau, "monitor": f"val/{self.task.metric}", "interval": "epoch"}}

    def mix_report(self) -> dict[str, Any]:
        """The learned (softmax-normalised) layer weights and gamma."""
        return {"weights": [round(float(w), 6) for w in self.mix.weights.detach()], "gamma": round(float(self.mix.gamma.detach()), 6)}

    def trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


class BestWeights(L.Callback):
    """Keeps a copy of the mix and head at the best validation score (in memory, no pickle),
    the validation score of every epoch (the learning curve) and the head's learning rate
    in that epoch (a plateau schedule lowers it after the validation it follows)."""

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor
        self.best: float | None = None
        self.best_epoch = -1
        self.best_scores: dict[str, float] = {}
        self.state: dict[str, torch.Tensor] | None = None
        self.curve: list[float] = []
        self.learning_rates: list[float] = []

    def on_validation_end(self, trainer: L.Trainer, model: TaskModel) -> None:
        value = float(trainer.callback_metrics[self.monitor])
        self.curve.append(float(model.scores["dev"][self.monitor.split("/", 1)[1]]))
        self.learning_rates.append(float(trainer.optimizers[0].param_groups[-1]["lr"]))
        if self.best is None or value > self.best:
            self.best, self.best_epoch = value, trainer.current_epoch
            self.best_scores = dict(model.scores["dev"])
            self.state = copy.deepcopy(model.state_dict())

    def restore(self, model: TaskModel) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


def scores_with_prefix(prefix: str, scores: dict[str, float]) -> dict[str, float]:
    """``{"f1": 91.234567}`` -> ``{"val/f1": 91.2346}``: the row's metric keys."""
    return {f"{prefix}/{name}": round(float(value), 4) for name, value in scores.items()}
