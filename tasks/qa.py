"""Extractive question answering on SQuAD v1.1 with a BiDAF head; EM and F1 (percent).

Seo et al. (2017), "Bidirectional Attention Flow for Machine Comprehension" (ICLR),
simplified for a CPU (no character CNN, no highway layers: the frozen embedder's scalar
mix is the word representation). With ``c_t`` the encoded context and ``q_j`` the encoded
question:

- similarity ``S_tj = w^T [c_t; q_j; c_t * q_j]``
- context-to-question ``a_t = softmax_j(S_tj)``, ``q~_t = sum_j a_tj q_j``
- question-to-context ``b = softmax_t(max_j S_tj)``, ``h~ = sum_t b_t c_t`` (tiled over t)
- ``G_t = [c_t; q~_t; c_t * q~_t; c_t * h~]``, ``M = BiLSTM(G)``, ``M2 = BiLSTM(M)``
- ``p_start = softmax(w1^T [G; M])``, ``p_end = softmax(w2^T [G; M2])``; the answer is
  ``argmax_{i <= j < i + max_answer_length} log p_start(i) + log p_end(j)``.

A paragraph is embedded once, whole, by the frozen embedder; a context longer than
``max_context`` tokens is read in windows (``stride`` tokens apart) that slice the cached
features, and each question's answer comes from its best-scoring window.

Offline only the official dev set exists, so it is split by article into train, dev and
test (every result row says so in its note); with the hub, the official train split is
divided by article into train and dev, and the official validation split is the test.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from elmo.errors import ConfigError
from elmo.io import write_json_atomic
from tasks.batching import Batch
from tasks.data.files import DataFormatError
from tasks.data.hub import load_hub
from tasks.data.source import SPLITS, split_caps, check_nonempty, data_source, resolve_path
from tasks.data.squad import SquadExample, read_squad, split_by_article
from tasks.heads import BiLstmEncoder, Head
from tasks.metrics import squad_parts, squad_scores
from tasks.task import ExampleScores, Item, Split, Task

logger = logging.getLogger(__name__)


def context_windows(length: int, max_context: int, stride: int) -> list[tuple[int, int]]:
    """``(first, end)`` token ranges of ``max_context`` tokens every ``stride`` tokens.

    The last window ends at ``length``; a context no longer than ``max_context`` is one window.
    """
    last = max(length - max_context, 0)
    return [(start, min(start + max_context, length)) for start in [*range(0, last, stride), last]]


def window_target(spans: Sequence[tuple[int, int]], first: int, end: int) -> tuple[int, int] | None:
    """The first answer span (inclusive token indices) lying wholly in ``[first, end)``, made
    relative to the window; None when no answer fits."""
    for start, last in spans:
        if first <= start and last < end:
            return start - first, last - first
    return None


def best_spans(
    start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor, max_answer_length: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The span maximising ``log p_start(i) + log p_end(j)`` with ``i <= j < i + max_answer_length``.

    Args:
        start_logits: ``(batch, time)`` start scores.
        end_logits: ``(batch, time)`` end scores.
        mask: ``(batch, time)`` bool, True on real tokens (at least one per row).
        max_answer_length: the longest answer, in tokens.

    Returns:
        ``(batch,)`` starts, ends (inclusive) and their log-probability scores.
    """
    hidden = torch.finfo(start_logits.dtype).min
    log_start = start_logits.masked_fill(~mask, hidden).log_softmax(dim=-1)  # (batch, time)
    log_end = end_logits.masked_fill(~mask, hidden).log_softmax(dim=-1)  # (batch, time)
    time = mask.shape[1]
    band = torch.ones(time, time, dtype=torch.bool, device=mask.device).triu().tril(max_answer_length - 1)
    allowed = band & mask.unsqueeze(1) & mask.unsqueeze(2)  # (batch, start, end)
    pairs = (log_start.unsqueeze(2) + log_end.unsqueeze(1)).masked_fill(~allowed, float("-inf"))
    scores, flat = pairs.flatten(1).max(dim=1)  # (batch,)
    return flat // time, flat % time, scores


