"""Readers on small hand-made files, every bad-input case, and the real datasets' counts."""

from __future__ import annotations

import gzip
import json
import logging
import pickle
import zipfile
from pathlib import Path

import pytest
from run_helpers import squad_hub_columns
from seqeval.metrics.sequence_labeling import get_entities

from tasks.readers import (
    DataFormatError,
    LabeledSentence,
    LabelVocabulary,
    SquadExample,
    TaggedSentence,
    iob1_to_bioes,
    iob1_to_iob2,
    iob2_to_bioes,
    labeled_from_hub,
    load_hub,
    read_conll,
    read_conllu,
    read_squad,
    read_sst,
    split_by_article,
    squad_from_hub,
    tagged_from_hub,
    tokenize_with_offsets,
)

DATA = Path(__file__).parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_file(folder: str, name: str) -> Path:
    """A file of the offline datasets; skips the test when its folder is absent."""
    path = SHARED_DATA / folder / name
    if not path.is_file():
        pytest.skip(f"dataset file {name} not found in {path.parent}")
    return path


def entity_count(sentences: list[list[str]]) -> int:
    """Entities in tag sequences, as seqeval (the span oracle) reads them."""
    return sum(len(get_entities(tags)) for tags in sentences)


def write_gzip(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


def write_zip(target: Path, *members: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for member in members:
            archive.write(member, member.name)
    return target


# ----------------------------------------------------------------------------- CoNLL-U


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


# ----------------------------------------------------------------------------- CoNLL columns


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


def test_non_utf8_byte_names_the_line():
    with pytest.raises(
        DataFormatError, match=r"conll_bad_encoding\.txt, line 3: invalid UTF-8 byte 0xe9 at byte 4"
    ):
        read_conll(DATA / "conll_bad_encoding.txt")


@pytest.mark.parametrize("reader", [read_conll, read_conllu, read_sst, read_squad])
def test_file_without_data_is_an_error(reader):
    with pytest.raises(DataFormatError, match=r"empty\.txt"):
        reader(DATA / "empty.txt")


@pytest.mark.parametrize("reader", [read_conll, read_conllu, read_sst, read_squad])
def test_missing_file(reader):
    with pytest.raises(FileNotFoundError, match=r"data file not found: .*no_such_file\.txt"):
        reader(DATA / "no_such_file.txt")


def test_max_samples_must_be_positive():
    with pytest.raises(ValueError, match="max_samples"):
        read_conll(DATA / "wnut_tiny.conll", max_samples=0)


def test_long_sentence_and_long_token(tmp_path):
    long_token = "x" * 300
    tokens = [f"w{i}" for i in range(10_000)] + [long_token]
    conll = tmp_path / "long.conll"
    conll.write_text("".join(f"{t}\tO\n" for t in tokens), encoding="utf-8")
    conllu = tmp_path / "long.conllu"
    conllu.write_text(
        "".join(f"{i}\t{t}\t_\tX\tXX\t_\t0\tdep\t_\t_\n" for i, t in enumerate(tokens, 1)),
        encoding="utf-8",
    )
    sst = tmp_path / "long.sst"
    sst.write_text("1 " + " ".join(tokens) + "\n", encoding="utf-8")

    assert read_conll(conll)[0].tokens == tokens
    assert read_conllu(conllu)[0].tokens == tokens
    assert read_sst(sst)[0].tokens == tokens


# ----------------------------------------------------------------------------- compression


@pytest.mark.parametrize(
    ("reader", "name"),
    [
        (read_conllu, "ud_tiny.conllu"),
        (read_conll, "conll_iob1.txt"),
        (read_conll, "wnut_tiny.conll"),
        (read_sst, "sst_tiny.txt"),
        (read_squad, "squad_tiny.json"),
    ],
)
def test_gzip_and_zip_read_like_the_plain_file(tmp_path, reader, name):
    plain = reader(DATA / name)
    gzipped = write_gzip(DATA / name, tmp_path / f"{name}.gz")
    zipped = write_zip(tmp_path / f"{name}.zip", DATA / name)
    several = write_zip(tmp_path / "several.zip", DATA / "empty.txt", DATA / name)

    assert reader(gzipped) == plain
    assert reader(str(zipped)) == plain
    assert reader(several, member=name) == plain


def test_zip_with_several_members_needs_a_member_name(tmp_path):
    several = write_zip(tmp_path / "several.zip", DATA / "sst_tiny.txt", DATA / "sst_no_label.txt")

    with pytest.raises(DataFormatError, match=r"holds 2: sst_tiny\.txt, sst_no_label\.txt"):
        read_sst(several)
    with pytest.raises(DataFormatError, match=r"no member 'other\.txt'"):
        read_sst(several, member="other.txt")


def test_member_of_a_file_that_is_not_a_zip():
    with pytest.raises(DataFormatError, match="this is no zip file"):
        read_sst(DATA / "sst_tiny.txt", member="sst_tiny.txt")


def test_error_inside_a_zip_member_names_archive_member_and_line(tmp_path):
    zipped = write_zip(tmp_path / "bad.zip", DATA / "conll_no_tag.txt")

    with pytest.raises(DataFormatError, match=r"bad\.zip \[conll_no_tag\.txt\], line 6"):
        read_conll(zipped)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress((DATA / "sst_tiny.txt").read_bytes())[:-12])

    with pytest.raises(DataFormatError, match="cannot decompress"):
        read_sst(path)


def test_byte_order_mark_and_crlf_line_endings_are_accepted(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf1 good film .\r\n0 bad film .\r\n")

    assert read_sst(path) == [
        LabeledSentence(["good", "film", "."], "1"),
        LabeledSentence(["bad", "film", "."], "0"),
    ]


def test_data_format_error_survives_pickling():
    error = DataFormatError("f.txt", "bad", 7)

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.source, copy.line, str(copy)) == ("f.txt", 7, "f.txt, line 7: bad")


# ----------------------------------------------------------------------------- tag schemes


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


# ----------------------------------------------------------------------------- SST


def test_sst():
    sentences = read_sst(DATA / "sst_tiny.txt")

    assert [s.label for s in sentences] == ["1", "0", "1", "0"]
    assert sentences[2] == LabeledSentence(
        ["sharp", "writing", "and", "a", "great", "cast", "."], "1"
    )


def test_sst_line_without_label():
    with pytest.raises(
        DataFormatError, match=r"sst_no_label\.txt, line 2: expected '<integer label>.*'the'"
    ):
        read_sst(DATA / "sst_no_label.txt")


def test_sst_label_without_sentence(tmp_path):
    path = tmp_path / "label_only.txt"
    path.write_text("1 good film .\n3   \n", encoding="utf-8")

    with pytest.raises(DataFormatError, match=r"line 2: label 3 has no sentence"):
        read_sst(path)


# ----------------------------------------------------------------------------- SQuAD


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
    with caplog.at_level(logging.WARNING, logger="tasks.readers"):
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


# ----------------------------------------------------------------------------- Hugging Face mapping


def test_tagged_from_hub_decodes_class_labels():
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
        }
    )
    rows = {"tokens": [["Ada", "Lovelace", "wrote"], [], ["hi"]], "ner_tags": [[1, 2, 0], [], [0]]}
    dataset = datasets.Dataset.from_dict(rows, features=features)

    sentences = tagged_from_hub(dataset, tags_field="ner_tags")

    assert sentences == [
        TaggedSentence(["Ada", "Lovelace", "wrote"], ["B-PER", "I-PER", "O"]),
        TaggedSentence(["hi"], ["O"]),
    ]


