"""Tag scheme conversions: IOB1 to IOB2 and BIOES."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.data.conll import read_conll
from tasks.data.schemes import iob1_to_bioes, iob1_to_iob2, iob2_to_bioes

DATA = Path(__file__).parent


def test_iob1_to_iob2_starts_every_entity_with_b():
    tags = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG", "I-MISC", "O", "B-PER"]

    assert iob1_to_iob2(tags) == [
        "B-PER",
        "I-PER",
        "O",
        "B-LOC",
        "B-LOC",
        "I-LOC",
        "B-ORG",
        "B-MISC",
        "O",
        "B-PER",
    ]


def test_iob1_to_bioes():
    tags = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-LOC", "I-ORG"]

    assert iob1_to_bioes(tags) == [
        "B-PER",
        "E-PER",
        "O",
        "S-LOC",
        "B-LOC",
        "I-LOC",
        "E-LOC",
        "S-ORG",
    ]


def test_iob2_is_unchanged_by_iob1_to_iob2():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "O"]

    assert iob1_to_iob2(tags) == tags
    assert iob2_to_bioes(tags) == ["B-PER", "E-PER", "O", "S-LOC", "S-LOC", "O"]


def test_iob2_to_bioes_rejects_an_entity_opened_by_i():
    with pytest.raises(ValueError, match=r"'I-LOC' at position 1 does not continue an entity"):
        iob2_to_bioes(["O", "I-LOC"])


@pytest.mark.parametrize("bad", ["PER", "B_PER", "B-", "X-PER"])
def test_scheme_conversion_rejects_malformed_tags(bad):
    with pytest.raises(ValueError, match=f"tag '{bad}' at position 1"):
        iob1_to_iob2(["O", bad])


def test_conversion_of_the_conll_fixture():
    sentences = read_conll(DATA / "conll_iob1.txt")

    assert iob1_to_iob2(sentences[0].tags) == ["B-PER", "I-PER", "O", "B-LOC", "O"]
    assert iob1_to_bioes(sentences[1].tags) == ["B-ORG", "I-ORG", "E-ORG", "O", "S-LOC", "S-LOC"]
