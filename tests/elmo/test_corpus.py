"""Tests for elmo.corpus: tokenization, streaming reads, the held-out split and the vocabulary."""

from __future__ import annotations

import gzip
import io
import itertools
import logging
import lzma
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from elmo.corpus import (
    SPECIAL_TOKENS,
    CorpusError,
    HeldOutSplit,
    Vocabulary,
    corpus_files,
    count_words,
    iter_paragraphs,
    iter_sentences,
    split_sentences,
    tokenize,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "corpus"

STORY = (
    "The U.S. economy grew 3.5% in 1987, Mr. Smith's report said.\n"
    'He didn\'t say "when."\n'
    "\n"
    "Prices rose to $1,234.56 a share.\n"
)
STORY_TOKENS = [
    [
        "The",
        "U.S.",
        "economy",
        "grew",
        "3.5",
        "%",
        "in",
        "1987",
        ",",
        "Mr.",
        "Smith",
        "'s",
        "report",
        "said",
        ".",
    ],
    ["He", "did", "n't", "say", '"', "when", ".", '"'],
    ["Prices", "rose", "to", "$", "1,234.56", "a", "share", "."],
]


def _write_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:xz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ('She said, "I can\'t go."', ["She", "said", ",", '"', "I", "ca", "n't", "go", ".", '"']),
        (
            "“Don’t,” she said—quietly.",
            ['"', "Do", "n't", ",", '"', "she", "said", "--", "quietly", "."],
        ),
        (
            "The Smiths' dog isn't John's.",
            ["The", "Smiths", "'", "dog", "is", "n't", "John", "'s", "."],
        ),
        (
            "It cost $1,234.56, up 3.5% (est.)!",
            ["It", "cost", "$", "1,234.56", ",", "up", "3.5", "%", "(", "est.", ")", "!"],
        ),
        (
            "The U.S. team moved to the U.S.",
            ["The", "U.S.", "team", "moved", "to", "the", "U.S.", "."],
        ),
        (
            "A well-known, year-ago co-worker -- gone...",
            ["A", "well-known", ",", "year-ago", "co-worker", "--", "gone", "..."],
        ),
        ("I'm sure you'll cannot?", ["I", "'m", "sure", "you", "'ll", "can", "not", "?"]),
        ("``Yes,'' he said.", ['"', "Yes", ",", '"', "he", "said", "."]),
    ],
)
def test_tokenize_follows_penn_treebank(sentence: str, expected: list[str]) -> None:
    assert tokenize(sentence) == expected


def test_split_sentences_keeps_abbreviations_inside() -> None:
    text = 'Mr. Smith went to the U.S. on Jan. 5. He met Dr. Jones. "Is it true?" she asked. Yes!'
    assert split_sentences(text) == [
        "Mr. Smith went to the U.S. on Jan. 5.",
        "He met Dr. Jones.",
        '"Is it true?" she asked.',
        "Yes!",
    ]


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("story.txt", Path.write_bytes),
        ("story.txt.gz", lambda path, data: path.write_bytes(gzip.compress(data))),
        ("story.txt.xz", lambda path, data: path.write_bytes(lzma.compress(data))),
    ],
)
def test_plain_and_compressed_files_give_the_same_sentences(
    tmp_path: Path, name: str, write
) -> None:
    path = tmp_path / name
    write(path, STORY.encode())
    assert list(iter_sentences(path)) == STORY_TOKENS
    assert list(iter_sentences(str(path))) == STORY_TOKENS