def test_tagged_from_hub_string_tags_and_missing_column():
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_dict({"tokens": [["a", "b"]], "xpos": [["DT", "NN"]]})

    assert tagged_from_hub(dataset, tags_field="xpos") == [TaggedSentence(["a", "b"], ["DT", "NN"])]
    with pytest.raises(DataFormatError, match="no column upos; the dataset has tokens, xpos"):
        tagged_from_hub(dataset, tags_field="upos", source="hub en_ewt")


def test_labeled_from_hub():
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["negative", "positive"]),
        }
    )
    dataset = datasets.Dataset.from_dict(
        {"sentence": ["a fine film ", "dull"], "label": [1, 0]}, features=features
    )
    hidden = datasets.Dataset.from_dict(
        {"sentence": ["a fine film"], "label": [-1]}, features=features
    )

    assert labeled_from_hub(dataset) == [
        LabeledSentence(["a", "fine", "film"], "positive"),
        LabeledSentence(["dull"], "negative"),
    ]
    with pytest.raises(DataFormatError, match="row 0: label -1 means the split has no gold labels"):
        labeled_from_hub(hidden, source="hub sst2[test]")


def test_squad_from_hub_matches_the_json_reader():
    datasets = pytest.importorskip("datasets")
    examples = read_squad(DATA / "squad_tiny.json")
    rows = squad_hub_columns(examples)

    assert squad_from_hub(datasets.Dataset.from_dict(rows)) == examples
    rows["answers"][0] = {"text": ["Alexandria"], "answer_start": [0]}
    with pytest.raises(DataFormatError, match=r"row 0 \(question 'lh-1'"):
        squad_from_hub(datasets.Dataset.from_dict(rows))


