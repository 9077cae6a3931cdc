"""Language-model pretraining end to end on a tiny synthetic corpus."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from elmo import BiLM
from elmo.corpus import CorpusError
from elmo.lm_data import LanguageModelBatches, build_vocabulary, prepare_corpus
from elmo.pretrain import CONF_DIR, evaluate, load_language_model, run

NOUNS = ["cat", "dog", "bird", "man", "woman", "child", "farmer", "teacher"]
VERBS = ["sees", "likes", "chases", "feeds", "finds", "helps"]
PLACES = ["in the garden", "near the river", "at the market", "on the hill"]


def write_corpus(folder: Path, sentences: int = 3000, seed: int = 0) -> Path:
    """Sentences of a small grammar: a language model can learn a lot of it quickly."""
    rng = random.Random(seed)
    lines = [
        f"The {rng.choice(NOUNS)} {rng.choice(VERBS)} the {rng.choice(NOUNS)} {rng.choice(PLACES)}."
        for _ in range(sentences)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "text.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n\n".join(lines) + "\n")
    return path


def tiny_config(tmp_path: Path, corpus: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="pretrain",
            overrides=[
                f"corpus=[{corpus}]",
                f"output_dir={tmp_path / 'run'}",
                f"prepared_dir={tmp_path / 'prepared'}",
                "heldout_fraction=0.05",
                "vocab_size=100",
                "cutoffs=[20]",
                "heldout_sentences=100",
                "batch_tokens=256",
                "learning_rate=5e-3",
                "warmup_steps=20",
                "model.lstm.dim=32",
                "model.lstm.projection_dim=16",
                "model.char_cnn.embedding.dim=4",
                "model.char_cnn.filters=[[1,8],[2,8],[3,16]]",
                "trainer.max_time=null",
                "trainer.val_check_interval=100",
                "trainer.enable_progress_bar=false",
                *overrides,
            ],
        )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pretrain")
    corpus = write_corpus(tmp_path / "corpus")
    cfg = tiny_config(tmp_path, corpus, "trainer.max_steps=300")
    return cfg, run(cfg)


def test_perplexity_drops_well_below_the_start(trained):
    cfg, metrics = trained
    from elmo.lm import BiLanguageModel
    from elmo.lm_data import TokenizedCorpus

    corpus = TokenizedCorpus.load(cfg.prepared_dir)
    vocabulary = build_vocabulary(corpus, cfg.vocab_size)
    heldout = LanguageModelBatches(corpus, vocabulary, "heldout", max_tokens=256)
    options = OmegaConf.to_container(cfg.model, resolve=True)
    untrained = BiLanguageModel(options, len(vocabulary), list(cfg.cutoffs), seed=cfg.seed)
    start = evaluate(untrained, heldout)
    assert start["ppl"] > 20  # about the vocabulary's size of the grammar
    assert metrics["ppl_forward"] < start["ppl_forward"] / 4
    assert metrics["ppl_backward"] < start["ppl_backward"] / 4
    assert metrics["steps"] == 300 and metrics["train_tokens"] > 0


def test_export_reloads_with_identical_outputs(trained):
    cfg, metrics = trained
    export = Path(cfg.output_dir) / "export"
    bilm = BiLM.from_allennlp(export / "options.json", export / "weights.hdf5")
    model, vocabulary = load_language_model(export)
    sentences = [["The", "dog", "likes", "the", "cat", "."], ["A", "new", "word", "here"]]
    for a, b in zip(bilm.embed_sentences(sentences), model.bilm.embed_sentences(sentences), strict=True):
        assert torch.equal(a, b)
    # The reloaded language model scores the held-out text exactly as the run reported.
    from elmo.lm_data import TokenizedCorpus

    corpus = TokenizedCorpus.load(cfg.prepared_dir)
    heldout = LanguageModelBatches(corpus, vocabulary, "heldout", max_tokens=cfg.batch_tokens)
    again = evaluate(model, heldout)
    assert again["ppl_forward"] == pytest.approx(metrics["ppl_forward"], rel=1e-6)
    assert again["ppl_backward"] == pytest.approx(metrics["ppl_backward"], rel=1e-6)


def test_perplexity_command_recomputes_the_reported_figures(trained, capsys, monkeypatch):
    from elmo.pretrain import perplexity_main

    monkeypatch.setenv("ELMO_PROGRESS", "1")
    cfg, metrics = trained
    perplexity_main([
        str(Path(cfg.output_dir) / "export"), "--corpus", *cfg.corpus, "--prepared-dir", cfg.prepared_dir,
        "--heldout-fraction", str(cfg.heldout_fraction), "--batch-tokens", str(cfg.batch_tokens),
    ])
    printed, progress = capsys.readouterr()
    assert f"forward {metrics['ppl_forward']:.2f}, backward {metrics['ppl_backward']:.2f}" in printed
    assert "held-out perplexity" in progress and "100%" in progress  # the bar counted every target


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", sentences=500)
    straight = run(tiny_config(tmp_path / "a", corpus, "trainer.max_steps=40", "trainer.val_check_interval=20"))
    first = tiny_config(tmp_path / "b", corpus, "trainer.max_steps=20", "trainer.val_check_interval=20")
    run(first)
    resumed = run(tiny_config(tmp_path / "b", corpus, "trainer.max_steps=40", "trainer.val_check_interval=20"))
    assert resumed["steps"] == 40 and resumed["train_tokens"] == straight["train_tokens"]
    a = BiLM.from_allennlp(tmp_path / "a/run/export/options.json", tmp_path / "a/run/export/weights.hdf5")
    b = BiLM.from_allennlp(tmp_path / "b/run/export/options.json", tmp_path / "b/run/export/weights.hdf5")
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.allclose(x, y, atol=1e-6)


def test_prepared_corpus_split_is_reproducible(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", sentences=400)
    first = prepare_corpus(corpus, tmp_path / "p1", heldout_fraction=0.1)
    second = prepare_corpus(corpus, tmp_path / "p2", heldout_fraction=0.1)
    assert np.array_equal(first.heldout, second.heldout) and 0 < first.heldout.sum() < 400
    assert first.types == second.types and np.array_equal(first.tokens, second.tokens)
    assert first.num_sentences == 400


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty corpus: no tokens in .*empty\.txt"),
        (b"fine line\n\xff\xfe broken\n", r"bad\.txt: line 2 \(byte 10\) is not UTF-8"),
    ],
)
def test_bad_corpus_files_are_named(tmp_path, content, message):
    name = "empty.txt" if not content else "bad.txt"
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        prepare_corpus(tmp_path / name, tmp_path / "prepared")


def test_encoding_errors_can_be_replaced(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"fine line\n\xff\xfe broken\n")
    corpus = prepare_corpus(tmp_path / "bad.txt", tmp_path / "prepared", encoding_errors="replace")
    assert corpus.num_sentences == 1 and "\ufffd\ufffd" in corpus.types  # one paragraph


def test_missing_corpus_is_named(tmp_path):
    with pytest.raises(CorpusError, match=r"corpus path not found: .*nothere"):
        prepare_corpus(tmp_path / "nothere", tmp_path / "prepared")
