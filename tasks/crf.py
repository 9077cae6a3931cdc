"""A linear-chain conditional random field: the output layer of the BiLSTM-CRF tagger of
Lample et al. (2016), "Neural Architectures for Named Entity Recognition", the NER head of
the ELMo paper (Peters et al., 2018).

For emission scores ``P`` (time, tags) from the encoder, learned transition scores ``A``
(``A[i, j]``: tag ``i`` followed by tag ``j``), start scores ``s`` and end scores ``e``,
a tag sequence ``y_1..y_n`` scores::

    score(x, y) = s[y_1] + sum_{t=1..n} P[t, y_t] + sum_{t=2..n} A[y_{t-1}, y_t] + e[y_n]
    log p(y | x) = score(x, y) - log Z(x),   log Z(x) = logsumexp over all y' of score(x, y')

(the paper writes ``s`` and ``e`` as transitions from and to extra start and end tags).
``log Z`` comes from the forward algorithm and the best path from Viterbi, both
``O(time * tags^2)`` and vectorised over the batch. Transitions a tagging scheme forbids
(``I-PER`` after ``O`` in BIO) get ``DISALLOWED_SCORE`` added in training and decoding
alike, so the decoded path is always well-formed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from tasks.data.schemes import split_tag

#: Added to the score of a forbidden transition: finite, so ``log Z`` and its gradient
#: stay finite, yet far below any score a real path reaches.
DISALLOWED_SCORE = -1e4


def allowed_transitions(labels: Sequence[str], scheme: Literal["BIO", "BIOES"]) -> torch.Tensor:
    """Which tag may follow which in a tagging scheme.

    Args:
        labels: the tag of each index, ``O`` or a prefix and type (``B-PER``).
        scheme: ``BIO`` (IOB2: ``I-X`` only after ``B-X`` or ``I-X``) or ``BIOES`` (also
            ``B-X``/``I-X`` must go on with ``I-X`` or ``E-X``; ``E-X`` only after those).

    Returns:
        ``(tags + 2, tags + 2)`` bool, ``[from, to]``; index ``tags`` is the start of the
        sentence (a "from" only) and ``tags + 1`` its end (a "to" only).

    Raises:
        ValueError: an unknown scheme, or a label that is not a tag of the scheme.
    """
    if scheme not in ("BIO", "BIOES"):
        raise ValueError(f"unknown tagging scheme {scheme!r}, expected BIO or BIOES")
    parts = [split_tag(label, position) for position, label in enumerate(labels)]
    for label, (prefix, _) in zip(labels, parts, strict=True):
        if prefix not in scheme:
            raise ValueError(f"label {label!r} is not a {scheme} tag")
    num_tags = len(labels)
    # Start opens no entity; end continues none.
    sources = [*parts, ("O", ""), ("END", "")]
    targets = [*parts, ("START", ""), ("O", "")]
    allowed = torch.zeros(num_tags + 2, num_tags + 2, dtype=torch.bool)
    for i, (from_prefix, from_type) in enumerate(sources):
        for j, (to_prefix, to_type) in enumerate(targets):
            if from_prefix == "END" or to_prefix == "START":
                continue
            inside = from_prefix in ("B", "I")  # an entity runs up to this tag
            continues = to_prefix in ("I", "E")  # this tag extends the entity before it
            if continues and not (inside and from_type == to_type):
                continue
            if scheme == "BIOES" and inside and not continues:  # B-/I- are closed by E-
                continue
            allowed[i, j] = True
    return allowed


class ConditionalRandomField(nn.Module):
    """Linear-chain CRF over emission scores: the negative log-likelihood and Viterbi decoding.

    Args:
        num_tags: number of tags.
        allowed: ``(num_tags + 2, num_tags + 2)`` bool from :func:`allowed_transitions`;
            ``None`` allows every transition.

    Masks mark the real tokens of each row: a prefix of at least one token, then padding.
    """

    def __init__(self, num_tags: int, allowed: torch.Tensor | None = None) -> None:
        super().__init__()
        if allowed is None:
            allowed = torch.ones(num_tags + 2, num_tags + 2, dtype=torch.bool)
        elif tuple(allowed.shape) != (num_tags + 2, num_tags + 2):
            raise ValueError(
                f"allowed has shape {tuple(allowed.shape)}, expected {(num_tags + 2, num_tags + 2)}"
            )
        self.num_tags = num_tags
        # No preference between tags at first: the emissions break the symmetry.
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # [from, to]
        self.start_scores = nn.Parameter(torch.zeros(num_tags))
        self.end_scores = nn.Parameter(torch.zeros(num_tags))
        penalty = torch.where(allowed.bool(), 0.0, DISALLOWED_SCORE)
        # Derived from the labels, not learned: kept out of checkpoints.
        self.register_buffer("_penalty", penalty, persistent=False)
        self._penalty: torch.Tensor

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition ``(tags, tags)``, start and end ``(tags,)`` scores, penalties added."""
        n = self.num_tags
        return (
            self.transitions + self._penalty[:n, :n],
            self.start_scores + self._penalty[n, :n],
            self.end_scores + self._penalty[:n, n + 1],
        )

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of ``-log p(tags | emissions)``.

        Args:
            emissions: ``(batch, time, tags)`` scores.
            tags: ``(batch, time)`` long gold tags; padded positions are ignored (any value).
            mask: ``(batch, time)`` bool, true at real tokens.

        Returns:
            A scalar.
        """
        transitions, start, end = self._scores()
        tags = tags.masked_fill(~mask, 0)
        return (self._log_partition(emissions, mask, transitions, start, end)
                - self._path_score(emissions, tags, mask, transitions, start, end)).mean()

    @staticmethod
    def _path_score(
        emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor,
        transitions: torch.Tensor, start: torch.Tensor, end: torch.Tensor,
    ) -> torch.Tensor:
        """``score(x, y)`` of each row's tags: ``(batch,)``."""
        real = mask.to(emissions.dtype)  # (batch, time)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, time)
        moved = transitions[tags[:, :-1], tags[:, 1:]]  # (batch, time - 1)
        last = tags.gather(1, (mask.sum(dim=1) - 1).unsqueeze(1)).squeeze(1)  # (batch,)
        inner = (emitted * real).sum(dim=1) + (moved * real[:, 1:]).sum(dim=1)
        return start[tags[:, 0]] + inner + end[last]

    @staticmethod
    def _log_partition(
        emissions: torch.Tensor, mask: torch.Tensor,
        transitions: torch.Tensor, start: torch.Tensor, end: torch.Tensor,
    ) -> torch.Tensor:
        """``log Z(x)`` of each row by the forward algorithm: ``(batch,)``."""
        alpha = start + emissions[:, 0]  # (batch, tags): log-sum of paths ending in each tag
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)  # padding: carry over
        return torch.logsumexp(alpha + end, dim=1)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The highest-scoring tag sequence of each row (Viterbi).

        Args:
            emissions: ``(batch, time, tags)`` scores.
            mask: ``(batch, time)`` bool, true at real tokens.

        Returns:
            One list of tag indices per row, as long as the row's real tokens.
        """
        with torch.no_grad():
            transitions, start, end = self._scores()
            batch, time, num_tags = emissions.shape
            stay = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
            score = start + emissions[:, 0]  # (batch, tags): best path ending in each tag
            backpointers = []  # per step: (batch, tags) best previous tag of each tag
            for t in range(1, time):
                best, previous = (score.unsqueeze(2) + transitions).max(dim=1)
                real = mask[:, t].unsqueeze(1)
                score = torch.where(real, best + emissions[:, t], score)
                backpointers.append(torch.where(real, previous, stay))  # padding: stay put
            tag = (score + end).argmax(dim=1)  # (batch,)
            path = [tag]
            for previous in reversed(backpointers):
                tag = previous.gather(1, tag.unsqueeze(1)).squeeze(1)
                path.append(tag)
            rows = torch.stack(path[::-1], dim=1).tolist()  # (batch, time)
        return [row[:length] for row, length in zip(rows, mask.sum(dim=1).tolist(), strict=True)]
