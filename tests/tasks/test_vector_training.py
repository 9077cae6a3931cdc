"""Training word2vec and fastText on a tiny corpus (the ``elmo-train-vectors`` command), and
the default vectors trained once on first use under a lock."""

from __future__ import annotations

import fcntl
import random
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from elmo.corpus import HeldOutSplit, iter_sentences
from tasks.embedders.static import StaticEmbedder
from tasks.embedders.vector_files import read_vectors
from tasks.vector_training import default_vectors_path, main, train_static_vectors, trained_vectors
from tests.tasks.vector_helpers import BINARY_WORDS, CONF, GLOVE_VECTORS, write_word2vec_binary


def write_corpus(folder: Path, sentences: int = 300) -> Path:
    """Sentences (one paragraph each) that each hold a token of their own, twice."""
    rng = random.Random(0)
    subjects = ["The cat", "A dog", "My neighbour", "The old farmer", "Paris"]
    verbs = ["sat on", "looked at", "walked to", "painted"]
    objects = ["the mat", "the river", "a small house", "the market"]
    paragraphs = [
        f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} with id{i} and id{i}."
        for i in range(sentences)
    ]
    folder.mkdir(parents=True)
    (folder / "story.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


def train_vocabulary(corpus: Path, heldout_fraction: float, min_count: int) -> set[str]:
    """The words a model trained on the corpus's training side must hold (the oracle)."""
    split = HeldOutSplit(fraction=heldout_fraction, seed=0)
    counts = Counter(
        token for tokens in iter_sentences(corpus, part="train", split=split) for token in tokens
    )
    return {word for word, count in counts.items() if count >= min_count}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "text")


def test_word2vec_trains_on_the_training_sentences_only(tmp_path, corpus, capsys):
    output = tmp_path / "w2v.bin"
    main([
        "word2vec", "--corpus", str(corpus), "--output", str(output), "--dim", "8", "--epochs", "1",
        "--min-count", "2", "--workers", "1", "--prepared-dir", str(tmp_path / "prepared"),
        "--heldout-fraction", "0.2",
    ])
    embedder = StaticEmbedder(str(output))
    expected = train_vocabulary(corpus, 0.2, min_count=2)
    assert set(embedder.vector_table.words) == expected
    assert any(f"id{i}" not in expected for i in range(300))  # held-out sentences were left out
    assert embedder.dim == 8 and not embedder.lowercase
    out = embedder([["The", "cat", "sat", "on", "the", "zebra"]])
    assert out.layers.shape == (1, 1, 6, 8) and out.layers[0, 0, 5].abs().sum() == 0
    assert not list(tmp_path.glob(".w2v.bin.*"))  # no temporary file left behind


def test_fasttext_trains_and_embeds_unknown_words_from_ngrams(tmp_path, corpus):
    output = train_static_vectors(
        "fasttext", corpus, tmp_path / "ft.bin", dim=8, epochs=1, min_count=2, workers=1,
        max_tokens=1500, prepared_dir=tmp_path / "prepared",
    )
    assert output.read_bytes()[:4] == (793712314).to_bytes(4, "little")  # Facebook's format
    embedder = StaticEmbedder(str(output))
    assert embedder.vector_table.subwords is not None
    assert len(embedder.vector_table) < len(train_vocabulary(corpus, 0.01, min_count=2))
    out = embedder([["walked", "zebras"]])
    assert out.layers[0, 0, 1].abs().sum() > 0


def test_training_refuses_settings_that_leave_no_words(tmp_path, corpus):
    with pytest.raises(ValueError, match="no word occurs 1000 times"):
        train_static_vectors(
            "word2vec", corpus, tmp_path / "x.bin", min_count=1000, prepared_dir=tmp_path / "p"
        )
    with pytest.raises(SystemExit) as caught:
        main(["word2vec", "--max-tokens", "100"])
    assert caught.value.code == 2


@pytest.fixture
def workdir(tmp_path, monkeypatch, corpus) -> Path:
    """A working directory whose ../shared/data/corpus is the tiny corpus."""
    shutil.copytree(corpus, tmp_path / "shared" / "data" / "corpus")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("kind", ["word2vec", pytest.param("fasttext", marks=pytest.mark.slow)])
def test_the_config_trains_the_vectors_once_on_first_use(workdir, kind):
    embedder = instantiate(OmegaConf.load(CONF / f"{kind}.yaml"))
    path = workdir / default_vectors_path(kind)
    assert path.is_file() and (workdir / ".cache" / "prepared_corpus" / "meta.json").is_file()
    assert embedder.dim == 100 and (embedder.vector_table.subwords is not None) == (kind == "fasttext")
    written = path.stat().st_mtime_ns
    again = instantiate(OmegaConf.load(CONF / f"{kind}.yaml"))
    assert path.stat().st_mtime_ns == written and again.fingerprint() == embedder.fingerprint()


def test_a_job_waits_for_the_one_that_holds_the_training_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no corpus here: a job that trained would fail
    path = default_vectors_path("word2vec")
    path.parent.mkdir(parents=True)
    found: list[Path] = []
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiting = threading.Thread(target=lambda: found.append(trained_vectors("word2vec")))
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()
        write_word2vec_binary(path, BINARY_WORDS, GLOVE_VECTORS)  # the lock holder's training
    waiting.join(timeout=10)
    assert found == [path]
    assert read_vectors(path).words == BINARY_WORDS
