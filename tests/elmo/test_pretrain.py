"""Language-model pretraining end to end on a tiny synthetic corpus."""

from __future__ import annotations

import csv
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


def test_learning_rate_schedule_continues_an_earlier_run():
    from elmo.lm import learning_rate_factor

    # A run from scratch: the linear warm-up, then the inverse square-root decay.
    for step in (0, 5, 19, 20, 50, 999):
        assert learning_rate_factor(step, 20) == pytest.approx(min((step + 1) / 20, (20 / (step + 1)) ** 0.5))
    # Continued after 1,000 steps: warm up again, to where the decay had got to.
    assert learning_rate_factor(0, 20, 1000) == pytest.approx(1 / 20 * (20 / 1001) ** 0.5)
    assert learning_rate_factor(99, 20, 1000) == pytest.approx((20 / 1100) ** 0.5)


def test_a_cooldown_takes_the_rate_linearly_to_zero_at_the_last_step():
    from elmo.lm import learning_rate_factor

    def decayed(step):  # without a cool-down: warm-up, then inverse square root after 1,000 earlier steps
        return learning_rate_factor(step, 20, 1000)

    # 100 steps in all, the last 40 cooling down: untouched before step 60.
    for step in (0, 19, 59):
        assert learning_rate_factor(step, 20, 1000, 40, 100) == pytest.approx(decayed(step))
    assert learning_rate_factor(60, 20, 1000, 40, 100) == pytest.approx(decayed(60))  # (100 - 60) / 40 = 1
    assert learning_rate_factor(80, 20, 1000, 40, 100) == pytest.approx(decayed(80) * 0.5)
    assert learning_rate_factor(99, 20, 1000, 40, 100) == pytest.approx(decayed(99) / 40)
    # A cool-down over the whole run multiplies the warm-up too: step 9 of 100 is 10/20 up, 91/100 left.
    assert learning_rate_factor(9, 20, 0, 100, 100) == pytest.approx(10 / 20 * 91 / 100)


