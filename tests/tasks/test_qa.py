"""SQuAD QA: windows and their targets, the best-span search, decoding, output and a tiny run."""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from tasks.data.squad import SquadExample, read_squad
from tasks.qa import BidafHead, QaTask, best_spans, context_windows
from tasks.run import run
from tasks.batching import Batch
from tasks.task import Item

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
SQUAD_DEV = ROOT.parent / "shared" / "data" / "squad_v1.1" / "dev-v1.1.json.zip"


def qa_task(files: dict[str, str] | None = None, **kwargs) -> QaTask:
    return QaTask(files=files, hub=None, head=functools.partial(BidafHead), **kwargs)


def ten_token_example(answers: list[str]) -> SquadExample:
    """Context ``a b c d e f g h i j`` (token ``k`` at character ``2k``)."""
    context = "a b c d e f g h i j"
    return SquadExample("q1", "Letters", context, "Which letters?", answers, [context.index(a) for a in answers])


def test_windows_step_by_stride_and_the_last_reaches_the_end():
    assert context_windows(10, 4, 2) == [(0, 4), (2, 6), (4, 8), (6, 10)]
    assert context_windows(11, 4, 2) == [(0, 4), (2, 6), (4, 8), (6, 10), (7, 11)]
    assert context_windows(4, 4, 2) == [(0, 4)]
    assert context_windows(3, 4, 2) == [(0, 3)]
    assert context_windows(9, 4, 4) == [(0, 4), (4, 8), (5, 9)]


def test_an_answer_is_the_target_only_of_windows_holding_it_wholly():
    task = qa_task(max_context=4, stride=2)
    example = ten_token_example(["d e f", "h"])  # tokens 3..5, then token 7
    split = task.make_split("dev", "test", [example], training=False)
    context, question = split.texts
    assert context == tuple("abcdefghij") and question == ("Which", "letters", "?")
    assert [item.slots for item in split.items] == [
        ((0, first, end), (1, 0, 3)) for first, end in [(0, 4), (2, 6), (4, 8), (6, 10)]
    ]
    # "d e f" crosses the borders of (0, 4) and (4, 8); the first answer that fits wins.
    assert [item.target for item in split.items] == [None, (1, 3), (3, 3), (1, 1)]
    train = task.make_split("train", "test", [example], training=True)
    assert [item.target for item in train.items] == [(1, 3), (3, 3), (1, 1)]
    assert task.targets(split.items).tolist() == [[-1, -1], [1, 3], [3, 3], [1, 1]]


def test_questions_whose_answer_fits_no_window_are_counted_and_not_trained(caplog):
    task = qa_task(max_context=4, stride=2)
    with caplog.at_level(logging.WARNING, logger="tasks.qa"):
        train = task.make_split("train", "test", [ten_token_example(["b c d e f"])], training=True)
    assert train.items == []
    assert "1 of 1 questions have no window of 4 tokens" in caplog.text
    evaluation = task.make_split("dev", "test", [ten_token_example(["b c d e f"])], training=False)
    assert len(evaluation.items) == 4


def test_a_paragraph_shared_by_questions_is_one_text():
    examples = read_squad(DATA / "squad_tiny.json")
    split = qa_task().make_split("dev", "squad_tiny", examples, training=False)
    contexts = {e.context for e in examples}
    questions = {e.question for e in examples}
    assert len(split.texts) == len(contexts) + len(questions)
    assert split.items[0].slots[0][0] == split.items[1].slots[0][0]  # lh-1 and lh-2 share a paragraph


@pytest.mark.parametrize("max_answer_length", [1, 3, 30])
def test_best_spans_match_a_brute_force_search(max_answer_length):
    generator = torch.Generator().manual_seed(max_answer_length)
    lengths = [12, 1, 7, 12, 5]
    start = torch.randn(len(lengths), 12, generator=generator)
    end = torch.randn(len(lengths), 12, generator=generator)
    mask = torch.arange(12) < torch.tensor(lengths).unsqueeze(1)
    starts, ends, scores = best_spans(start, end, mask, max_answer_length)
    for row, n in enumerate(lengths):
        log_start = start[row, :n].log_softmax(dim=0)
        log_end = end[row, :n].log_softmax(dim=0)
        best = max(
            (float(log_start[i] + log_end[j]), i, j)
            for i in range(n)
            for j in range(i, min(i + max_answer_length, n))
        )
        assert (int(starts[row]), int(ends[row])) == best[1:]
        assert float(scores[row]) == pytest.approx(best[0], abs=1e-5)


def test_decode_keeps_the_best_window_and_returns_context_text():
    examples = read_squad(DATA / "squad_tiny.json")[:2]  # "Where was the Pharos?", "How tall ...?"
    task = qa_task(max_context=8, stride=4)
    split = task.make_split("dev", "squad_tiny", examples, training=False)
    outputs = []
    for item in split.items:
        first = item.slots[0][1]
        if item.example == 1 and item.target is not None:
            outputs.append((item, (*item.target, -0.5)))  # the gold span, scored best
        else:
            outputs.append((item, (0, 0, -3.0 - first)))  # the window's first token
    predictions = task.decode(split, outputs)
    assert predictions == ["The", "about 100 metres"]
    assert task.score(split, predictions) == {"em": 50.0, "f1": 50.0}
    with pytest.raises(RuntimeError, match="lh-2"):
        task.decode(split, [o for o in outputs if o[0].example == 0])


