"""Character ids against the layout bilm-tf defines."""

from __future__ import annotations

import torch

from elmo.characters import CharacterEncoder

# Offset ids (raw + 1): begin of word 259, end of word 260, in-word padding 261.
BOW, EOW, PAD = 259, 260, 261


def test_ascii_word():
    ids = CharacterEncoder().encode_token("cat")
    assert len(ids) == 50
    assert ids[:5] == (BOW, ord("c") + 1, ord("a") + 1, ord("t") + 1, EOW)
    assert set(ids[5:]) == {PAD}


def test_sentence_markers():
    encoder = CharacterEncoder()
    assert encoder.encode_token("<S>")[:4] == (BOW, 257, EOW, PAD)
    assert encoder.encode_token("</S>")[:4] == (BOW, 258, EOW, PAD)


def test_unicode_is_utf8_bytes():
    ids = CharacterEncoder().encode_token("né😀")
    expected = [b + 1 for b in "né😀".encode("utf-8")]  # 1 + 2 + 4 bytes
    assert list(ids[1:8]) == expected and ids[8] == EOW


def test_lone_surrogate_is_accepted():
    assert len(CharacterEncoder().encode_token("a\udc80b")) == 50


def test_long_token_truncated_to_48_bytes():
    encoder = CharacterEncoder()
    long = "x" * 300
    ids = encoder.encode_token(long)
    assert len(ids) == 50 and ids[0] == BOW and ids[49] == EOW
    assert ids[1:49] == (ord("x") + 1,) * 48
    # Truncation is on bytes: a 2-byte character may be cut in half.
    cut = encoder.encode_token("é" * 30)
    assert cut[1:49] == tuple(b + 1 for b in ("é" * 24).encode("utf-8"))


def test_batch_is_zero_padded():
    batch = CharacterEncoder().encode_batch([["a", "b", "c"], [], ["d"]])
    assert batch.shape == (3, 3, 50) and batch.dtype == torch.long
    assert (batch[1] == 0).all() and (batch[2, 1:] == 0).all() and (batch[2, 0] != 0).all()


def test_empty_batch():
    assert CharacterEncoder().encode_batch([]).shape == (0, 0, 50)