def test_the_learning_rate_a_cooldown_run_logs_falls_to_zero(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", sentences=200)
    metrics = run(tiny_config(
        tmp_path, corpus, "trainer.max_steps=30", "cooldown_steps=10", "warmup_steps=5", "trainer.log_every_n_steps=1",
    ))
    assert metrics["schedule"] == {"batch_tokens": 256, "learning_rate": 5e-3, "warmup_steps": 5, "cooldown_steps": 10}
    rows = list(csv.DictReader((tmp_path / "run/logs/version_0/metrics.csv").open()))
    rates = {int(row["step"]): float(row["train/learning_rate"]) for row in rows if row.get("train/learning_rate")}
    assert rates[19] == pytest.approx(5e-3 * (5 / 20) ** 0.5, rel=1e-6)  # warm-up over, inverse square root
    assert rates[20] == pytest.approx(5e-3 * (5 / 21) ** 0.5, rel=1e-6)  # (30 - 20) / 10 = 1: not cooled yet
    assert rates[25] == pytest.approx(5e-3 * (5 / 26) ** 0.5 * 0.5, rel=1e-6)
    assert rates[29] == pytest.approx(5e-3 * (5 / 30) ** 0.5 / 10, rel=1e-6)
    assert [rates[s] for s in range(20, 30)] == sorted((rates[s] for s in range(20, 30)), reverse=True)


def test_training_continues_from_an_export_where_it_stopped(tmp_path):
    from elmo.pretrain import CheckpointError

    corpus = write_corpus(tmp_path / "corpus", sentences=500)
    common = ("trainer.val_check_interval=10", "warmup_steps=5")
    straight = run(tiny_config(tmp_path / "a", corpus, "trainer.max_steps=40", *common))
    first = run(tiny_config(tmp_path / "b", corpus, "trainer.max_steps=20", *common))
    init = f"init_from={tmp_path / 'b/run/export'}"
    # The continued run is itself interrupted after 10 of its steps, then resumed.
    run(tiny_config(tmp_path / "c", corpus, "trainer.max_steps=10", init, *common))
    with pytest.raises(CheckpointError, match="continues an export after 20 steps, but this run's init_from is null"):
        run(tiny_config(tmp_path / "c", corpus, "trainer.max_steps=20", *common))
    more = run(tiny_config(tmp_path / "c", corpus, "trainer.max_steps=20", init, *common))
    # It trained on batches 20..39 of the same stream, as the straight run did.
    assert more["steps"] == 40 and more["data_position"] == 40
    assert more["train_tokens"] == straight["train_tokens"] > first["train_tokens"]
    assert more["ppl"] < first["ppl"]
    assert more["continued_from"]["steps"] == 20
    assert [r["steps"] for r in more["runs"]] == [20, 40]


def test_training_continues_with_another_batch_size(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", sentences=500)
    first = run(tiny_config(tmp_path / "a", corpus, "trainer.max_steps=12"))
    init = f"init_from={tmp_path / 'a/run/export'}"
    more = run(tiny_config(tmp_path / "b", corpus, "trainer.max_steps=3", "batch_tokens=1000", init))
    # Twelve batches of 256 tokens are three or four of 1,000.
    assert more["data_position"] - 3 in (3, 4) and more["steps"] == 15
    assert more["train_tokens"] > first["train_tokens"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("vocab_size=50", "key 'vocab_size' is 50 but .* was trained with 100"),
        ("model.lstm.dim=48", "key 'model' differs from"),
        ("max_length=20", "key 'max_length'"),
        ("cutoffs=[10]", "key 'cutoffs' differs from"),
        ("corpus", "the vocabulary of this corpus"),
    ],
)
def test_continuing_with_other_settings_is_refused(tmp_path, override, message):
    from elmo.errors import ConfigError

    corpus = write_corpus(tmp_path / "corpus", sentences=200)
    run(tiny_config(tmp_path / "a", corpus, "trainer.max_steps=2"))
    export = tmp_path / "a/run/export"
    if override == "corpus":  # the same words, other counts: another vocabulary order
        other = write_corpus(tmp_path / "other", sentences=200, seed=1)
        override = f"corpus=[{other}]"
    with pytest.raises(ConfigError, match=message) as raised:
        run(tiny_config(tmp_path / "b", corpus, "trainer.max_steps=2", f"init_from={export}", override))
    assert "\n" not in str(raised.value)


def test_a_stream_of_another_batch_size_continues_after_the_same_sentences(tmp_path):
    corpus_path = write_corpus(tmp_path / "corpus", sentences=20000)
    corpus = prepare_corpus([str(corpus_path)], tmp_path / "prepared", 0.05, 0, None)
    vocabulary = build_vocabulary(corpus, 100)
    small = LanguageModelBatches(corpus, vocabulary, "train", max_tokens=64)
    large = LanguageModelBatches(corpus, vocabulary, "train", max_tokens=128)
    pool = large._POOL_BATCHES * 128 // 32  # pieces sorted and batched together
    per_epoch = len(small.epoch(0))
    for position in (0, 37, per_epoch // 2, per_epoch + 11):
        epoch, tokens = small.tokens_before(position)
        assert epoch == (position >= per_epoch)
        start = large.position_at(epoch, tokens)
        again_epoch, again_tokens = large.tokens_before(start)
        assert again_epoch == epoch and tokens <= again_tokens < tokens + 128
        first = sum(len(large.epoch(e)) for e in range(epoch))
        seen = {i for b in small.epoch(epoch)[: position - epoch * per_epoch] for i in b}
        seen_large = {i for b in large.epoch(epoch)[: start - first] for i in b}
        # The same sentences but for the order within one pool of each size.
        assert len(seen ^ seen_large) <= 2 * pool
        if position == per_epoch // 2:
            assert len(seen) > 8 * pool  # a bound that means something


def test_adaptive_log_probs_are_the_softmax_outputs():
    """The log-probabilities written for autocast equal ``AdaptiveLogSoftmaxWithLoss``'s in
    float32, gradients included, and stay within bfloat16 precision of them under autocast."""
    from elmo.lm import adaptive_log_probs

    torch.manual_seed(0)
    softmax = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 300, [20, 100], div_value=2.0)
    states = torch.randn(400, 16, requires_grad=True)
    targets = torch.randint(0, 300, (400,))
    assert all(((targets >= lo) & (targets < hi)).any() for lo, hi in [(0, 20), (20, 100), (100, 300)])
    expected = softmax(states, targets).output
    ours = adaptive_log_probs(softmax, states, targets)
    torch.testing.assert_close(ours, expected, rtol=1e-6, atol=1e-6)
    (grad_expected,) = torch.autograd.grad(expected.sum(), states)
    (grad_ours,) = torch.autograd.grad(ours.sum(), states)
    torch.testing.assert_close(grad_ours, grad_expected, rtol=1e-5, atol=1e-6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = adaptive_log_probs(softmax, states, targets)
    assert low.dtype == torch.float32 and not torch.equal(low, ours)
    torch.testing.assert_close(low, ours, rtol=0, atol=0.05)


def test_bfloat16_mixed_training_learns_as_float32_does(trained, tmp_path):
    cfg, metrics = trained
    low = run(tiny_config(tmp_path, Path(cfg.corpus[0]), "trainer.max_steps=300", "trainer.precision=bf16-mixed"))
    for key in ("ppl_forward", "ppl_backward"):  # both scored in float32 on the same held-out text
        assert low[key] == pytest.approx(metrics[key], rel=0.05)
        assert low[key] != metrics[key]  # the multiplies were rounded: not the float32 run again
    assert low["train_tokens"] == metrics["train_tokens"]
