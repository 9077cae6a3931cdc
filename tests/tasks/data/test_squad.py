"""The SQuAD reader, its token spans, the article split, and the real dev set's counts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from data_helpers import shared_file

from tasks.data.files import DataFormatError
from tasks.data.squad import SquadExample, read_squad, split_by_article, tokenize_with_offsets

DATA = Path(__file__).parent


def test_squad_flattens_questions():
    examples = read_squad(DATA / "squad_tiny.json")

    assert [e.question_id for e in examples] == ["lh-1", "lh-2", "lh-3", "hb-1", "hb-2", "gl-1"]
    assert examples[1].article_title == "Lighthouses"
    assert examples[1].answers == ["about 100 metres", "100 metres"]
    assert examples[1].answer_starts == [67, 73]
    assert examples[4].context == examples[3].context


def test_squad_token_spans_recover_the_answers():
    for example in read_squad(DATA / "squad_tiny.json"):
        for answer, (first, last) in zip(example.answers, example.answer_token_spans, strict=True):
            assert example.span_text(first, last) == answer
    example = read_squad(DATA / "squad_tiny.json")[2]
    first, last = example.answer_token_spans[0]
    assert example.context_tokens[first : last + 1] == ["Augustin", "-", "Jean", "Fresnel"]
    assert example.question_tokens[-2:] == ["lighthouses", "?"]
    assert [example.context[start:end] for start, end in example.context_offsets] == (
        example.context_tokens
    )


def test_answer_inside_a_word_covers_the_whole_token():
    example = SquadExample("q", "t", "The 1990s were loud.", "When?", ["1990"], [4])

    assert example.answer_token_spans == [(1, 1)]
    assert example.span_text(1, 1) == "1990s"


def test_tokenize_with_offsets():
    text = "Don't stop, 3.5 km!"

    tokens = tokenize_with_offsets(text)

    assert [t for t, _, _ in tokens] == ["Don", "'", "t", "stop", ",", "3", ".", "5", "km", "!"]
    assert all(text[start:end] == token for token, start, end in tokens)


def test_squad_misaligned_answer_raises_naming_the_question():
    with pytest.raises(
        DataFormatError,
        match=r"question 'hb-2', article 'Honey bees'.*'in summer'.*answer_start=63",
    ):
        read_squad(DATA / "squad_misaligned.json")


def test_squad_misaligned_answers_can_be_dropped_and_counted(caplog):
    with caplog.at_level(logging.WARNING, logger="tasks.data.squad"):
        examples = read_squad(DATA / "squad_misaligned.json", on_misaligned="drop")

    assert len(examples) == 6
    assert examples[4].answers == ["summer"]
    assert "dropped 1 answers" in caplog.text
    assert "0 questions" in caplog.text


def test_squad_question_left_without_answers_is_dropped(tmp_path):
    document = json.loads((DATA / "squad_misaligned.json").read_text(encoding="utf-8"))
    document["data"][2]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 0
    path = tmp_path / "two_bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    examples = read_squad(path, on_misaligned="drop")

    assert [e.question_id for e in examples] == ["lh-1", "lh-2", "lh-3", "hb-1", "hb-2"]


def test_squad_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n  {"title": "x",\n  }\n]}\n', encoding="utf-8")

    with pytest.raises(DataFormatError, match=r"broken\.json, line 3: invalid JSON"):
        read_squad(path)


def test_squad_missing_key_names_its_place(tmp_path):
    document = json.loads((DATA / "squad_tiny.json").read_text(encoding="utf-8"))
    del document["data"][1]["paragraphs"][0]["qas"][0]["question"]
    path = tmp_path / "no_question.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(
        DataFormatError, match=r"data\[1\]\.paragraphs\[0\]\.qas\[0\]: expected a key 'question'"
    ):
        read_squad(path)


def test_squad_max_samples():
    assert [e.question_id for e in read_squad(DATA / "squad_tiny.json", max_samples=2)] == [
        "lh-1",
        "lh-2",
    ]


def test_split_by_article_keeps_articles_whole():
    examples = read_squad(DATA / "squad_tiny.json")

    train, dev, test = split_by_article(examples, fractions=(1 / 3, 1 / 3, 1 / 3), seed=3)

    titles = [{e.article_title for e in part} for part in (train, dev, test)]
    assert all(len(t) == 1 for t in titles)
    assert set.union(*titles) == {"Lighthouses", "Honey bees", "Glaciers"}
    assert sorted(e.question_id for e in train + dev + test) == sorted(
        e.question_id for e in examples
    )
    assert (
        split_by_article(examples[::-1], fractions=(1 / 3, 1 / 3, 1 / 3), seed=3)[0] == train[::-1]
    )


def test_split_by_article_rejects_bad_fractions():
    examples = read_squad(DATA / "squad_tiny.json")
    with pytest.raises(ValueError, match="summing to 1"):
        split_by_article(examples, fractions=(0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="3 articles are too few"):
        split_by_article(examples, fractions=(0.9, 0.05, 0.05))


def test_squad_dev_counts_and_article_split():
    examples = read_squad(shared_file("squad_v1.1", "dev-v1.1.json.zip"))

    assert len(examples) == 10_570
    assert len({e.article_title for e in examples}) == 48
    assert len({(e.article_title, e.context) for e in examples}) == 2_067
    train, dev, test = split_by_article(examples, seed=0)
    titles = [{e.article_title for e in part} for part in (train, dev, test)]
    assert [len(t) for t in titles] == [38, 5, 5]
    assert not (titles[0] & titles[1] or titles[0] & titles[2] or titles[1] & titles[2])
    assert len(train) + len(dev) + len(test) == 10_570
    assert split_by_article(examples, seed=0)[2] == test
    assert {e.article_title for e in split_by_article(examples, seed=1)[2]} != titles[2]