def test_paragraphs_join_wrapped_lines_and_break_at_blank_lines_and_indents(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.txt"
    path.write_text(
        "\ufeffHEADLINE &lt;ACME> GAINS\n"
        "  Shares of a well-\n"
        "  known firm rose\n"
        "  sharply.\n"
        "      A _second_ para-\n"
        "  graph.\n"
        "\n\n"
        "Last   line\twith\u00a0spaces.\n",
        encoding="utf-8",
    )
    assert list(iter_paragraphs(path)) == [
        "HEADLINE &lt;ACME> GAINS",
        "Shares of a well-known firm rose sharply.",
        "A _second_ para-graph.",
        "Last   line\twith\u00a0spaces.",
    ]
    assert list(iter_sentences(path)) == [
        ["HEADLINE", "<", "ACME", ">", "GAINS"],
        ["Shares", "of", "a", "well-known", "firm", "rose", "sharply", "."],
        ["A", "second", "para-graph", "."],
        ["Last", "line", "with", "spaces", "."],
    ]


def test_folder_is_read_recursively_in_sorted_order_skipping_metadata(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "deep" / "2").write_text("Second story.\n")
    (tmp_path / "a" / "one.txt.gz").write_bytes(gzip.compress(b"First story.\n"))
    (tmp_path / "c.txt.xz").write_bytes(lzma.compress(b"Third story.\n"))
    for ignored in (
        "README",
        "LICENSE.txt",
        "manifest.tsv",
        "cats.txt",
        "stopwords",
        ".hidden.txt",
    ):
        (tmp_path / ignored).write_text("Not corpus text.\n")
    assert [path.relative_to(tmp_path).as_posix() for path in corpus_files(tmp_path)] == [
        "a/one.txt.gz",
        "b/deep/2",
        "c.txt.xz",
    ]
    assert list(iter_sentences(tmp_path)) == [
        ["First", "story", "."],
        ["Second", "story", "."],
        ["Third", "story", "."],
    ]


def test_tar_xz_archive_streams_text_members_in_archive_order(tmp_path: Path) -> None:
    archive = tmp_path / "news.tar.xz"
    _write_tar(
        archive,
        {
            "news/README": b"About this corpus.\n",
            "news/training/9": b"NINE HEADLINE\n  Story nine.\n",
            "news/cats.txt": b"training/9 grain\n",
            "news/stopwords": b"a\nthe\n",
            "news/test/10": b"Story ten.\n",
            "news/test/11.txt.gz": gzip.compress(b"Story eleven.\n"),
            "news/notes.csv": b"x,y\n",
        },
    )
    assert list(iter_sentences(archive)) == [
        ["NINE", "HEADLINE"],
        ["Story", "nine", "."],
        ["Story", "ten", "."],
        ["Story", "eleven", "."],
    ]
    # An archive in a folder is read as an archive, next to plain files, and several paths are
    # read in the order given.
    (tmp_path / "extra.txt").write_text("Extra story.\n")
    assert list(iter_sentences([tmp_path / "extra.txt", archive]))[:2] == [
        ["Extra", "story", "."],
        ["NINE", "HEADLINE"],
    ]
    assert [path.name for path in corpus_files(tmp_path)] == ["extra.txt", "news.tar.xz"]


def test_sentences_are_streamed_before_the_whole_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "late_error.txt"
    path.write_bytes(b"First paragraph.\n\n" + b"Filler line.\n" * 1000 + b"\nbad \xff byte\n")
    sentences = iter_sentences(path)
    assert next(sentences) == ["First", "paragraph", "."]
    with pytest.raises(
        CorpusError, match=r"late_error\.txt: line 1004 \(byte 13023\) is not UTF-8"
    ):
        list(sentences)


def test_replace_reads_past_a_bad_byte_and_names_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Good line.\nA caf\u00e9 here.\n".encode("latin-1"))
    with caplog.at_level(logging.WARNING, logger="elmo.corpus"):
        assert list(iter_sentences(path, errors="replace")) == [
            ["Good", "line", "."],
            ["A", "caf\ufffd", "here", "."],
        ]
    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: line 2 (byte 16) is not UTF-8; read as U+FFFD"
    ]
    with pytest.raises(CorpusError, match=r"latin1\.txt: line 2 \(byte 16\) is not UTF-8"):
        list(iter_paragraphs(path))
    with pytest.raises(ValueError, match="errors"):
        iter_paragraphs(path, errors="ignore")


def test_missing_path_fails_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"corpus path not found: .*nowhere\.txt"):
        iter_sentences([tmp_path / "nowhere.txt"])
    with pytest.raises(CorpusError, match=r"corpus path not found: .*nowhere"):
        iter_paragraphs(tmp_path / "nowhere")


