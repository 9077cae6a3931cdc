"""Word-vector files: every format on tiny files, bad inputs named by file and line, and
files that are not what they claim (a pickle is refused, never run)."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models.fasttext import load_facebook_vectors

from tasks.embedders.static import StaticEmbedder
from tasks.embedders.vector_files import VectorFileError, read_vectors
from tests.tasks.vector_helpers import (
    BINARY_WORDS,
    DATA,
    GLOVE_VECTORS,
    GLOVE_WORDS,
    write_word2vec_binary,
)

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

