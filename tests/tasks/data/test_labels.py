"""The label vocabulary of a training split and the check of dev and test labels."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tasks.data.conll import read_conll
from tasks.data.examples import LabeledSentence
from tasks.data.files import DataFormatError
from tasks.data.labels import LabelVocabulary
from tasks.data.sst import read_sst

DATA = Path(__file__).parent


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

    with caplog.at_level(logging.WARNING, logger="tasks.data.labels"):
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
