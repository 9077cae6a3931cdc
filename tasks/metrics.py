"""Task metrics as pure functions ``(predictions, gold) -> dict[str, float]``.

Every metric is in percent (0-100), as the official SQuAD v1.1 evaluation and conlleval
report theirs. Beside each metric, a ``*_parts`` function gives its per-example parts
``(num, den)`` with ``metric = 100 * sum(num) / sum(den)``: the paired significance tests
resample examples and recompute the metric from these sums.

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
from seqeval.metrics.sequence_labeling import get_entities
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


def _percent(num: Sequence[float], den: Sequence[float]) -> float:
    total = sum(den)
    return 100.0 * sum(num) / total if total else 0.0


def token_accuracy_parts(
    predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
) -> tuple[list[float], list[float]]:
    """Per sentence: tokens tagged right, and tokens."""
    _check_sentences(predictions, gold)
    correct = [
        float(sum(p == g for p, g in zip(predicted, expected, strict=True)))
        for predicted, expected in zip(predictions, gold, strict=True)
    ]
    return correct, [float(len(expected)) for expected in gold]


def token_accuracy(
    predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Percent of tokens whose tag is right, over all sentences flattened (nothing ignored).

    Returns:
        ``{"accuracy": ...}``.
    """
    correct, total = token_accuracy_parts(predictions, gold)
    if sum(total) == 0:
        raise ValueError("no tokens to score")
    return {"accuracy": _percent(correct, total)}


def sentence_accuracy(predictions: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """Percent of sentences whose label is right.

    Returns:
        ``{"accuracy": ...}``.
    """
    _check_aligned(predictions, gold, "labels")
    return {"accuracy": 100.0 * sum(p == g for p, g in zip(predictions, gold, strict=True)) / len(gold)}


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
        "precision": 100.0 * float(micro["precision"]),
        "recall": 100.0 * float(micro["recall"]),
        "f1": 100.0 * float(micro["f1-score"]),
    }
    averages = {"micro avg", "macro avg", "weighted avg"}
    scores.update(
        {
            f"f1_{name}": 100.0 * float(row["f1-score"])
            for name, row in report.items()
            if name not in averages
        }
    )
    return scores


def span_f1_parts(
    predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
) -> tuple[list[float], list[float]]:
    """Per sentence ``2 tp`` and ``2 tp + fp + fn`` over exact entity spans.

    Spans are read as :func:`span_f1`'s default mode reads them (seqeval's ``get_entities``,
    conlleval's reading), so the micro F1 from these sums equals its ``f1``.
    """
    _check_sentences(predictions, gold)
    num, den = [], []
    for predicted, expected in zip(predictions, gold, strict=True):
        found, true = set(get_entities(list(predicted))), set(get_entities(list(expected)))
        tp = len(found & true)
        num.append(2.0 * tp)
        den.append(float(len(found) + len(true)))  # 2 tp + fp + fn
    return num, den


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
    parts = squad_parts(predictions, gold)
    return {name: _percent(num, den) for name, (num, den) in parts.items()}


def squad_parts(
    predictions: Sequence[str], gold: Sequence[Sequence[str]]
) -> dict[str, tuple[list[float], list[float]]]:
    """Per question its EM and F1 in [0, 1], each over 1: ``{"em": (num, den), "f1": ...}``."""
    _check_aligned(predictions, gold, "answers")
    for index, answers in enumerate(gold):
        if not answers:
            raise ValueError(f"question {index} has no gold answer")
    ones = [1.0] * len(gold)
    pairs = list(zip(predictions, gold, strict=True))
    return {
        "em": ([answer_exact_match(p, answers) for p, answers in pairs], ones),
        "f1": ([answer_f1(p, answers) for p, answers in pairs], ones),
    }


def multilabel_f1_parts(
    predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
) -> tuple[list[float], list[float]]:
    """Per example ``2 tp`` and ``2 tp + fp + fn`` over its label set (micro F1's parts)."""
    _check_aligned(predictions, gold, "label sets")
    num, den = [], []
    for predicted, expected in zip(predictions, gold, strict=True):
        found, true = set(predicted), set(expected)
        num.append(2.0 * len(found & true))
        den.append(float(len(found) + len(true)))
    return num, den


def multilabel_scores(predictions: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro and macro F1 over labels (scikit-learn) and exact-set accuracy, in percent.

    Returns:
        ``{"micro_f1": ..., "macro_f1": ..., "exact_match": ...}``; macro F1 averages the
        labels that occur in gold or predictions.
    """
    _check_aligned(predictions, gold, "label sets")
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer().fit([*gold, *predictions])
    truth, guess = binarizer.transform(gold), binarizer.transform(predictions)
    return {
        "micro_f1": 100.0 * float(f1_score(truth, guess, average="micro", zero_division=0)),
        "macro_f1": 100.0 * float(f1_score(truth, guess, average="macro", zero_division=0)),
        "exact_match": 100.0 * sum(set(p) == set(g) for p, g in zip(predictions, gold, strict=True)) / len(gold),
    }
