"""Static vectors: every file format on tiny files, bad inputs, the GloVe package, training
word2vec and fastText on a tiny corpus, and the static and random embedders."""

from __future__ import annotations

import fcntl
import gzip
import pickle
import random
import shutil
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import FastText, KeyedVectors
from gensim.models.fasttext import load_facebook_vectors, save_facebook_model
from hydra.utils import instantiate
from omegaconf import OmegaConf

from elmo.corpus import HeldOutSplit, iter_sentences
from tasks.vectors import (
    RandomEmbedder,
    StaticEmbedder,
    VectorFileError,
    default_vectors_path,
    glove_6b_50d,
    main,
    read_vectors,
    train_static_vectors,
    trained_vectors,
)

DATA = Path(__file__).parent / "data" / "vectors"
CONF = Path(__file__).resolve().parents[2] / "conf" / "embedder"

GLOVE_WORDS = ["the", "cat", "sat", ".", "new york"]
GLOVE_VECTORS = np.array(
    [[0.1, 0.2, 0.3], [-1, 0.5, 0.25], [0, 0, 1], [1, 1, 1], [0.5, -0.5, 0.25]], dtype=np.float32
)
BINARY_WORDS = ["the", "cat", "sat", ".", "new_york"]  # a word in a binary file ends at a space


def write_word2vec_binary(path: Path, words: list[str], vectors: np.ndarray) -> Path:
    """word2vec's binary format, written by gensim."""
    keyed = KeyedVectors(vectors.shape[1])
    keyed.add_vectors(words, vectors)
    keyed.save_word2vec_format(str(path), binary=True)
    return path


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


@pytest.fixture(scope="module")
def fasttext_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fastText model in Facebook's binary format."""
    rng = random.Random(0)
    words = ["walk", "walked", "walking", "talk", "talked", "Paris", "river", "house"]
    sentences = [[rng.choice(words) for _ in range(8)] for _ in range(200)]
    model = FastText(
        sentences, vector_size=8, min_count=1, bucket=2000, epochs=2, workers=1, seed=0
    )
    path = tmp_path_factory.mktemp("fasttext") / "tiny.bin"
    save_facebook_model(model, str(path))
    return path


# ----------------------------------------------------------------------------- formats


def test_glove_text_is_read_exactly_with_words_that_hold_spaces():
    table = read_vectors(DATA / "glove_tiny.txt")
    assert table.words == GLOVE_WORDS
    assert table.vectors.dtype == np.float32 and np.array_equal(table.vectors, GLOVE_VECTORS)
    assert table.dim == 3 and table.source == str(DATA / "glove_tiny.txt")
    assert table.lowercase and table.subwords is None


def test_word2vec_text_with_a_header_bom_and_trailing_spaces():
    table = read_vectors(DATA / "word2vec_tiny.vec")
    assert table.words == ["The", "the", "Paris", ","]
    assert np.array_equal(table.vectors[2], np.array([1, 2, 3], dtype=np.float32))
    assert not table.lowercase
    explicit = read_vectors(DATA / "word2vec_tiny.vec", "word2vec")
    assert np.array_equal(explicit.vectors, table.vectors)


@pytest.mark.parametrize("compress", [False, True])
def test_word2vec_binary_written_by_gensim_reads_back_exactly(tmp_path, compress):
    path = write_word2vec_binary(tmp_path / "vectors.bin", BINARY_WORDS, GLOVE_VECTORS)
    if compress:
        path = tmp_path / "vectors.bin.gz"
        path.write_bytes(gzip.compress((tmp_path / "vectors.bin").read_bytes()))
    for fmt in ("auto", "word2vec-binary"):
        table = read_vectors(path, fmt)
        assert table.words == BINARY_WORDS and np.array_equal(table.vectors, GLOVE_VECTORS)


def test_word2vec_binary_of_the_c_tool_with_a_newline_after_each_vector(tmp_path):
    body = b"".join(
        f"{word} ".encode() + row.tobytes() + b"\n"
        for word, row in zip(BINARY_WORDS, GLOVE_VECTORS, strict=True)
    )
    path = tmp_path / "c_tool.bin"
    path.write_bytes(b"5 3\n" + body)
    table = read_vectors(path)
    assert table.words == BINARY_WORDS and np.array_equal(table.vectors, GLOVE_VECTORS)