def test_load_hub_rejects_unknown_names():
    with pytest.raises(ValueError, match="no hub mapping for 'imdb'; known: conll2003"):
        load_hub("imdb", "train")


# ----------------------------------------------------------------------------- label vocabulary


def test_label_vocabulary_from_train():
    vocabulary = LabelVocabulary.from_train(
        read_conll(DATA / "wnut_tiny.conll"), source="wnut_tiny.conll"
    )

    assert vocabulary.labels == ("B-location", "B-product", "I-location", "O")
    assert vocabulary.decode(vocabulary.encode(["O", "B-product"])) == ["O", "B-product"]
    assert vocabulary.encode(["B-location", "O"]) == [0, 3]
    assert len(vocabulary) == 4


def test_unseen_label_names_file_label_and_split():
    vocabulary = LabelVocabulary.from_train(read_conll(DATA / "wnut_tiny.conll"))
    dev_path = DATA / "wnut_unseen_label.conll"

    with pytest.raises(
        DataFormatError,
        match=r"wnut_unseen_label\.conll: label 'B-event' in the dev split \(sentence 2\)",
    ):
        vocabulary.check(read_conll(dev_path), split="dev", source=str(dev_path))


def test_unseen_labels_can_be_mapped(caplog):
    vocabulary = LabelVocabulary.from_train(read_conll(DATA / "wnut_tiny.conll"))
    dev = read_conll(DATA / "wnut_unseen_label.conll")

    with caplog.at_level(logging.WARNING, logger="tasks.readers"):
        checked = vocabulary.check(dev, split="dev", source="dev.conll", unknown="map", map_to="O")

    assert checked[0] is dev[0]
    assert checked[1].tags == ["O", "O", "O"]
    assert "'B-event': 1" in caplog.text
    with pytest.raises(ValueError, match="map_to must be a label seen in training"):
        vocabulary.check(dev, split="dev", source="dev.conll", unknown="map", map_to="B-event")


def test_sentence_label_vocabulary():
    train = read_sst(DATA / "sst_tiny.txt")
    vocabulary = LabelVocabulary.from_train(train)

    assert vocabulary.labels == ("0", "1")
    with pytest.raises(DataFormatError, match=r"label '4' in the test split"):
        vocabulary.check([LabeledSentence(["meh"], "4")], split="test", source="stsa.fine.test")


# ----------------------------------------------------------------------------- real datasets


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


@pytest.mark.parametrize(
    ("name", "sentences", "labels"),
    [
        ("stsa.binary.train", 6_920, 2),
        ("stsa.binary.dev", 872, 2),
        ("stsa.binary.test", 1_821, 2),
        ("stsa.fine.train", 8_544, 5),
        ("stsa.fine.dev", 1_101, 5),
        ("stsa.fine.test", 2_210, 5),
    ],
)
def test_sst_counts(name, sentences, labels):
    read = read_sst(shared_file("sst", name))

    assert len(read) == sentences
    assert {s.label for s in read} == {str(label) for label in range(labels)}


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
