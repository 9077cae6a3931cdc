"""The SST line reader on small hand-made files and on the SST-2 and SST-5 splits."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import shared_file

from tasks.data.examples import LabeledSentence
from tasks.data.files import DataFormatError
from tasks.data.sst import read_sst

DATA = Path(__file__).parent


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
