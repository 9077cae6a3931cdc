"""Hugging Face rows mapped to the readers' examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_helpers import squad_hub_columns

from tasks.data.examples import LabeledSentence, TaggedSentence
from tasks.data.files import DataFormatError
from tasks.data.hub import HubDatasetError, labeled_from_hub, load_hub, squad_from_hub, tagged_from_hub
from tasks.data.squad import read_squad

DATA = Path(__file__).parent


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
    with pytest.raises(HubDatasetError, match="task.hub.name='imdb': no column mapping for this dataset; known: conll2003"):
        load_hub("imdb", "train")
