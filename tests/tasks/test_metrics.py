"""Metrics on hand-made cases with numbers worked out by hand (and seqeval as the span oracle)."""

from __future__ import annotations

import pytest

from tasks.data.schemes import iob1_to_bioes, iob1_to_iob2
from tasks.metrics import (
    answer_exact_match,
    answer_f1,
    normalize_answer,
    multilabel_f1_parts,
    multilabel_scores,
    sentence_accuracy,
    span_f1,
    span_f1_parts,
    squad_parts,
    squad_scores,
    token_accuracy,
    token_accuracy_parts,
)

# ----------------------------------------------------------------------------- accuracies


def test_token_accuracy_flattens_sentences():
    gold = [["DET", "NOUN", "VERB"], ["PUNCT"]]
    predictions = [["DET", "VERB", "VERB"], ["PUNCT"]]

    assert token_accuracy(predictions, gold) == {"accuracy": 75.0}


def test_token_accuracy_counts_every_token_including_o():
    assert token_accuracy([["O", "O", "B-PER", "O"]], [["O", "O", "O", "O"]]) == {"accuracy": 75.0}


def test_token_accuracy_rejects_misaligned_input():
    with pytest.raises(ValueError, match="sentence 1: 1 predicted tags but 2 gold tags"):
        token_accuracy([["A"], ["B"]], [["A"], ["B", "C"]])
    with pytest.raises(ValueError, match="1 predicted sentences but 2 gold ones"):
        token_accuracy([["A"]], [["A"], ["B"]])
    with pytest.raises(ValueError, match="no sentences to score"):
        token_accuracy([], [])


def test_sentence_accuracy():
    assert sentence_accuracy(["1", "0", "4"], ["1", "1", "4"]) == pytest.approx({"accuracy": 200 / 3})


# ----------------------------------------------------------------------------- spans


def test_span_scores_with_wrong_type_and_wrong_boundary():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]]
    predictions = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "O"]]
    # Gold spans PER(0-1) LOC(3) ORG(1-2); predicted PER(0-1) right,
    # ORG(3) of the wrong type, ORG(1) too short.

    scores = span_f1(predictions, gold)

    assert scores == pytest.approx(
        {
            "precision": 100 / 3,
            "recall": 100 / 3,
            "f1": 100 / 3,
            "f1_PER": 100.0,
            "f1_LOC": 0.0,
            "f1_ORG": 0.0,
        }
    )


def test_same_boundaries_with_mismatched_types_score_zero():
    scores = span_f1([["B-ORG", "I-ORG", "O"]], [["B-PER", "I-PER", "O"]])

    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "f1_ORG": 0.0, "f1_PER": 0.0}


def test_i_tag_starting_an_entity_opens_a_span_by_default():
    gold = [["B-PER", "I-PER", "O", "B-LOC", "B-MISC"]]
    predictions = [["I-PER", "I-PER", "O", "I-LOC", "I-MISC"]]

    assert span_f1(predictions, gold)["f1"] == 100.0
    assert span_f1([iob1_to_iob2(predictions[0])], gold)["f1"] == 100.0
    assert span_f1(predictions, gold, mode="strict")["f1"] == 0.0


def test_i_tag_after_b_of_another_type_is_a_new_span():
    # Gold is one PER and one LOC; the prediction's I-LOC after B-PER must not extend the PER span.
    scores = span_f1([["B-PER", "I-LOC", "O"]], [["B-PER", "B-LOC", "O"]])

    assert scores["f1"] == 100.0


