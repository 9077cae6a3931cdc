"""Task heads: the :class:`Head` protocol and the heads shared by several tasks.

Every head is an ``nn.Module`` that takes the scalar-mixed features of a batch,
``(batch, time, dim)`` per input sequence, and implements :class:`Head`: ``loss(batch,
mixed)`` and ``predict(batch, mixed)`` (one output per item, which the task decodes).

- :class:`TokenTagger`: dropout, an optional BiLSTM, then per-token scores, decoded by a
  softmax or by a linear-chain CRF (Lample et al., 2016; the ELMo paper's NER model is a
  BiLSTM-CRF over ``[GloVe; ELMo]``). ``hidden=0`` gives a linear probe.
- :class:`SentenceClassifier`: a BiLSTM over the tokens, max- and mean-pooled, then an MLP
  (the pooled-BiLSTM sentence model of the ELMo paper's SST experiments, simplified).
- :class:`MultiLabelClassifier`: the same pooled BiLSTM with one sigmoid per label
  (binary cross-entropy), for tasks with a set of labels per text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from elmo.errors import ConfigError
from tasks.batching import Batch
from tasks.crf import ConditionalRandomField, allowed_transitions


@runtime_checkable
class Head(Protocol):
    """What the shared LightningModule needs of a task head (an ``nn.Module``).

    ``name`` is the head's name in rows (its config's ``name``; the class name when None).
    """

    name: str | None

    def loss(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        """The training loss of a batch; ``mixed`` holds ``(batch, time, dim)`` per input sequence."""
        ...

    def predict(self, batch: Batch, mixed: list[torch.Tensor]) -> list[Any]:
        """One output per item of the batch, in the form the task's ``decode`` reads."""
        ...