def test_gzip_text_is_told_by_its_bytes_not_its_name(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_bytes(gzip.compress((DATA / "glove_tiny.txt").read_bytes()))
    assert np.array_equal(read_vectors(path).vectors, GLOVE_VECTORS)


def test_fasttext_binary_keeps_subwords_for_unknown_words(fasttext_bin):
    table = read_vectors(fasttext_bin)
    oracle = load_facebook_vectors(str(fasttext_bin))
    assert table.words == oracle.index_to_key and table.subwords is not None
    embedder = StaticEmbedder(str(fasttext_bin))
    assert not embedder.lowercase  # "Paris" is cased
    out = embedder([["walked", "walkers", "Paris"]])
    assert torch.allclose(out.layers[0, 0, 0], torch.tensor(oracle["walked"]))
    assert "walkers" not in oracle.key_to_index
    assert torch.allclose(out.layers[0, 0, 1], torch.tensor(oracle["walkers"]))
    assert out.layers[0, 0, 1].abs().sum() > 0
    coverage = embedder.coverage([["walked", "walkers", "Paris"]])
    assert coverage == {"tokens": 3, "found": 2, "share": 2 / 3}


def test_a_gzip_fasttext_binary_is_refused_with_advice(tmp_path, fasttext_bin):
    path = tmp_path / "tiny.bin.gz"
    path.write_bytes(gzip.compress(fasttext_bin.read_bytes()))
    with pytest.raises(VectorFileError, match="decompress"):
        read_vectors(path)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("short_line.txt", 3, "expected 3 values (as on line 1), found 2"),
        ("not_a_number.txt", 2, "value 'abc' is not a number"),
        ("infinite.txt", 2, "finite"),
        ("header_count.vec", 1, "the header announces 4 vectors, the file holds 3"),
        ("header_dim.vec", 2, "expected 4 values (the header's dimension), found 3"),
        ("header_short.vec", 3, "more vectors than the 1 of the header (line 1)"),
        ("latin1.txt", 2, "invalid UTF-8 byte 0xe9 at byte 4 of the line"),
        ("empty.txt", None, "the file is empty"),
    ],
)
def test_bad_text_files_name_the_file_and_line(name, line, message):
    path = DATA / name
    with pytest.raises(VectorFileError) as caught:
        read_vectors(path)
    error = caught.value
    assert (error.source, error.line) == (str(path), line)
    assert message in error.message
    where = str(path) if line is None else f"{path}, line {line}"
    assert str(error) == f"{where}: {error.message}"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is VectorFileError and str(copy) == str(error) and copy.line == line


def test_an_explicit_format_checks_the_header():
    with pytest.raises(VectorFileError, match="expected a header 'count dimension'") as caught:
        read_vectors(DATA / "glove_tiny.txt", "word2vec")
    assert caught.value.line == 1
    with pytest.raises(ValueError, match="format must be one of"):
        read_vectors(DATA / "glove_tiny.txt", "vec")


def test_a_missing_file_names_its_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere.txt")):
        read_vectors(tmp_path / "nowhere.txt")
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        StaticEmbedder(str(tmp_path / "nowhere.txt"))


def test_a_truncated_word2vec_binary_names_the_entry(tmp_path):
    path = write_word2vec_binary(tmp_path / "vectors.bin", BINARY_WORDS, GLOVE_VECTORS)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(VectorFileError, match="the file ends inside entry 5 "):
        read_vectors(path)


def test_a_word2vec_binary_longer_than_its_header_is_refused(tmp_path):
    path = write_word2vec_binary(tmp_path / "vectors.bin", BINARY_WORDS, GLOVE_VECTORS)
    path.write_bytes(b"4 3\n" + path.read_bytes().split(b"\n", 1)[1])
    with pytest.raises(VectorFileError, match="more data after the 4 vectors"):
        read_vectors(path)


def test_a_word2vec_binary_word_that_is_not_utf8_names_the_entry(tmp_path):
    path = tmp_path / "latin1.bin"
    path.write_bytes(
        b"2 3\nthe " + GLOVE_VECTORS[0].tobytes() + b"caf\xe9 " + GLOVE_VECTORS[1].tobytes()
    )
    message = r"entry 2 \(byte 20\): the word holds the invalid UTF-8 byte 0xe9"
    with pytest.raises(VectorFileError, match=message):
        read_vectors(path, "word2vec-binary")


