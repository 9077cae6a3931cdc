"""The bad-input suite: each broken file, through a real ``elmo-bench`` run, gives the expected error.

Each case names the file (and line or key) in its message; the command line turns these
errors into one ``elmo-bench: ...`` line and exit code 1 (tests/tasks/test_run.py).
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from omegaconf import open_dict

from elmo.config import OptionsError
from elmo.weights import WeightFileError
from run_helpers import ROOT, fixture_embedder, run_config
from tasks.data.files import DataFormatError
from tasks.embedders.vector_files import VectorFileError
from tasks.run import run

DATA = ROOT / "tests" / "tasks" / "data"
TINY = ["task.max_samples=24", "training.max_epochs=1", "task.hub=null"]


def _files(train: Path, dev: Path | None = None, test: Path | None = None) -> list[str]:
    return [f"task.files.train={train}", f"task.files.dev={dev or train}", f"task.files.test={test or train}"]


CASES = {
    "conllu_wrong_column_count": (["task=pos", *_files(DATA / "ud_bad_columns.conllu")], DataFormatError, r"ud_bad_columns\.conllu, line \d+"),
    "conllu_empty_sentence": (["task=pos", *_files(DATA / "ud_empty.conllu")], DataFormatError, r"ud_empty\.conllu"),
    "conll_line_without_tag": (["task=ner_wnut17", *_files(DATA / "conll_no_tag.txt")], DataFormatError, r"conll_no_tag\.txt, line \d+"),
    "conll_mixed_tab_space": (["task=ner_wnut17", *_files(DATA / "conll_mixed_separators.txt")], DataFormatError, r"conll_mixed_separators\.txt, line \d+"),
    "non_utf8_bytes": (["task=ner_wnut17", *_files(DATA / "conll_bad_encoding.txt")], DataFormatError, r"conll_bad_encoding\.txt, line \d+.*UTF-8"),
    "sst_empty_sentence": (["task=sentiment", *_files(DATA / "bad" / "sst_empty_sentence.txt")], DataFormatError, r"sst_empty_sentence\.txt, line 2"),
    "sst_line_without_label": (["task=sentiment", *_files(DATA / "sst_no_label.txt")], DataFormatError, r"sst_no_label\.txt, line \d+"),
    "label_unseen_in_train": (
        ["task=ner_wnut17", *_files(DATA / "wnut_tiny.conll", test=DATA / "wnut_unseen_label.conll")],
        DataFormatError, r"wnut_unseen_label\.conll.*never occurs in the training data",
    ),
    "squad_offset_not_matching_text": (["task=qa", f"task.files.squad={DATA / 'squad_misaligned.json'}"], DataFormatError, r"squad_misaligned\.json"),
    "missing_data_file": (["task=pos", *_files(DATA / "no_such_file.conllu")], FileNotFoundError, r"no_such_file\.conllu"),
    "vectors_short_line": (
        ["task=sentiment", *_files(DATA / "sst_tiny.txt"), "embedder=glove", f"embedder.vectors={DATA / 'bad' / 'vectors_short_line.txt'}"],
        VectorFileError, r"vectors_short_line\.txt, line 3",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_a_clear_error(case, elmo_fixtures, tmp_path):
    overrides, error, message = CASES[case]
    own_embedder = any(o.startswith("embedder=") for o in overrides)
    cfg = run_config([*TINY, *([] if own_embedder else fixture_embedder(elmo_fixtures)), *overrides], tmp_path)
    with pytest.raises(error, match=message):
        run(cfg)
    assert not list((tmp_path / "results").rglob("*.json"))  # no row from a failed run


def _sentiment_with_model(elmo_fixtures: Path, tmp_path: Path, options: Path, weights: Path) -> None:
    cfg = run_config(
        [*TINY, "task=sentiment", *_files(DATA / "sst_tiny.txt"),
         f"embedder.options_file={options}", f"embedder.weight_file={weights}"],
        tmp_path,
    )
    run(cfg)


def test_truncated_weight_file(elmo_fixtures, tmp_path):
    weights = tmp_path / "weights.hdf5"
    data = (elmo_fixtures / "lm_weights.hdf5").read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightFileError, match=r"weights\.hdf5"):
        _sentiment_with_model(elmo_fixtures, tmp_path, elmo_fixtures / "options.json", weights)


def test_options_file_missing_a_field(elmo_fixtures, tmp_path):
    options = json.loads((elmo_fixtures / "options.json").read_text())
    del options["lstm"]["projection_dim"]
    broken = tmp_path / "options.json"
    broken.write_text(json.dumps(options))
    with pytest.raises(OptionsError, match=r"options\.json.*lstm\.projection_dim"):
        _sentiment_with_model(elmo_fixtures, tmp_path, broken, elmo_fixtures / "lm_weights.hdf5")


class _Payload:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_weight_file_carrying_a_pickle_payload_runs_no_code(elmo_fixtures, tmp_path):
    marker = tmp_path / "code-ran"
    weights = tmp_path / "weights.hdf5"
    weights.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(WeightFileError, match=r"weights\.hdf5"):
        _sentiment_with_model(elmo_fixtures, tmp_path, elmo_fixtures / "options.json", weights)
    assert not marker.exists()


@pytest.mark.slow
def test_a_10000_token_sentence_and_a_300_character_token_are_handled(elmo_fixtures, tmp_path):
    """Not errors: the long sentence gets a batch of its own, the long token is cut to 48 bytes."""
    train = tmp_path / "train.txt"
    shutil.copy(DATA / "sst_tiny.txt", train)
    with train.open("a", encoding="utf-8") as out:
        out.write("1 " + " ".join(["word"] * 9_999 + ["x" * 300]) + "\n")
    cfg = run_config([*TINY, "task=sentiment", *_files(train, DATA / "sst_tiny.txt", DATA / "sst_tiny.txt"),
                      *fixture_embedder(elmo_fixtures)], tmp_path)
    with open_dict(cfg):
        cfg.task.max_samples = None
    row = run(cfg)
    assert row["train_items"] == len((DATA / "sst_tiny.txt").read_text().strip().splitlines()) + 1
