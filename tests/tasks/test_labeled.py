"""The one-text labelled tasks (taggers, sentiment) through their shared base."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.pos import PosTask
from tasks.sentiment import SentimentTask

DATA = Path(__file__).parent / "data"


def _files(path: Path) -> dict[str, str]:
    return {split: str(path) for split in ("train", "dev", "test")}


@pytest.mark.parametrize(
    ("task", "path"),
    [(SentimentTask, DATA / "sst_tiny.txt"), (PosTask, DATA / "ud_tiny.conllu")],
)
def test_decode_round_trips_gold_and_refuses_a_missing_example(task, path):
    instance = task(files=_files(path), hub=None, head=lambda **_: None)
    test = instance.load()["test"]
    gold_outputs = [(item, item.target) for item in test.items]  # the gold targets, as a head would output them
    decoded = instance.decode(test, gold_outputs)
    assert instance.score(test, decoded)[instance.metric] == 100.0
    with pytest.raises(RuntimeError, match=r"no prediction for examples \[0\]"):
        instance.decode(test, gold_outputs[1:])
