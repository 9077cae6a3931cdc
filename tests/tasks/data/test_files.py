"""Opening data files: compression told by its bytes, encodings, empty and missing files."""

from __future__ import annotations

import gzip
import pickle
import zipfile
from pathlib import Path

import pytest

from tasks.data.conll import read_conll
from tasks.data.conllu import read_conllu
from tasks.data.examples import LabeledSentence
from tasks.data.files import DataFormatError
from tasks.data.squad import read_squad
from tasks.data.sst import read_sst

DATA = Path(__file__).parent


def write_gzip(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


def write_zip(target: Path, *members: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for member in members:
            archive.write(member, member.name)
    return target


def test_non_utf8_byte_names_the_line():
    with pytest.raises(
        DataFormatError, match=r"conll_bad_encoding\.txt, line 3: invalid UTF-8 byte 0xe9 at byte 4"
    ):
        read_conll(DATA / "conll_bad_encoding.txt")


@pytest.mark.parametrize("reader", [read_conll, read_conllu, read_sst, read_squad])
def test_file_without_data_is_an_error(reader):
    with pytest.raises(DataFormatError, match=r"empty\.txt"):
        reader(DATA / "empty.txt")


@pytest.mark.parametrize("reader", [read_conll, read_conllu, read_sst, read_squad])
def test_missing_file(reader):
    with pytest.raises(FileNotFoundError, match=r"data file not found: .*no_such_file\.txt"):
        reader(DATA / "no_such_file.txt")


def test_max_samples_must_be_positive():
    with pytest.raises(ValueError, match="max_samples"):
        read_conll(DATA / "wnut_tiny.conll", max_samples=0)


def test_long_sentence_and_long_token(tmp_path):
    long_token = "x" * 300
    tokens = [f"w{i}" for i in range(10_000)] + [long_token]
    conll = tmp_path / "long.conll"
    conll.write_text("".join(f"{t}\tO\n" for t in tokens), encoding="utf-8")
    conllu = tmp_path / "long.conllu"
    conllu.write_text(
        "".join(f"{i}\t{t}\t_\tX\tXX\t_\t0\tdep\t_\t_\n" for i, t in enumerate(tokens, 1)),
        encoding="utf-8",
    )
    sst = tmp_path / "long.sst"
    sst.write_text("1 " + " ".join(tokens) + "\n", encoding="utf-8")

    assert read_conll(conll)[0].tokens == tokens
    assert read_conllu(conllu)[0].tokens == tokens
    assert read_sst(sst)[0].tokens == tokens


@pytest.mark.parametrize(
    ("reader", "name"),
    [
        (read_conllu, "ud_tiny.conllu"),
        (read_conll, "conll_iob1.txt"),
        (read_conll, "wnut_tiny.conll"),
        (read_sst, "sst_tiny.txt"),
        (read_squad, "squad_tiny.json"),
    ],
)
def test_gzip_and_zip_read_like_the_plain_file(tmp_path, reader, name):
    plain = reader(DATA / name)
    gzipped = write_gzip(DATA / name, tmp_path / f"{name}.gz")
    zipped = write_zip(tmp_path / f"{name}.zip", DATA / name)
    several = write_zip(tmp_path / "several.zip", DATA / "empty.txt", DATA / name)

    assert reader(gzipped) == plain
    assert reader(str(zipped)) == plain
    assert reader(several, member=name) == plain


def test_zip_with_several_members_needs_a_member_name(tmp_path):
    several = write_zip(tmp_path / "several.zip", DATA / "sst_tiny.txt", DATA / "sst_no_label.txt")

    with pytest.raises(DataFormatError, match=r"holds 2: sst_tiny\.txt, sst_no_label\.txt"):
        read_sst(several)
    with pytest.raises(DataFormatError, match=r"no member 'other\.txt'"):
        read_sst(several, member="other.txt")


def test_member_of_a_file_that_is_not_a_zip():
    with pytest.raises(DataFormatError, match="this is no zip file"):
        read_sst(DATA / "sst_tiny.txt", member="sst_tiny.txt")


def test_error_inside_a_zip_member_names_archive_member_and_line(tmp_path):
    zipped = write_zip(tmp_path / "bad.zip", DATA / "conll_no_tag.txt")

    with pytest.raises(DataFormatError, match=r"bad\.zip \[conll_no_tag\.txt\], line 6"):
        read_conll(zipped)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress((DATA / "sst_tiny.txt").read_bytes())[:-12])

    with pytest.raises(DataFormatError, match="cannot decompress"):
        read_sst(path)


def test_byte_order_mark_and_crlf_line_endings_are_accepted(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf1 good film .\r\n0 bad film .\r\n")

    assert read_sst(path) == [
        LabeledSentence(["good", "film", "."], "1"),
        LabeledSentence(["bad", "film", "."], "0"),
    ]


def test_data_format_error_survives_pickling():
    error = DataFormatError("f.txt", "bad", 7)

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.source, copy.line, str(copy)) == ("f.txt", 7, "f.txt, line 7: bad")