def test_predictions_are_the_official_json(tmp_path):
    examples = read_squad(DATA / "squad_tiny.json")
    task = qa_task()
    split = task.make_split("test", "squad_tiny", examples, training=False)
    path = tmp_path / "run.predictions.json"
    task.write_predictions(path, split, [e.answers[0] for e in examples])
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == {e.question_id: e.answers[0] for e in examples}
    assert list(tmp_path.iterdir()) == [path]


def test_caps_apply_after_the_article_split():
    task = qa_task({"squad": str(DATA / "squad_tiny.json")}, split_fractions=[0.4, 0.3, 0.3], max_samples=1)
    splits = task.load()
    titles = [{e.article_title for e in split.examples} for split in splits.values()]
    assert [len(split.examples) for split in splits.values()] == [1, 1, 1]
    assert len(set().union(*titles)) == 3
    assert "caps applied after the article split" in task.note


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="stride"):
        qa_task(max_context=4, stride=5)
    with pytest.raises(ValueError, match="max_samples"):
        qa_task(max_samples={"validation": 3})
    with pytest.raises(ValueError, match="max_answer_length"):
        BidafHead(input_dim=4, max_answer_length=0)


@pytest.mark.skipif(not SQUAD_DEV.is_file(), reason=f"SQuAD v1.1 dev set not found at {SQUAD_DEV}")
def test_the_real_dev_set_is_split_by_article_and_the_note_says_so():
    task = qa_task({"squad": str(SQUAD_DEV)})
    splits = task.load()
    titles = {name: {e.article_title for e in split.examples} for name, split in splits.items()}
    assert not titles["train"] & titles["dev"] and not titles["train"] & titles["test"]
    assert not titles["dev"] & titles["test"]
    assert sum(len(t) for t in titles.values()) == 48
    assert sum(len(split.examples) for split in splits.values()) == 10570
    assert "only the official dev set" in task.note and "split by article" in task.note
    for name, split in splits.items():
        assert f"{name} {len(titles[name])} articles / {len(split.examples)} questions" in task.note
    assert all(item.target is not None for item in splits["train"].items)


def tiny_batch(generator: torch.Generator) -> tuple[Batch, list[torch.Tensor]]:
    """Random features for 4 windows of up to 10 tokens and questions of up to 5."""
    context_lengths, question_lengths = [10, 7, 4, 9], [5, 3, 5, 2]
    targets = [(2, 4), (0, 0), (3, 3), (5, 8)]
    items = [Item(i, ((i, 0, c), (4 + i, 0, q)), t) for i, (c, q, t) in enumerate(zip(context_lengths, question_lengths, targets))]
    masks = [torch.arange(10) < torch.tensor(context_lengths).unsqueeze(1), torch.arange(5) < torch.tensor(question_lengths).unsqueeze(1)]
    mixed = [torch.randn(4, 10, 8, generator=generator) * masks[0].unsqueeze(-1), torch.randn(4, 5, 8, generator=generator) * masks[1].unsqueeze(-1)]
    return Batch([], masks, items, torch.tensor(targets)), mixed


def test_bidaf_training_lowers_the_loss_and_predicts_spans_inside_the_context():
    torch.manual_seed(0)
    batch, mixed = tiny_batch(torch.Generator().manual_seed(0))
    head = BidafHead(input_dim=8, hidden=8, dropout=0.0, max_answer_length=3)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = head.loss(batch, mixed)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    head.eval()
    with torch.no_grad():
        spans = head.predict(batch, mixed)
    for (start, end, score), length in zip(spans, batch.masks[0].sum(dim=1).tolist(), strict=True):
        assert 0 <= start <= end < min(start + 3, length) and score <= 0.0


def test_a_tiny_run_writes_scores_the_note_and_predictions(tmp_path, elmo_fixtures):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "task=qa",
                f"embedder.options_file={elmo_fixtures / 'options.json'}",
                f"embedder.weight_file={elmo_fixtures / 'lm_weights.hdf5'}",
                f"task.files.squad={DATA / 'squad_tiny.json'}",
                "task.split_fractions=[0.4,0.3,0.3]",
                "task.max_context=8",
                "task.stride=4",
                "task.head.hidden=8",
                "training.max_epochs=1",
                f"results_dir={tmp_path / 'results'}",
                f"cache.dir={tmp_path / 'cache'}",
                "trainer.enable_progress_bar=false",
            ],
        )
    row = run(cfg)
    assert {"test/em", "test/f1", "val/em", "val/f1"} <= set(row["metrics"])
    assert row["task"] == "qa" and row["head"] == "bidaf"
    assert "split by article" in row["note"] and "test 1 articles" in row["note"]
    [written] = (tmp_path / "results").rglob(row["predictions"])
    predictions = json.loads(written.read_text(encoding="utf-8"))
    task = QaTask(files={"squad": str(DATA / "squad_tiny.json")}, hub=None, head=BidafHead, split_fractions=[0.4, 0.3, 0.3])
    test_ids = {e.question_id for e in task.load()["test"].examples}
    assert set(predictions) == test_ids
    assert all(isinstance(text, str) and text for text in predictions.values())