def test_empty_corpus_names_its_files(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text("\n   \n\t\n")
    with pytest.raises(CorpusError, match=r"empty corpus: no tokens in .*blank\.txt"):
        list(iter_sentences(tmp_path))
    with pytest.raises(CorpusError, match=r"corpus path not found: .*nothing"):
        corpus_files(tmp_path / "nothing")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "table.csv").write_text("a,b\n")
    with pytest.raises(CorpusError, match=r"no corpus text files under folder .*nothing"):
        corpus_files(tmp_path / "nothing")


def test_empty_file_among_others_only_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.txt").write_text("")
    (tmp_path / "b.txt").write_text("Words here.\n")
    with caplog.at_level(logging.WARNING, logger="elmo.corpus"):
        assert list(iter_sentences(tmp_path)) == [["Words", "here", "."]]
    assert any("a.txt: no tokens" in record.getMessage() for record in caplog.records)


def test_non_utf8_member_of_an_archive_is_named(tmp_path: Path) -> None:
    archive = tmp_path / "bad.tar.xz"
    _write_tar(archive, {"docs/1": b"Fine.\n", "docs/2": b"ok\ncaf\xe9\n"})
    with pytest.raises(CorpusError, match=r"bad\.tar\.xz:docs/2: line 2 \(byte 6\) is not UTF-8"):
        list(iter_sentences(archive))


@pytest.mark.parametrize("name", ["broken.txt.xz", "broken.txt.gz", "broken.tar.xz"])
def test_corrupt_compressed_file_is_named(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"this is not compressed data\n")
    with pytest.raises(CorpusError, match=rf"cannot read .*{name}"):
        list(iter_sentences(tmp_path / name))


def test_heldout_split_is_reproducible_whatever_the_order() -> None:
    sentences = [[f"word{index}", "and", str(index * 7)] for index in range(2000)]
    split = HeldOutSplit(fraction=0.25, seed=3)
    heldout = {tuple(tokens) for tokens in sentences if split.is_heldout(tokens)}
    reversed_heldout = {tuple(tokens) for tokens in reversed(sentences) if split.is_heldout(tokens)}
    assert heldout == reversed_heldout
    assert heldout == {
        tuple(t) for t in sentences if HeldOutSplit(fraction=0.25, seed=3).is_heldout(t)
    }
    assert 400 < len(heldout) < 600
    other_seed = {tuple(t) for t in sentences if HeldOutSplit(fraction=0.25, seed=4).is_heldout(t)}
    assert other_seed != heldout
    # A larger fraction holds out a superset: the hash threshold only moves up.
    larger = {tuple(t) for t in sentences if HeldOutSplit(fraction=0.5, seed=3).is_heldout(t)}
    assert heldout < larger
    assert not any(HeldOutSplit(fraction=0.0).is_heldout(t) for t in sentences)
    assert all(HeldOutSplit(fraction=1.0).is_heldout(t) for t in sentences)
    with pytest.raises(ValueError, match="fraction"):
        HeldOutSplit(fraction=1.5)


