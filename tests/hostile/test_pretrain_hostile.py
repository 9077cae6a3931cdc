"""``elmo-pretrain`` and ``elmo-perplexity`` against wrong configs, corpora and folders: one
line naming the key or path, status 2, before any work (nothing prepared, nothing trained).

A pretraining process takes about ten seconds to start (Lightning, Hydra), so most command
cases are marked slow; every config key is also checked in-process, through the function
the command runs first.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from commands_under_test import assert_one_line, run_command, snapshot
from hydra import compose, initialize_config_dir

from elmo.pretrain import CONF_DIR
from elmo.pretrain_config import ConfigError, check_pretrain_config

PRETRAIN = ["-m", "elmo.pretrain"]
TINY = ["vocab_size=50", "cutoffs=[20]", "heldout_fraction=0.1", "model.lstm.dim=16", "model.lstm.projection_dim=8",
        "model.char_cnn.filters=[[1,4],[2,4]]", "trainer.max_steps=2", "trainer.enable_progress_bar=false"]


@pytest.fixture
def work(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "text.txt").write_text(
        "\n\n".join(f"The cat {i} sees the dog near the river." for i in range(200)) + "\n", encoding="utf-8"
    )
    return tmp_path


def pretrain(work: Path, *overrides: str):
    folders = ["corpus=[corpus]", "output_dir=run", "prepared_dir=prepared"]
    return run_command([*PRETRAIN, *folders, *TINY, *overrides], cwd=work)


def user_files(work: Path) -> dict[str, bytes]:
    """Everything but Hydra's own record of the run (``run/hydra``, written before the run starts)."""
    return {name: data for name, data in snapshot(work).items() if not name.startswith("run/hydra/")}


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("vocab_size=abc", "'vocab_size'"),
        pytest.param("+trainer.bogus=1", "'trainer.bogus'", marks=pytest.mark.slow),
        pytest.param("model.lstm.dim=0", "'lstm.dim'", marks=pytest.mark.slow),
        pytest.param("corpus=[missing_folder]", "missing_folder", marks=pytest.mark.slow),
    ],
    ids=["value", "trainer-key", "model-options", "corpus"],
)
def test_a_wrong_setting_is_one_line_before_any_work(work, override, key):
    before = user_files(work)
    assert_one_line(pretrain(work, override), "elmo-pretrain", key)
    assert user_files(work) == before and not (work / "prepared").exists()


@pytest.mark.slow
def test_an_output_folder_below_a_file_is_one_line(work):
    (work / "taken").write_text("a file, not a folder\n")
    assert_one_line(pretrain(work, "output_dir=taken/run"), "elmo-pretrain", "taken/run")
    assert (work / "taken").read_text() == "a file, not a folder\n"


class _TouchesMarker:
    """Unpickling this creates a file: the proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_resuming_never_unpickles_code_from_a_checkpoint(work):
    marker = work / "code_ran"
    checkpoint = work / "run" / "checkpoints" / "last.ckpt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(pickle.dumps(_TouchesMarker(marker)))
    assert_one_line(pretrain(work), "elmo-pretrain", "last.ckpt", "move it away")
    assert not marker.exists() and checkpoint.exists()


@pytest.mark.slow
def test_perplexity_of_a_folder_that_is_not_a_model(work):
    outcome = run_command(
        ["-c", "import sys; from elmo.pretrain import perplexity_main; sys.exit(perplexity_main())",
         str(work / "corpus"), "--corpus", "corpus", "--prepared-dir", "prepared"],
        cwd=work,
    )
    assert_one_line(outcome, "elmo-perplexity", "options.json")


# The rest of the config checks in-process: the same function the command runs first.


def _config(work: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="pretrain",
            overrides=[f"corpus=[{work / 'corpus'}]", f"output_dir={work / 'run'}",
                       f"prepared_dir={work / 'prepared'}", *overrides],
        )


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("heldout_fraction=1.5", "'heldout_fraction'"),
        ("heldout_fraction=0", "'heldout_fraction'"),
        ("cutoffs=[10,5]", "'cutoffs'"),
        ("cutoffs=[a]", "'cutoffs'"),
        ("encoding_errors=maybe", "'encoding_errors'"),
        ("learning_rate=-1", "'learning_rate'"),
        ("learning_rate=nan", "'learning_rate'"),
        ("batch_tokens=0", "'batch_tokens'"),
        ("max_length=true", "'max_length'"),
        ("warmup_steps=-3", "'warmup_steps'"),
        ("cooldown_steps=-1", "'cooldown_steps'"),
        ("cooldown_steps=100", "'cooldown_steps' .* trainer.max_steps"),  # max_steps unset (-1)
        ("cooldown_steps=100 trainer.max_steps=50", "'cooldown_steps' .* at least it, got 50"),
        ("seed=x", "'seed'"),
        ("max_corpus_tokens=0", "'max_corpus_tokens'"),
        ("heldout_sentences=0", "'heldout_sentences'"),
        ("trainer.max_time=soon", "'trainer.max_time'"),
        ("trainer.val_check_interval=0", "'trainer.val_check_interval'"),
        ("trainer.gradient_clip_val=-1", "'trainer.gradient_clip_val'"),
        ("trainer.accelerator=tpu_please", "'trainer.accelerator'"),
        ("trainer.precision=16-mixed", "'trainer.precision' must be one of 32-true, 32, bf16-mixed"),
        ("+trainer.default_root_dir=x", "'trainer.default_root_dir'"),
        ("float32_matmul_precision=low", "'float32_matmul_precision'"),
        ("init_from=no/such/folder", "'init_from'"),
        ("model.char_cnn.filters=[]", "'char_cnn.filters'"),
        ("model.lstm.cell_clip=inf", "'lstm.cell_clip'"),
        ("corpus=[]", "'corpus'"),
    ],
)
def test_every_config_key_is_checked(work, override, key):
    with pytest.raises(ConfigError if "model" not in override else ValueError, match=key) as raised:
        check_pretrain_config(_config(work, *override.split()))
    assert "\n" not in str(raised.value)
    assert not (work / "prepared").exists()


def test_the_shipped_config_passes(work):
    check_pretrain_config(_config(work))


def test_an_empty_corpus_folder_names_the_key(work):
    (work / "empty").mkdir()
    with pytest.raises(ConfigError, match="'corpus'.*empty"):
        check_pretrain_config(_config(work, f"corpus=[{work / 'empty'}]"))


@pytest.mark.parametrize("damage", ["meta", "array", "types"])
def test_a_damaged_prepared_corpus_is_prepared_again(work, damage, caplog):
    import logging

    import numpy as np

    from elmo.lm_data import prepare_corpus

    first = prepare_corpus(work / "corpus", work / "prepared", heldout_fraction=0.1)
    if damage == "meta":
        (work / "prepared" / "meta.json").write_text("{not json", encoding="utf-8")
    elif damage == "array":
        np.save(work / "prepared" / "offsets.npy", np.array(["x", None], dtype=object), allow_pickle=True)
    else:
        (work / "prepared" / "types.txt").write_bytes(b"\xff\xfe broken")
    with caplog.at_level(logging.WARNING, logger="elmo.lm_data"):
        again = prepare_corpus(work / "corpus", work / "prepared", heldout_fraction=0.1)
    assert any("damaged" in r.getMessage() for r in caplog.records)
    assert again.types == first.types and np.array_equal(again.offsets, first.offsets)