def test_bioes_reads_the_same_in_both_modes():
    iob1 = [["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]]
    gold = [iob1_to_bioes(tags) for tags in iob1]
    predictions = [["B-PER", "E-PER", "O", "S-LOC", "S-LOC", "S-MISC"]]

    default = span_f1(predictions, gold)
    strict = span_f1(predictions, gold, mode="strict")

    assert default == strict
    assert default["f1"] == pytest.approx(75.0)
    assert span_f1(predictions, iob1)["f1"] == pytest.approx(75.0)


@pytest.mark.parametrize(
    ("predictions", "gold"),
    [
        ([["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "O"]], [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]]),
        ([["I-PER", "I-PER", "O", "I-LOC", "I-MISC"]], [["B-PER", "I-PER", "O", "B-LOC", "B-MISC"]]),
        ([["B-PER", "I-LOC", "O"], ["O", "O"]], [["B-PER", "B-LOC", "O"], ["B-ORG", "O"]]),
    ],
)
def test_per_sentence_span_parts_sum_to_seqeval_micro_f1(predictions, gold):
    num, den = span_f1_parts(predictions, gold)
    assert len(num) == len(gold)
    assert 100 * sum(num) / sum(den) == pytest.approx(span_f1(predictions, gold)["f1"])


def test_token_and_squad_parts_sum_to_their_metrics():
    gold, predicted = [["A", "B"], ["C", "D", "E"]], [["A", "X"], ["C", "D", "E"]]
    correct, total = token_accuracy_parts(predicted, gold)
    assert (correct, total) == ([1.0, 3.0], [2.0, 3.0])
    answers, gold_answers = ["the cat", "a dog", "xyz"], [["cat"], ["dog", "big dog"], ["abc"]]
    parts = squad_parts(answers, gold_answers)
    scores = squad_scores(answers, gold_answers)
    for name, (num, den) in parts.items():
        assert 100 * sum(num) / sum(den) == pytest.approx(scores[name])


def test_multilabel_scores_against_scikit_learn_by_hand():
    predictions, gold = [("a",), ("a", "b"), ()], [("a",), ("b",), ("c",)]
    # labels a, b, c: tp a=1 b=1 c=0; fp a=1 (2nd example); fn c=1 -> micro F1 = 2*2 / (2*2 + 1 + 1)
    scores = multilabel_scores(predictions, gold)
    assert scores["micro_f1"] == pytest.approx(100 * 4 / 6)
    # per label F1: a = 2/3, b = 1, c = 0 -> macro 5/9
    assert scores["macro_f1"] == pytest.approx(100 * 5 / 9)
    assert scores["exact_match"] == pytest.approx(100 / 3)
    num, den = multilabel_f1_parts(predictions, gold)
    assert 100 * sum(num) / sum(den) == pytest.approx(scores["micro_f1"])


def test_span_f1_without_any_entity_is_zero_not_nan():
    assert span_f1([["O", "O"]], [["O", "O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_span_f1_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        span_f1([["O"]], [["O"]], mode="lenient")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- SQuAD


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("an apple a day", "apple day"),
        ("Theatre and another anthem", "theatre and another anthem"),
        ("U.S.A.", "usa"),
        ("  rock-and-roll ,\t\nlegend!  ", "rockandroll legend"),
        ("A.B.", "ab"),
        ("the", ""),
    ],
)
def test_normalize_answer(text, normalized):
    assert normalize_answer(text) == normalized


def test_exact_match_after_normalisation_against_any_gold_answer():
    assert (
        answer_exact_match("the Denver Broncos!", ["Carolina Panthers", "Denver  broncos"]) == 1.0
    )
    assert answer_exact_match("Denver", ["Denver Broncos"]) == 0.0


def test_partial_overlap_f1():
    # Normalised: prediction [quick, brown, fox, jumped], gold [quick, red, fox].
    # Shared 2: precision 2/4, recall 2/3, F1 = 2 * (1/2 * 2/3) / (1/2 + 2/3) = 4/7.
    assert answer_f1("The quick brown fox jumped", ["a quick red fox"]) == pytest.approx(4 / 7)


def test_f1_counts_repeated_tokens_as_a_bag():
    # Prediction [new, new, york], gold [new, york]: shared 2, P 2/3, R 1, F1 0.8.
    assert answer_f1("new new york", ["New York"]) == pytest.approx(0.8)
    # Prediction [new, new, york], gold [new, new, york, city]: shared 3, P 1, R 3/4, F1 6/7.
    assert answer_f1("new new york", ["New New York City"]) == pytest.approx(6 / 7)


def test_f1_takes_the_best_gold_answer():
    # "red fox" vs "quick red fox": P 1, R 2/3, F1 0.8; vs "a fox": P 1/2, R 1, F1 2/3.
    assert answer_f1("red fox", ["a fox", "quick red fox"]) == pytest.approx(0.8)


def test_answer_normalised_to_nothing_matches_exactly_but_has_no_f1():
    assert answer_exact_match("the", ["a"]) == 1.0
    assert answer_f1("the", ["a"]) == 0.0


def test_squad_scores_are_percentages_averaged_over_questions():
    predictions = ["Denver Broncos", "The quick brown fox jumped", "Paris"]
    gold = [["Denver Broncos", "the Broncos"], ["a quick red fox"], ["London"]]

    scores = squad_scores(predictions, gold)

    assert scores == pytest.approx({"em": 100 / 3, "f1": 100 * (1 + 4 / 7 + 0) / 3})


def test_squad_scores_reject_questions_without_gold():
    with pytest.raises(ValueError, match="question 1 has no gold answer"):
        squad_scores(["a", "b"], [["a"], []])
    with pytest.raises(ValueError, match="2 predicted answers but 1 gold ones"):
        squad_scores(["a", "b"], [["a"]])