class _CreatesMarker:
    """Unpickling this creates a file: the proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_pickle_posing_as_vectors_is_refused_not_run(tmp_path):
    marker = tmp_path / "pickle_ran"
    payload = tmp_path / "vectors.bin"
    payload.write_bytes(pickle.dumps(_CreatesMarker(marker)))
    for fmt in ("auto", "word2vec-binary", "word2vec", "glove", "fasttext-binary"):
        with pytest.raises(VectorFileError):
            read_vectors(payload, fmt)
    with pytest.raises(VectorFileError):
        StaticEmbedder(str(payload))
    assert not marker.exists()
    pickle.loads(payload.read_bytes()).close()  # the payload is live: unpickled, it runs
    assert marker.exists()


# ----------------------------------------------------------------------------- GloVe package


def test_the_glove_package_is_the_full_stanford_table():
    table = glove_6b_50d()
    assert len(table) == 400_000 and table.dim == 50 and table.vectors.shape == (400_000, 50)
    assert table.words[0] == "the" and table.index["the"] == 0 and table.lowercase
    assert np.allclose(table.vectors[0, :5], [0.418, 0.24968, -0.41242, 0.1217, 0.34527])
    embedder = instantiate(OmegaConf.load(CONF / "glove.yaml"))
    out = embedder([["The", "Cat"], ["qqzzxxyy"]])
    assert out.layers.shape == (2, 1, 2, 50) and embedder.num_layers == 1
    assert torch.equal(out.layers[0, 0, 0], torch.from_numpy(np.array(table.vectors[0])))
    coverage = embedder.coverage([["The", "Cat"], ["qqzzxxyy"]])
    assert coverage == {"tokens": 3, "found": 2, "share": 2 / 3}


# ----------------------------------------------------------------------------- StaticEmbedder


def test_uncased_tables_match_case_insensitively_and_unknown_words_are_zero():
    sentences = [["The", "cat", "sat", "."], ["A", "dog", "sat"]]
    embedder = StaticEmbedder(str(DATA / "glove_tiny.txt"))
    out = embedder(sentences)
    assert embedder.lowercase and embedder.dim == 3
    assert out.layers.shape == (2, 1, 4, 3)
    assert out.mask.tolist() == [[True] * 4, [True, True, True, False]]
    zero = np.zeros(3, dtype=np.float32)
    expected = torch.from_numpy(
        np.stack([GLOVE_VECTORS[:4], np.stack([zero, zero, GLOVE_VECTORS[2], zero])])
    )
    assert torch.equal(out.layers[:, 0], expected)  # unknown words and padding are zero
    assert embedder.coverage(sentences) == {"tokens": 7, "found": 5, "share": 5 / 7}
    exact = StaticEmbedder(str(DATA / "glove_tiny.txt"), lowercase=False)
    assert not exact.lowercase and exact(sentences).layers[0, 0, 0].abs().sum() == 0
    assert exact.coverage(sentences) == {"tokens": 7, "found": 4, "share": 4 / 7}


def test_cased_tables_match_exactly():
    embedder = StaticEmbedder(str(DATA / "word2vec_tiny.vec"))
    out = embedder([["The", "the", "paris"]])
    assert out.layers[0, 0, :, 0].tolist() == pytest.approx([0.1, 0.4, 0.0])


def test_the_table_is_frozen_and_left_out_of_checkpoints():
    embedder = StaticEmbedder(str(DATA / "glove_tiny.txt"))
    assert list(embedder.parameters()) == [] and embedder.state_dict() == {}
    head = torch.nn.Linear(3, 2)
    out = embedder([["the", "cat"]])
    assert not out.layers.requires_grad
    head(out.layers).sum().backward()
    assert head.weight.grad is not None


def test_an_empty_batch_and_empty_sentences():
    embedder = StaticEmbedder(str(DATA / "glove_tiny.txt"))
    assert embedder([]).layers.shape == (0, 1, 0, 3)
    out = embedder([[], ["cat"]])
    assert out.layers.shape == (2, 1, 1, 3) and out.mask.tolist() == [[False], [True]]
    with pytest.raises(ValueError, match="no tokens"):
        embedder.coverage([[]])


def test_fingerprint_follows_the_content_and_lowercase_not_the_path(tmp_path):
    copy = tmp_path / "copy.txt"
    shutil.copy(DATA / "glove_tiny.txt", copy)
    original = StaticEmbedder(str(DATA / "glove_tiny.txt")).fingerprint()
    copied = StaticEmbedder(str(copy))
    copy.unlink()  # the fingerprint comes from the table in memory, not from the file
    assert copied.fingerprint() == original
    assert StaticEmbedder(str(DATA / "glove_tiny.txt"), lowercase=False).fingerprint() != original
    copy.write_text((DATA / "glove_tiny.txt").read_text().replace("0.3", "0.30001"))
    assert StaticEmbedder(str(copy)).fingerprint() != original


def test_fasttext_fingerprint_covers_the_subword_ngrams(tmp_path, fasttext_bin):
    keyed = load_facebook_vectors(str(fasttext_bin))
    words_only = write_word2vec_binary(tmp_path / "words.bin", keyed.index_to_key, keyed.vectors)
    with_subwords = StaticEmbedder(str(fasttext_bin))
    assert np.array_equal(read_vectors(words_only).vectors, with_subwords.vector_table.vectors)
    assert StaticEmbedder(str(words_only)).fingerprint() != with_subwords.fingerprint()


# ----------------------------------------------------------------------------- RandomEmbedder

TRAIN = [["The", "cat", "sat"], ["the", "cat", "ran", "."]]


def test_random_vectors_cover_the_training_vocabulary_and_share_one_unknown_vector():
    embedder = RandomEmbedder(dim=300, seed=0)
    with pytest.raises(RuntimeError, match="fit"):
        embedder([["cat"]])
    embedder.fit(TRAIN)
    assert embedder.words == [".", "The", "cat", "ran", "sat", "the"]
    out = embedder([["cat", "dog", "bird"], ["the"]])
    layers = out.layers[:, 0]
    assert layers.shape == (2, 3, 300) and embedder.num_layers == 1
    assert torch.equal(layers[0, 1], layers[0, 2]) and torch.equal(layers[0, 1], embedder.unknown)
    assert not torch.equal(layers[0, 0], layers[0, 1])
    assert torch.equal(layers[1, 1:], torch.zeros(2, 300))  # padding
    assert float(embedder.table.std()) == pytest.approx(300**-0.5, rel=0.05)
    assert embedder.coverage([["cat", "dog", "The"]]) == {"tokens": 3, "found": 2, "share": 2 / 3}
    assert list(embedder.parameters()) == [] and embedder.state_dict() == {}


def test_random_vectors_are_fixed_by_the_seed():
    def fitted(seed: int, train: list[list[str]] = TRAIN) -> RandomEmbedder:
        embedder = RandomEmbedder(dim=16, seed=seed)
        embedder.fit(train)
        return embedder

    sentences = [["cat", "dog"]]
    assert torch.equal(fitted(0)(sentences).layers, fitted(0)(sentences).layers)
    assert fitted(0).fingerprint() == fitted(0).fingerprint()
    assert not torch.equal(fitted(0)(sentences).layers, fitted(1)(sentences).layers)
    assert fitted(0).fingerprint() != fitted(1).fingerprint()
    assert fitted(0).fingerprint() != fitted(0, TRAIN + [["dog"]]).fingerprint()


def test_random_min_count_and_the_config():
    embedder = RandomEmbedder(dim=4, min_count=2)
    embedder.fit(TRAIN)
    assert embedder.words == ["cat"]
    with pytest.raises(ValueError, match="no training word occurs 3 times"):
        RandomEmbedder(min_count=3).fit(TRAIN)
    cfg = OmegaConf.load(CONF / "random.yaml")
    cfg.seed = 7
    configured = instantiate(cfg)
    assert (configured.dim, configured.seed, configured.min_count) == (300, 7, 1)


# ----------------------------------------------------------------------------- training


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


def test_every_static_config_opens_with_a_comment_and_has_no_name():
    for name in ("glove", "word2vec", "fasttext", "random"):
        text = (CONF / f"{name}.yaml").read_text()
        assert text.startswith("# ") and "name:" not in text
        assert OmegaConf.load(CONF / f"{name}.yaml")._target_.startswith("tasks.vectors.")
