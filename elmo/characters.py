"""Character ids of tokens, as ELMo (Peters et al., 2018) and bilm-tf define them.

Each token becomes exactly ``max_characters`` ids (50 in every released model)::

    [begin_of_word, byte_1, ..., byte_k, end_of_word, pad, pad, ...]

where the bytes are the token's UTF-8 encoding truncated to ``max_characters - 2``.
Raw ids 0-255 are bytes, 256 / 257 mark the beginning / end of a sentence, 258 / 259
the beginning / end of a word and 260 pads inside a word. The sentence markers ``<S>``
and ``</S>`` are encoded as ``[begin_of_word, 256 or 257, end_of_word, pad, ...]``.

We add one to every raw id so that id 0 means "no token here" (a padded position in a
batch); the character embedding therefore has ``n_characters = 262`` rows, row 0 being
zero. This is the convention of AllenNLP and of the released ``options.json`` files.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

BEGIN_SENTENCE_CHAR = 256
END_SENTENCE_CHAR = 257
BEGIN_WORD_CHAR = 258
END_WORD_CHAR = 259
PAD_CHAR = 260
#: Offset added to raw ids so that 0 can mark a padded token.
ID_OFFSET = 1

BOS_TOKEN = "<S>"
EOS_TOKEN = "</S>"


class CharacterEncoder:
    """Turns tokens into ELMo character ids.

    Args:
        max_characters: ids per token (``char_cnn.max_characters_per_token``).

    Any Unicode string is accepted; tokens longer than ``max_characters - 2`` UTF-8 bytes
    are truncated, which may cut a multi-byte character (the model saw bytes, not
    characters, in training). The literal tokens ``<S>`` and ``</S>`` are encoded as the
    sentence markers, as in bilm-tf's vocabularies.
    """

    def __init__(self, max_characters: int = 50) -> None:
        if max_characters < 3:
            raise ValueError(f"max_characters must be at least 3, got {max_characters}")
        self.max_characters = max_characters
        self._cache: dict[str, tuple[int, ...]] = {}
        self.bos_ids = self._marker(BEGIN_SENTENCE_CHAR)
        self.eos_ids = self._marker(END_SENTENCE_CHAR)

    def _marker(self, char: int) -> tuple[int, ...]:
        ids = [PAD_CHAR] * self.max_characters
        ids[0:3] = [BEGIN_WORD_CHAR, char, END_WORD_CHAR]
        return tuple(i + ID_OFFSET for i in ids)

    def encode_token(self, token: str) -> tuple[int, ...]:
        """Character ids of one token (offset by one, length ``max_characters``)."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        if token == BOS_TOKEN:
            ids = self.bos_ids
        elif token == EOS_TOKEN:
            ids = self.eos_ids
        else:
            data = token.encode("utf-8", errors="surrogatepass")[: self.max_characters - 2]
            raw = [BEGIN_WORD_CHAR, *data, END_WORD_CHAR]
            raw += [PAD_CHAR] * (self.max_characters - len(raw))
            ids = tuple(i + ID_OFFSET for i in raw)
        if len(self._cache) < 1_000_000:
            self._cache[token] = ids
        return ids

    def encode_batch(self, sentences: Sequence[Sequence[str]]) -> torch.Tensor:
        """Character ids of a batch of sentences, zero-padded.

        Args:
            sentences: token lists; an empty list is allowed.

        Returns:
            ``(batch, max_tokens, max_characters)`` int64 tensor, 0 at padded tokens.
        """
        width = max((len(s) for s in sentences), default=0)
        ids = torch.zeros(len(sentences), width, self.max_characters, dtype=torch.long)
        for row, sentence in enumerate(sentences):
            if sentence:
                ids[row, : len(sentence)] = torch.tensor([self.encode_token(t) for t in sentence])
        return ids
