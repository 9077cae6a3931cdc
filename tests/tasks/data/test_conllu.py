"""The CoNLL-U reader on small hand-made files and on UD English EWT."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import shared_file

from tasks.data.conllu import read_conllu
from tasks.data.examples import TaggedSentence
from tasks.data.files import DataFormatError

DATA = Path(__file__).parent


def test_conllu_skips_comments_ranges_and_empty_nodes():
    sentences = read_conllu(DATA / "ud_tiny.conllu")

    assert [len(s.tokens) for s in sentences] == [5, 7, 7]
    assert sentences[1].tokens == ["Kim", "'s", "kettle", "can", "not", "whistle", "."]
    assert sentences[1].tags == ["PROPN", "PART", "NOUN", "AUX", "PART", "VERB", "PUNCT"]
    assert sentences[2].tokens == ["Ana", "reads", "novels", "and", "Ben", "poems", "."]


def test_conllu_reads_xpos_on_request():
    sentences = read_conllu(str(DATA / "ud_tiny.conllu"), tag_field="xpos")

    assert sentences[0] == TaggedSentence(
        ["Robins", "sing", "at", "dawn", "."], ["NNS", "VBP", "IN", "NN", "."]
    )


def test_conllu_max_samples():
    assert len(read_conllu(DATA / "ud_tiny.conllu", max_samples=2)) == 2


def test_conllu_wrong_column_count_names_file_and_line():
    with pytest.raises(
        DataFormatError, match=r"ud_bad_columns\.conllu, line 3: expected 10 tab-separated"
    ) as error:
        read_conllu(DATA / "ud_bad_columns.conllu")
    assert error.value.line == 3


def test_conllu_missing_blank_line_between_sentences(tmp_path):
    word = "{}\tw\tw\tNOUN\tNN\t_\t0\troot\t_\t_"
    path = tmp_path / "merged.conllu"
    path.write_text(
        "\n".join([word.format(1), word.format(2), word.format(1)]) + "\n", encoding="utf-8"
    )

    with pytest.raises(DataFormatError, match=r"line 3: expected word ID 3, found 1"):
        read_conllu(path)


def test_conllu_without_sentences_is_an_error():
    with pytest.raises(DataFormatError, match=r"ud_empty\.conllu: no sentences"):
        read_conllu(DATA / "ud_empty.conllu")


def test_unknown_tag_field_is_rejected():
    with pytest.raises(ValueError, match="tag_field"):
        read_conllu(DATA / "ud_tiny.conllu", tag_field="deprel")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "sentences", "words"),
    [
        ("en_ewt-ud-train.conllu.gz", 12_544, 204_577),
        ("en_ewt-ud-dev.conllu", 2_001, 25_147),
        ("en_ewt-ud-test.conllu", 2_077, 25_094),
    ],
)
def test_ud_english_ewt_counts(name, sentences, words):
    read = read_conllu(shared_file("ud_english_ewt", name))

    assert len(read) == sentences
    assert sum(len(s.tokens) for s in read) == words
    assert len({tag for s in read for tag in s.tags}) == 17
