"""The label kinds' base classes (tagging, single label, multi-label) and task metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tasks.batching import Batch
from tasks.data.files import DataFormatError
from tasks.data.jsonl import read_multilabel_jsonl
from tasks.heads import MultiLabelClassifier
from tasks.kinds import MultiLabelTask, SingleLabelTask
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


def test_multilabel_task_reads_json_lines_encodes_sets_and_scores_gold_perfectly():
    task = MultiLabelTask(files=_files(DATA / "topics_tiny.jsonl"), hub=None, head=lambda **_: None, name="topics", dataset="tiny")
    splits = task.load()
    assert task.labels.labels == ("politics", "science", "sport")
    test = splits["test"]
    assert len(test.examples) == 6 and test.examples[2].tokens == ["Parliament", "passed", "the", "budget"]
    assert test.items[0].target == (1.0, 0.0, 1.0) and test.items[4].target == (0.0, 0.0, 0.0)
    outputs = [(item, [i for i, v in enumerate(item.target) if v]) for item in test.items]
    predictions = task.decode(test, outputs)
    assert predictions[0] == ("politics", "sport") and predictions[4] == ()
    scores = task.score(test, predictions)
    assert scores == {"micro_f1": 100.0, "macro_f1": 100.0, "exact_match": 100.0}
    parts = task.example_scores(test, predictions)["micro_f1"]
    assert parts.value() == 100.0 and parts.den[4] == 0.0  # no label, nothing predicted: no weight


def test_multilabel_jsonl_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"tokens": ["a"], "labels": ["x"]}\n{"tokens": ["b"], "labels": "x"}\n')
    with pytest.raises(DataFormatError, match=r"bad\.jsonl, line 2.*labels"):
        read_multilabel_jsonl(bad)
    bad.write_text('{"tokens": ["a"], "labels": ["x"]}\nnot json\n')
    with pytest.raises(DataFormatError, match=r"bad\.jsonl, line 2.*invalid JSON"):
        read_multilabel_jsonl(bad)


def test_multilabel_head_learns_a_planted_label_set():
    torch.manual_seed(0)
    head = MultiLabelClassifier(input_dim=4, labels=["a", "b"], hidden=8, mlp_hidden=8, dropout=0.0)
    features = torch.randn(16, 5, 4)
    targets = torch.stack([(features[:, :, 0].mean(1) > 0).float(), (features[:, :, 1].mean(1) > 0).float()], 1)
    batch = Batch([features.unsqueeze(1)], [torch.ones(16, 5, dtype=torch.bool)], [], targets)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    first = float(head.loss(batch, [features]).detach())
    for _ in range(60):
        optimizer.zero_grad()
        loss = head.loss(batch, [features])
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < first / 2
    predicted = head.predict(batch, [features])
    assert len(predicted) == 16 and all(set(p) <= {0, 1} for p in predicted)


def test_a_task_class_must_declare_its_metadata():
    class Incomplete(SingleLabelTask):
        name = "incomplete"  # no dataset

        def read_file(self, path, max_samples):
            return []

    with pytest.raises(TypeError, match="does not declare its dataset"):
        Incomplete(files=None, hub=None, head=lambda **_: None)
    assert Incomplete(files=None, hub=None, head=lambda **_: None, dataset="d").dataset == "d"


@pytest.mark.parametrize("caps", [0, -1, {"train": 0}, {"validation": 5}, "abc"])
def test_bad_max_samples_is_refused_naming_the_key(caps):
    with pytest.raises(ValueError, match="task.max_samples"):
        SentimentTask(files=None, hub=None, head=lambda **_: None, max_samples=caps)
