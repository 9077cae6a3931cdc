"""Task metrics as pure functions ``(predictions, gold) -> dict[str, float]``.

Accuracies and span scores are fractions in [0, 1]; SQuAD exact match and F1 are
percentages, as the official SQuAD v1.1 evaluation reports them.

SQuAD v1.1 scoring (Rajpurkar et al., 2016): both answers are normalised (lower-cased,
punctuation deleted, the articles a/an/the removed, whitespace collapsed); EM is 1 when the
normalised strings are equal; F1 is the harmonic mean of precision and recall of the
bag of normalised tokens they share. Each question takes its best score over its gold
answers, and the scores are averaged over questions and multiplied by 100.
"""

from __future__ import annotations

import re
import string
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2, IOBES


def _check_aligned(predictions: Sequence[object], gold: Sequence[object], what: str) -> None:
    if len(predictions) != len(gold):
        raise ValueError(f"{len(predictions)} predicted {what} but {len(gold)} gold ones")
    if not gold:
        raise ValueError(f"no {what} to score")


def _check_sentences(predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> None:
    _check_aligned(predictions, gold, "sentences")
    for index, (predicted, expected) in enumerate(zip(predictions, gold, strict=True)):
        if len(predicted) != len(expected):
            raise ValueError(
                f"sentence {index}: {len(predicted)} predicted tags but {len(expected)} gold tags"
            )


def token_accuracy(
    predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Fraction of tokens whose tag is right, over all sentences flattened (nothing ignored).

    Returns:
        ``{"accuracy": ...}``.
    """
    _check_sentences(predictions, gold)
    correct = sum(
        p == g
        for predicted, expected in zip(predictions, gold, strict=True)
        for p, g in zip(predicted, expected, strict=True)
    )
    total = sum(len(expected) for expected in gold)
    if total == 0:
        raise ValueError("no tokens to score")
    return {"accuracy": correct / total}


def sentence_accuracy(predictions: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """Fraction of sentences whose label is right.

    Returns:
        ``{"accuracy": ...}``.
    """
    _check_aligned(predictions, gold, "labels")
    return {"accuracy": sum(p == g for p, g in zip(predictions, gold, strict=True)) / len(gold)}


def span_f1(
    predictions: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    mode: Literal["default", "strict"] = "default",
) -> dict[str, float]:
    """Entity-level micro precision, recall and F1 with seqeval, plus F1 per entity type.

    In the default mode (conlleval's reading) any tag that changes the entity or its type
    starts a span, so an ``I-X`` after ``O`` opens an entity; it reads IOB1, IOB2 and BIOES.
    ``strict`` only counts spans well-formed in the scheme of the tags (BIOES when any
    ``E-``/``S-`` tag occurs, otherwise IOB2).

    Returns:
        ``precision``, ``recall``, ``f1`` and ``f1_<TYPE>`` for each type in gold or predictions.
    """
    _check_sentences(predictions, gold)
    gold_lists = [list(sentence) for sentence in gold]
    predicted_lists = [list(sentence) for sentence in predictions]
    if mode == "strict":
        bioes = any(
            tag[:2] in ("E-", "S-") for sentence in gold_lists + predicted_lists for tag in sentence
        )
        options = {"mode": "strict", "scheme": IOBES if bioes else IOB2}
    elif mode == "default":
        options = {}
    else:
        raise ValueError(f"mode must be 'default' or 'strict', got {mode!r}")
    with warnings.catch_warnings():
        # With no entity at all, seqeval's unused macro averages take the mean of nothing.
        warnings.simplefilter("ignore", RuntimeWarning)
        report = classification_report(
            gold_lists, predicted_lists, output_dict=True, zero_division=0, **options
        )
    micro = report["micro avg"]
    scores = {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
    }
    averages = {"micro avg", "macro avg", "weighted avg"}
    scores.update(
        {
            f"f1_{name}": float(row["f1-score"])
            for name, row in report.items()
            if name not in averages
        }
    )
    return scores


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower-case, drop punctuation and articles, collapse spaces."""
    lowered = text.lower()
    without_punctuation = "".join(char for char in lowered if char not in _PUNCTUATION)
    without_articles = _ARTICLES.sub(" ", without_punctuation)
    return " ".join(without_articles.split())


def answer_exact_match(prediction: str, gold_answers: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(answer) for answer in gold_answers))


def answer_f1(prediction: str, gold_answers: Sequence[str]) -> float:
    """Best bag-of-tokens F1 in [0, 1] between the prediction and a gold answer.

    As in SQuAD v1.1, a pair sharing no token scores 0, even when both normalise to nothing.
    """
    predicted_tokens = normalize_answer(prediction).split()
    best = 0.0
    for answer in gold_answers:
        gold_tokens = normalize_answer(answer).split()
        shared = sum((Counter(predicted_tokens) & Counter(gold_tokens)).values())
        if shared:
            precision = shared / len(predicted_tokens)
            recall = shared / len(gold_tokens)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def squad_scores(predictions: Sequence[str], gold: Sequence[Sequence[str]]) -> dict[str, float]:
    """SQuAD v1.1 exact match and F1 in percent, averaged over questions.

    Args:
        predictions: One predicted answer string per question.
        gold: The gold answer strings of each question (at least one each).

    Returns:
        ``{"em": ..., "f1": ...}`` in percent.
    """
    _check_aligned(predictions, gold, "answers")
    for index, answers in enumerate(gold):
        if not answers:
            raise ValueError(f"question {index} has no gold answer")
    exact = sum(
        answer_exact_match(p, answers) for p, answers in zip(predictions, gold, strict=True)
    )
    overlap = sum(answer_f1(p, answers) for p, answers in zip(predictions, gold, strict=True))
    return {"em": 100.0 * exact / len(gold), "f1": 100.0 * overlap / len(gold)}