class BidafHead(nn.Module):
    """BiDAF over a context window and its question (see the module docstring).

    Args:
        input_dim: width of the mixed features.
        hidden: units per direction of every BiLSTM.
        modeling_layers: layers of the modelling BiLSTM that reads ``G``.
        dropout: on the features and on the input of every later layer.
        max_answer_length: the longest answer ``predict`` returns, in tokens.
    """

    def __init__(
        self, input_dim: int, hidden: int = 64, modeling_layers: int = 1, dropout: float = 0.2,
        max_answer_length: int = 30, name: str | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        if max_answer_length < 1:
            raise ConfigError(f"head.max_answer_length must be at least 1, got {max_answer_length}")
        self.max_answer_length = max_answer_length
        self.dropout = nn.Dropout(dropout)
        self.encoder = BiLstmEncoder(input_dim, hidden)
        width = self.encoder.output_dim
        # w = [w_c; w_q; w_cq], applied term by term so no (batch, T, J, 3 * width) tensor is built.
        self.similarity = nn.Linear(3 * width, 1, bias=False)  # a bias cancels in both softmaxes
        self.modeling = BiLstmEncoder(4 * width, hidden, modeling_layers, dropout)
        self.end_encoder = BiLstmEncoder(width, hidden)
        self.start_scores = nn.Linear(5 * width, 1)
        self.end_scores = nn.Linear(5 * width, 1)

    def _logits(self, batch: Batch, mixed: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        context_mask, question_mask = batch.masks
        c = self.encoder(self.dropout(mixed[0]), context_mask)  # (batch, T, width)
        q = self.encoder(self.dropout(mixed[1]), question_mask)  # (batch, J, width)
        w_c, w_q, w_cq = self.similarity.weight.view(3, -1)
        similarity = (
            (c @ w_c).unsqueeze(2) + (q @ w_q).unsqueeze(1) + (c * w_cq) @ q.transpose(1, 2)
        ).masked_fill(~question_mask.unsqueeze(1), float("-inf"))  # (batch, T, J)
        q_tilde = similarity.softmax(dim=2) @ q  # (batch, T, width)
        b = similarity.max(dim=2).values.masked_fill(~context_mask, float("-inf")).softmax(dim=1)  # (batch, T)
        h_tilde = b.unsqueeze(1) @ c  # (batch, 1, width)
        g = torch.cat([c, q_tilde, c * q_tilde, c * h_tilde], dim=-1)  # (batch, T, 4 * width)
        m = self.modeling(self.dropout(g), context_mask)  # (batch, T, width)
        m2 = self.end_encoder(self.dropout(m), context_mask)  # (batch, T, width)
        start = self.start_scores(self.dropout(torch.cat([g, m], dim=-1))).squeeze(-1)  # (batch, T)
        end = self.end_scores(self.dropout(torch.cat([g, m2], dim=-1))).squeeze(-1)  # (batch, T)
        outside = ~context_mask  # padding is never an answer
        return start.masked_fill(outside, float("-inf")), end.masked_fill(outside, float("-inf"))

    def loss(self, batch: Batch, mixed: list[torch.Tensor]) -> torch.Tensor:
        """``CE(start) + CE(end)``, averaged over the items (every item must have a target)."""
        start, end = self._logits(batch, mixed)
        targets = batch.targets
        return nn.functional.cross_entropy(start, targets[:, 0]) + nn.functional.cross_entropy(end, targets[:, 1])

    def predict(self, batch: Batch, mixed: list[torch.Tensor]) -> list[tuple[int, int, float]]:
        """Per item, the best span's ``(start, end, score)`` in window tokens (end inclusive)."""
        start, end = self._logits(batch, mixed)
        starts, ends, scores = best_spans(start, end, batch.masks[0], self.max_answer_length)
        return list(zip(starts.tolist(), ends.tolist(), scores.tolist(), strict=True))


class QaTask(Task):
    """SQuAD v1.1 extractive QA, scored by the official EM and F1 (percent).

    Args:
        files: ``{squad: path}``, one SQuAD v1.1 JSON file (plain, gzip or zip) split by
            article into train, dev and test.
        hub: the Hugging Face fallback: ``{name, splits: {train, test}}``; its train split
            is divided by article into train and dev, its ``test`` split is the test.
        head: a partial head taking ``input_dim``.
        max_samples: cap on questions, for every split or ``{split: cap}``, applied after
            the article split.
        split_seed: seed of the article shuffle.
        split_fractions: train, dev and test shares of the articles (with the hub, only
            the train:dev ratio is used).
        max_context: context tokens per window.
        stride: tokens between the starts of consecutive windows.
        on_misaligned: ``raise`` on an answer not at its ``answer_start``, or ``drop`` it.
        name: overrides the report name.
        dataset: overrides the dataset's report name.
    """

    name = "qa"
    dataset = "squad_v1.1"
    metric = "f1"
    secondary_metrics = ("em",)
    label_kind = "span"
    prediction_format = "json"

    def __init__(
        self,
        files: dict[str, str | None] | None,
        hub: dict[str, Any] | None,
        head: Callable[..., Head],
        max_samples: dict[str, int | None] | int | None = None,
        split_seed: int = 0,
        split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
        max_context: int = 256,
        stride: int = 128,
        on_misaligned: Literal["raise", "drop"] = "raise",
        name: str | None = None,
        dataset: str | None = None,
    ) -> None:
        super().__init__(name, dataset)
        if max_context < 1 or not 1 <= stride <= max_context:
            raise ConfigError(
                f"task.max_context must be positive and 1 <= task.stride <= max_context, "
                f"got max_context={max_context}, stride={stride}"
            )
        if on_misaligned not in ("raise", "drop"):
            raise ConfigError(f"task.on_misaligned must be 'raise' or 'drop', got {on_misaligned!r}")
        self.files, self.hub, self.head = files, hub, head
        self.caps = split_caps(max_samples)
        self.split_seed = split_seed
        self.split_fractions = tuple(float(f) for f in split_fractions)
        if len(self.split_fractions) != 3 or min(self.split_fractions) < 0 or not 0.999 <= sum(self.split_fractions) <= 1.001:
            raise ConfigError(f"task.split_fractions must be three shares >= 0 summing to 1, got {list(split_fractions)}")
        self.max_context, self.stride = max_context, stride
        self.on_misaligned = on_misaligned

    def load(self) -> dict[str, Split]:
        raw, how = self._read()
        splits = {}
        for name, (examples, source) in raw.items():
            cap = self.caps.get(name)
            examples = examples[:cap] if cap is not None else examples
            check_nonempty(examples, name, source)
            splits[name] = self.make_split(name, source, examples, training=name == "train")
        counts = ", ".join(
            f"{name} {len({e.article_title for e in s.examples})} articles / {len(s.examples)} questions"
            for name, s in splits.items()
        )
        capped = " (max_samples caps applied after the article split)" if any(self.caps.values()) else ""
        self.note = f"{how}: {counts}{capped}."
        return splits

    def _read(self) -> tuple[dict[str, tuple[list[SquadExample], str]], str]:
        """``{split: (examples, source)}``, split by article, and a sentence saying how."""
        if data_source(self.files, self.hub, self.name) == "files":
            path = resolve_path((self.files or {}).get("squad"))
            if path is None:
                raise ConfigError(f"{self.name}: set task.files.squad to a SQuAD v1.1 JSON file")
            examples = read_squad(path, on_misaligned=self.on_misaligned)
            parts = split_by_article(examples, self.split_fractions, self.split_seed)
            fractions = "/".join(f"{f:g}" for f in self.split_fractions)
            how = (
                f"SQuAD v1.1 without its train set (offline only the official dev set exists): "
                f"{path.name} split by article (seed {self.split_seed}, fractions {fractions}) into train/dev/test"
            )
            return {name: (part, f"{path} [{name} articles]") for name, part in zip(SPLITS, parts, strict=True)}, how
        assert self.hub is not None
        name = self.hub["name"]
        hub_splits = {"train": "train", "test": "validation", **(self.hub.get("splits") or {})}
        train_share, dev_share = self.split_fractions[:2]
        if dev_share <= 0 or train_share <= 0:
            raise ConfigError(f"task.split_fractions {self.split_fractions} leaves train or dev without articles")
        options = {"config": self.hub.get("config"), "revision": self.hub.get("revision"), "on_misaligned": self.on_misaligned}
        hub_train = load_hub(name, hub_splits["train"], **options)
        test = load_hub(name, hub_splits["test"], **options)
        dev_fraction = dev_share / (train_share + dev_share)
        # The last part takes what rounding leaves, so it is the dev split here and nothing is lost.
        train, _, dev = split_by_article(hub_train, (1.0 - dev_fraction, 0.0, dev_fraction), self.split_seed)
        how = (
            f"SQuAD v1.1 from the hub ({name}): its {hub_splits['train']} split divided by article "
            f"(seed {self.split_seed}, dev fraction {dev_fraction:.3g}) into train/dev, its "
            f"{hub_splits['test']} split the test"
        )
        source = f"hub {name}"
        return {
            "train": (train, f"{source}[{hub_splits['train']}] train articles"),
            "dev": (dev, f"{source}[{hub_splits['train']}] dev articles"),
            "test": (test, f"{source}[{hub_splits['test']}]"),
        }, how

    def make_split(self, name: str, source: str, examples: list[SquadExample], training: bool) -> Split:
        """The split's texts (each distinct context and question once) and window items.

        Training keeps only windows holding an answer; evaluation keeps every window.
        """
        split = Split(name, source, examples)
        unreachable = 0
        for index, example in enumerate(examples):
            context_tokens, question_tokens = example.context_tokens, example.question_tokens
            if not question_tokens:
                raise DataFormatError(source, f"question {example.question_id!r} has no tokens")
            context = split.add_text(context_tokens)
            question = split.add_text(question_tokens)
            spans = example.answer_token_spans
            found = False
            for first, end in context_windows(len(context_tokens), self.max_context, self.stride):
                target = window_target(spans, first, end)
                found = found or target is not None
                if target is not None or not training:
                    split.items.append(Item(index, ((context, first, end), (question, 0, len(question_tokens))), target))
            unreachable += not found
        if training and unreachable:
            logger.warning(
                "%s/%s: %d of %d questions have no window of %d tokens holding a whole answer; "
                "they are not trained on", self.name, name, unreachable, len(examples), self.max_context,
            )
        logger.info("%s/%s: %d questions, %d texts, %d windows", self.name, name, len(examples), len(split.texts), len(split.items))
        return split

    def build_head(self, input_dim: int) -> Head:
        return self.head(input_dim=input_dim)

    def targets(self, items: Sequence[Item]) -> torch.Tensor:
        """``(batch, 2)`` start and end in window tokens; -1 for a window without an answer."""
        return torch.tensor([item.target or (-1, -1) for item in items], dtype=torch.long)

    def decode(self, split: Split, outputs: list[tuple[Item, Any]]) -> list[str]:
        """Each question's answer: the best-scoring window's span, as context text."""
        best: dict[int, tuple[float, int, int]] = {}
        for item, (start, end, score) in outputs:
            first = item.slots[0][1]
            if item.example not in best or score > best[item.example][0]:
                best[item.example] = (score, first + start, first + end)
        missing = [e.question_id for i, e in enumerate(split.examples) if i not in best]
        if missing:
            raise RuntimeError(f"{self.name}/{split.name}: no prediction for questions {missing[:5]}")
        return [example.span_text(*best[i][1:]) for i, example in enumerate(split.examples)]

    def score(self, split: Split, predictions: list[str]) -> dict[str, float]:
        return squad_scores(predictions, [example.answers for example in split.examples])

    def read_predictions(self, path: Path, split: Split) -> list[str]:
        """The answer of every question of the split from ``{question id: answer text}``."""
        try:
            answers = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DataFormatError(str(path), f"not a JSON object of answers: {error}") from None
        if not isinstance(answers, dict):
            raise DataFormatError(str(path), "expected a JSON object {question id: answer text}")
        missing = [e.question_id for e in split.examples if e.question_id not in answers]
        if missing:
            raise DataFormatError(str(path), f"no answer for questions {missing[:5]}")
        return [answers[example.question_id] for example in split.examples]

    def example_scores(self, split: Split, predictions: list[str]) -> dict[str, ExampleScores]:
        parts = squad_parts(predictions, [example.answers for example in split.examples])
        return {name: ExampleScores(num, den) for name, (num, den) in parts.items()}

    def write_predictions(self, path: Path, split: Split, predictions: list[str]) -> None:
        """``{question id: answer text}``, the official evaluation script's input."""
        write_json_atomic(
            path, {example.question_id: text for example, text in zip(split.examples, predictions, strict=True)}
        )
