"""The CoNLL column reader on small hand-made files and on CoNLL-2003 and WNUT-17."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import shared_file
from seqeval.metrics.sequence_labeling import get_entities

from tasks.data.conll import read_conll
from tasks.data.examples import TaggedSentence
from tasks.data.files import DataFormatError
from tasks.data.schemes import iob1_to_bioes, iob2_to_bioes

DATA = Path(__file__).parent


def entity_count(sentences: list[list[str]]) -> int:
    """Entities in tag sequences, as seqeval (the span oracle) reads them."""
    return sum(len(get_entities(tags)) for tags in sentences)


def test_conll2003_layout_skips_docstart_and_keeps_iob1_tags():
    sentences = read_conll(DATA / "conll_iob1.txt")

    assert [len(s.tokens) for s in sentences] == [5, 6, 2]
    assert sentences[0].tokens[:2] == ["Quenna", "Vostrel"]
    assert sentences[1].tags == ["I-ORG", "I-ORG", "I-ORG", "O", "I-LOC", "B-LOC"]


def test_conll_tag_column_is_configurable():
    sentences = read_conll(DATA / "conll_iob1.txt", tag_column=1)

    assert sentences[2].tags == ["NN", "VBD"]


def test_conll_tag_column_must_not_be_the_token(tmp_path):
    with pytest.raises(DataFormatError, match="tag_column=0 is no tag column"):
        read_conll(DATA / "conll_iob1.txt", tag_column=0)
    with pytest.raises(DataFormatError, match="tag_column=4"):
        read_conll(DATA / "conll_iob1.txt", tag_column=4)


def test_wnut_layout_with_tabs_and_whitespace_only_separator_lines():
    sentences = read_conll(DATA / "wnut_tiny.conll")

    assert sentences == [
        TaggedSentence(
            ["heading", "to", "Cedar", "Point", "tmrw", "!"],
            ["O", "O", "B-location", "I-location", "O", "O"],
        ),
        TaggedSentence(["new", "Zeltrix", "phone", "is", "out"], ["O", "B-product", "O", "O", "O"]),
    ]


def test_conll_line_without_tag():
    with pytest.raises(
        DataFormatError, match=r"conll_no_tag\.txt, line 6: .*found 1: the tag is missing"
    ):
        read_conll(DATA / "conll_no_tag.txt")


def test_conll_mixed_tab_and_space_columns():
    with pytest.raises(
        DataFormatError, match=r"conll_mixed_separators\.txt, line 5: mixed tab and space"
    ):
        read_conll(DATA / "conll_mixed_separators.txt")


def test_conll_column_count_must_match_the_first_line(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("owls NNS B-NP O\nhoot VBP O\n", encoding="utf-8")

    with pytest.raises(
        DataFormatError,
        match=r"line 2: expected 4 space-separated columns .* as on line 1, found 3",
    ):
        read_conll(path)


def test_conll_empty_column(tmp_path):
    path = tmp_path / "double_space.txt"
    path.write_text("owls  O\n", encoding="utf-8")

    with pytest.raises(DataFormatError, match=r"line 1: column 2 is empty"):
        read_conll(path)


@pytest.mark.parametrize(
    ("name", "sentences", "tokens"),
    [("eng.train", 14_041, 203_621), ("eng.testa", 3_250, 51_362), ("eng.testb", 3_453, 46_435)],
)
def test_conll2003_counts_and_iob1_conversion(name, sentences, tokens):
    read = read_conll(shared_file("conll2003", name))

    assert len(read) == sentences
    assert sum(len(s.tokens) for s in read) == tokens
    assert {tag.split("-")[-1] for s in read for tag in s.tags} == {
        "O",
        "PER",
        "ORG",
        "LOC",
        "MISC",
    }
    assert any(tag.startswith("B-") for s in read for tag in s.tags)
    bioes = [iob1_to_bioes(s.tags) for s in read]
    assert entity_count(bioes) == entity_count([s.tags for s in read])


@pytest.mark.parametrize(
    ("name", "sentences"),
    [
        ("wnut17train.conll", 3_394),
        ("emerging.dev.conll", 1_009),
        ("emerging.test.annotated", 1_287),
    ],
)
def test_wnut17_counts(name, sentences):
    read = read_conll(shared_file("wnut17", name))

    assert len(read) == sentences
    assert {tag[2:] for s in read for tag in s.tags if tag != "O"} == {
        "corporation",
        "creative-work",
        "group",
        "location",
        "person",
        "product",
    }
    assert entity_count([iob2_to_bioes(s.tags) for s in read]) == entity_count(
        [s.tags for s in read]
    )