class BiLstmEncoder(nn.Module):
    """A (multi-layer) bidirectional LSTM over right-padded, masked sequences.

    Each direction of each layer is its own one-way ``nn.LSTM`` run on the padded batch:
    the forward one reads the tokens as they are (padding only follows a sequence, so it
    cannot reach a real token's state), the backward one reads each sequence reversed
    within its own length. This computes exactly what a bidirectional ``nn.LSTM`` over a
    ``PackedSequence`` does, and keeps its weight initialisation (the modules are built
    in the order it draws its parameters), but runs as one fused call per direction: on
    CPU, PyTorch's packed path with unequal lengths is several times slower (see
    ``benchmarks/lstm_packing.py``). Outputs at padded positions are zero.
    """

    def __init__(self, input_dim: int, hidden: int, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if num_layers < 1:
            raise ConfigError(f"a BiLSTM needs at least one layer, got num_layers={num_layers}")
        self.forward_layers, self.backward_layers = nn.ModuleList(), nn.ModuleList()
        for layer in range(num_layers):
            width = input_dim if layer == 0 else 2 * hidden
            self.forward_layers.append(nn.LSTM(width, hidden, batch_first=True))
            self.backward_layers.append(nn.LSTM(width, hidden, batch_first=True))
        self.between_layers = nn.Dropout(dropout if num_layers > 1 else 0.0)
        self.output_dim = 2 * hidden

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(batch, time, dim)`` features and their ``(batch, time)`` mask -> ``(batch, time, 2 * hidden)``."""
        time = torch.arange(inputs.shape[1], device=inputs.device)
        lengths = mask.sum(dim=1, keepdim=True)
        # position t of a sequence of length n holds token n - 1 - t when reversed; padding stays put
        reverse = torch.where(time < lengths, lengths - 1 - time, time).unsqueeze(-1)
        keep = mask.unsqueeze(-1).to(inputs.dtype)
        output = inputs
        for layer, (forward_lstm, backward_lstm) in enumerate(zip(self.forward_layers, self.backward_layers)):
            if layer > 0:
                output = self.between_layers(output)
            forward_states, _ = forward_lstm(output)
            flipped = output.gather(1, reverse.expand(-1, -1, output.shape[-1]))
            backward_states, _ = backward_lstm(flipped)
            backward_states = backward_states.gather(1, reverse.expand(-1, -1, backward_states.shape[-1]))
            output = torch.cat([forward_states, backward_states], dim=-1) * keep
        return output


class TokenTagger(nn.Module):
    """One tag per token: ``scores = W . BiLSTM(dropout(mixed))`` (or ``W . dropout(mixed)``).

    Args:
        input_dim: width of the mixed features.
        labels: the tag set, in index order.
        hidden: BiLSTM units per direction; 0 for a linear probe straight on the features.
        num_layers: BiLSTM layers.
        dropout: on the features and on the BiLSTM's output.
        crf: decode with a linear-chain CRF instead of per-token argmax.
        scheme: ``BIO`` or ``BIOES`` to forbid impossible transitions in the CRF; None for none.
        name: the head's name in rows.
    """

    def __init__(
        self,
        input_dim: int,
        labels: Sequence[str],
        hidden: int = 128,
        num_layers: int = 1,
        dropout: float = 0.5,
        crf: bool = False,
        scheme: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.dropout = nn.Dropout(dropout)
        self.encoder = BiLstmEncoder(input_dim, hidden, num_layers, dropout) if hidden > 0 else None
        width = self.encoder.output_dim if self.encoder else input_dim
        self.scores = nn.Linear(width, len(labels))
        allowed = allowed_transitions(labels, scheme) if crf and scheme else None
        self.crf = ConditionalRandomField(len(labels), allowed) if crf else None

    def _emissions(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        features = self.dropout(mixed[0])  # (batch, time, dim)
        if self.encoder is not None:
            features = self.dropout(self.encoder(features, batch.masks[0]))
        return self.scores(features)  # (batch, time, tags)

    def loss(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        emissions = self._emissions(batch, mixed)
        mask = batch.masks[0]
        if self.crf is not None:
            return self.crf(emissions, batch.targets.clamp(min=0), mask)
        return nn.functional.cross_entropy(emissions[mask], batch.targets[mask])

    def predict(self, batch: Batch, mixed: list[torch.Tensor]) -> list[list[int]]:
        emissions = self._emissions(batch, mixed)
        mask = batch.masks[0]
        if self.crf is not None:
            return self.crf.decode(emissions, mask)
        best = emissions.argmax(dim=-1)
        return [row[: int(n)].tolist() for row, n in zip(best, mask.sum(dim=1), strict=True)]


class SentenceClassifier(nn.Module):
    """``MLP([max_t h_t; mean_t h_t])`` over ``h = BiLSTM(dropout(mixed))``.

    Args:
        input_dim: width of the mixed features.
        labels: the classes, in index order.
        hidden: BiLSTM units per direction.
        mlp_hidden: width of the MLP's hidden layer.
        dropout: on the features, the pooled vector and the MLP's hidden layer.
        name: the head's name in rows.
    """

    def __init__(
        self,
        input_dim: int,
        labels: Sequence[str],
        hidden: int = 128,
        mlp_hidden: int = 128,
        dropout: float = 0.5,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.dropout = nn.Dropout(dropout)
        self.encoder = BiLstmEncoder(input_dim, hidden)
        self.mlp = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(2 * self.encoder.output_dim, mlp_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_hidden, len(labels)),
        )

    def logits(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        """``(batch, classes)`` scores from the pooled BiLSTM states."""
        mask = batch.masks[0]
        states = self.encoder(self.dropout(mixed[0]), mask)  # (batch, time, 2 * hidden)
        inside = mask.unsqueeze(-1)
        largest = states.masked_fill(~inside, float("-inf")).max(dim=1).values
        largest = torch.where(torch.isfinite(largest), largest, torch.zeros_like(largest))  # empty rows
        mean = (states * inside).sum(dim=1) / inside.sum(dim=1).clamp(min=1)
        return self.mlp(torch.cat([largest, mean], dim=-1))  # (batch, classes)

    def loss(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        return nn.functional.cross_entropy(self.logits(batch, mixed), batch.targets)

    def predict(self, batch: Batch, mixed: list[torch.Tensor]) -> list[int]:
        return self.logits(batch, mixed).argmax(dim=-1).tolist()


class MultiLabelClassifier(SentenceClassifier):
    """A set of labels per text: the pooled BiLSTM of :class:`SentenceClassifier` with one
    sigmoid per label, trained with binary cross-entropy; a label is predicted when its
    probability passes ``threshold``.

    Args:
        threshold: the probability above which a label is predicted.
        **kwargs: see :class:`SentenceClassifier`.
    """

    def __init__(self, input_dim: int, labels: Sequence[str], threshold: float = 0.5, **kwargs: Any) -> None:
        super().__init__(input_dim, labels, **kwargs)
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"head.threshold must be between 0 and 1, got {threshold}")
        self.threshold = threshold

    def loss(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(self.logits(batch, mixed), batch.targets)

    def predict(self, batch: Batch, mixed: list[torch.Tensor]) -> list[list[int]]:
        chosen = torch.sigmoid(self.logits(batch, mixed)) > self.threshold  # (batch, labels)
        return [row.nonzero().flatten().tolist() for row in chosen]