def test_train_and_heldout_parts_partition_the_corpus(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text("".join(f"Sentence number {index} is here.\n\n" for index in range(300)))
    split = HeldOutSplit(fraction=0.2, seed=11)
    everything = list(iter_sentences(path))
    train = list(iter_sentences(path, part="train", split=split))
    heldout = list(iter_sentences(path, part="heldout", split=split))
    assert len(everything) == 300
    assert heldout and train
    assert sorted(train + heldout) == sorted(everything)
    assert all(split.is_heldout(tokens) for tokens in heldout)
    with pytest.raises(ValueError, match="part"):
        iter_sentences(path, part="dev")


def test_vocabulary_keeps_specials_then_words_by_frequency(tmp_path: Path) -> None:
    counts = count_words([["b", "a", "c", "a"], ["c", "a", "d", "<UNK>"], ["e"]])
    assert counts == Counter({"a": 3, "c": 2, "b": 1, "d": 1, "e": 1, "<UNK>": 1})
    vocabulary = Vocabulary.from_counts(counts, max_words=3)
    assert vocabulary.words == ("<S>", "</S>", "<UNK>", "a", "c", "b")
    assert Vocabulary.from_counts(counts, min_count=2).words == ("<S>", "</S>", "<UNK>", "a", "c")
    assert (vocabulary.bos_id, vocabulary.eos_id, vocabulary.unk_id) == (0, 1, 2)
    assert vocabulary.word_id("c") == 4
    assert vocabulary.word_id("unseen") == vocabulary.unk_id
    assert "a" in vocabulary and "e" not in vocabulary
    # Coverage counts words only: 3 + 2 + 1 of the 8 word tokens, the counted <UNK> aside.
    assert vocabulary.coverage(counts) == pytest.approx(6 / 8)
    with pytest.raises(ValueError, match="no tokens"):
        vocabulary.coverage(Counter())


def test_vocabulary_file_round_trip_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("stale\n")
    vocabulary = Vocabulary.from_counts(Counter({"the": 5, "ünïcode": 2, ",": 7}))
    vocabulary.save(path)
    assert path.read_text(encoding="utf-8") == "<S>\n</S>\n<UNK>\n,\nthe\nünïcode\n"
    assert Vocabulary.load(path) == vocabulary
    assert [entry.name for entry in tmp_path.iterdir()] == ["vocab.txt"]


def test_vocabulary_load_accepts_bilm_tf_special_order(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("</S>\n<S>\n<UNK>\nthe\n")
    vocabulary = Vocabulary.load(path)
    assert (vocabulary.bos_id, vocabulary.eos_id, vocabulary.unk_id) == (1, 0, 2)
    assert len(vocabulary) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<S>\n</S>\nthe\n", r"lacks the special tokens \['<UNK>'\]"),
        (b"<S>\n</S>\n<UNK>\nthe\n\nof\n", r"line 5 is not one word"),
        (b"<S>\n</S>\n<UNK>\nthe\nthe cat\n", r"line 5 is not one word"),
        (b"<S>\n</S>\n<UNK>\nthe\nof\nthe\n", r"line 6 repeats 'the' from line 4"),
        (b"<S>\n</S>\n<UNK>\nthe\ncaf\xe9\n", r"line 5 \(byte 22\) is not UTF-8"),
    ],
)
def test_bad_vocabulary_file_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad_vocab.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=rf"bad_vocab\.txt.*{message}"):
        Vocabulary.load(path)
    with pytest.raises(CorpusError, match=r"missing_vocab\.txt"):
        Vocabulary.load(tmp_path / "missing_vocab.txt")


def test_special_tokens_are_bilm_tf_order() -> None:
    assert SPECIAL_TOKENS == ("<S>", "</S>", "<UNK>")


def test_real_corpus_first_thousand_sentences() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"pretraining corpus not found at {CORPUS}")
    gutenberg = list(itertools.islice(iter_sentences(CORPUS / "gutenberg"), 1000))
    reuters = list(itertools.islice(iter_sentences(CORPUS / "reuters" / "reuters.tar.xz"), 1000))
    assert len(gutenberg) == len(reuters) == 1000
    assert gutenberg[0][:4] == ["Transcribed", "from", "the", "1892"]
    assert reuters[0] == [
        "OSHMAN",
        "'S",
        "<",
        "OSHM",
        ">",
        "CITES",
        "WEAK",
        "REGIONAL",
        "ECONOMIES",
    ]
    tokens = Counter(token for sentence in gutenberg + reuters for token in sentence)
    # Markup and PTB quote forms must not leak into the vocabulary.
    assert not [t for t in tokens if "_" in t or "&lt;" in t or t in ("``", "''") or t != t.strip()]
    assert {"n't", "'s", '"', ",", "."} <= set(tokens)
    assert tokens["said"] > 50
    assert (
        list(itertools.islice(iter_sentences(CORPUS / "reuters" / "reuters.tar.xz"), 50))
        == reuters[:50]
    )
