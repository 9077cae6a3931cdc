"""Language-model training data: a corpus tokenized once, then batched reproducibly.

``prepare_corpus`` streams a raw corpus through ``elmo.corpus`` once and stores it as
arrays (word-type ids of every token, sentence offsets, a held-out flag per sentence) with
the word types by frequency. Training then reads sentences by index: an epoch is a seeded
permutation, cut into pools that are sorted by length and split into batches under a token
budget, so the position in the stream is one integer and a resumed run continues exactly
where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import random
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from elmo.characters import CharacterEncoder
from elmo.corpus import SPECIAL_TOKENS, CorpusError, HeldOutSplit, Vocabulary, iter_sentences
from elmo.errors import one_line
from elmo.io import atomic_path, write_json_atomic
from elmo.progress import progress_bar

logger = logging.getLogger(__name__)

_FILES = ("types.txt", "tokens.npy", "offsets.npy", "heldout.npy", "meta.json")


@dataclass
class TokenizedCorpus:
    """A tokenized corpus held as arrays.

    Attributes:
        types: every word type, most frequent (in the training part) first.
        tokens: ``int32`` type id of every token, sentences back to back.
        offsets: ``int64`` start of each sentence in ``tokens``, plus the end.
        heldout: ``bool`` per sentence.
    """

    types: list[str]
    tokens: np.ndarray
    offsets: np.ndarray
    heldout: np.ndarray

    @property
    def num_sentences(self) -> int:
        return len(self.offsets) - 1

    def sentence(self, index: int) -> np.ndarray:
        """Type ids of one sentence."""
        return self.tokens[self.offsets[index] : self.offsets[index + 1]]

    def train_counts(self) -> dict[str, int]:
        """Token counts of each word type over the training sentences."""
        lengths = np.diff(self.offsets)
        in_train = np.repeat(~self.heldout, lengths)
        counts = np.bincount(self.tokens[in_train], minlength=len(self.types))
        return {w: int(c) for w, c in zip(self.types, counts, strict=True) if c}

    @classmethod
    def from_sentences(
        cls,
        sentences: Iterable[Sequence[str]],
        is_heldout: Callable[[Sequence[str]], bool],
        max_tokens: int | None = None,
    ) -> TokenizedCorpus:
        """Build the arrays from tokenized sentences, streamed.

        Args:
            sentences: token lists.
            is_heldout: which side of the split a sentence is on.
            max_tokens: stop after about this many tokens.
        """
        ids: dict[str, int] = {}
        tokens, offsets, heldout = array("i"), array("q", [0]), array("b")
        # A streamed corpus has no known length: the bar shows tokens and a rate, and an ETA
        # only under max_tokens.
        with progress_bar(max_tokens, "tokenizing the corpus", unit="tok") as progress:
            for sentence in sentences:
                tokens.extend(ids.setdefault(word, len(ids)) for word in sentence)
                offsets.append(len(tokens))
                heldout.append(is_heldout(sentence))
                progress.update(len(sentence))
                if max_tokens is not None and len(tokens) >= max_tokens:
                    break
        first_seen = list(ids)
        corpus = cls(
            types=first_seen,
            tokens=np.frombuffer(tokens, dtype=np.int32),
            offsets=np.frombuffer(offsets, dtype=np.int64).copy(),
            heldout=np.frombuffer(heldout, dtype=np.int8).astype(bool),
        )
        # Renumber types by training frequency so that the top of ``types`` is the vocabulary.
        counts = corpus.train_counts()
        order = sorted(range(len(first_seen)), key=lambda i: (-counts.get(first_seen[i], 0), first_seen[i]))
        renumber = np.empty(len(order), dtype=np.int32)
        renumber[order] = np.arange(len(order), dtype=np.int32)
        return cls(
            types=[first_seen[i] for i in order],
            tokens=renumber[corpus.tokens],
            offsets=corpus.offsets,
            heldout=corpus.heldout,
        )

    def save(self, folder: str | os.PathLike[str], meta: dict) -> None:
        """Write the arrays and ``meta`` into ``folder``, each file atomically."""
        folder = Path(folder)
        with atomic_path(folder / "types.txt") as temp:
            temp.write_text("\n".join(self.types) + "\n", encoding="utf-8")
        for name, array_ in (("tokens", self.tokens), ("offsets", self.offsets), ("heldout", self.heldout)):
            with atomic_path(folder / f"{name}.npy") as temp, open(temp, "wb") as f:
                np.save(f, array_, allow_pickle=False)
        write_json_atomic(folder / "meta.json", meta)  # written last: marks the folder complete

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TokenizedCorpus:
        """Read a folder written by ``prepare_corpus``."""
        folder = Path(folder)
        missing = [name for name in _FILES if not (folder / name).is_file()]
        if missing:
            raise CorpusError(f"{folder}: not a prepared corpus (missing {', '.join(missing)})")
        types = (folder / "types.txt").read_text(encoding="utf-8").split("\n")[:-1]
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in ("tokens", "offsets", "heldout")}
        tokens, offsets, heldout = arrays["tokens"], arrays["offsets"], arrays["heldout"]
        consistent = (
            tokens.ndim == offsets.ndim == heldout.ndim == 1
            and tokens.dtype.kind == offsets.dtype.kind == "i"
            and heldout.dtype == bool
            and len(offsets) == len(heldout) + 1
            and offsets[0] == 0
            and offsets[-1] == len(tokens)
            and bool(np.all(np.diff(offsets) >= 0))
            and (len(tokens) == 0 or 0 <= tokens.min() <= tokens.max() < len(types))
        )
        if not consistent:
            raise CorpusError(f"{folder}: the prepared corpus arrays do not fit together")
        return cls(types=types, **arrays)


def prepare_corpus(
    paths: str | os.PathLike[str] | list[str | os.PathLike[str]],
    folder: str | os.PathLike[str],
    heldout_fraction: float = 0.01,
    seed: int = 0,
    max_tokens: int | None = None,
    encoding_errors: str = "strict",
) -> TokenizedCorpus:
    """Tokenize a raw corpus once and store it in ``folder``.

    Args:
        paths: corpus files or folders (plain, ``.gz``, ``.xz``, tar archives).
        folder: where the arrays go; reused as they are if ``meta.json`` matches.
        heldout_fraction: share of sentences held out, chosen by a keyed hash.
        seed: key of the held-out hash.
        max_tokens: stop after about this many tokens (for quick runs).
        encoding_errors: ``"strict"`` stops at a byte that is not UTF-8, naming the file,
            line and byte; ``"replace"`` reads it as U+FFFD and logs a warning.

    Raises:
        CorpusError: a missing, empty or non-UTF-8 corpus file, named.
    """
    folder = Path(folder)
    sources = [str(p) for p in (paths if isinstance(paths, list) else [paths])]
    meta = {
        "sources": sources,
        "heldout_fraction": heldout_fraction,
        "seed": seed,
        "max_tokens": max_tokens,
        "encoding_errors": encoding_errors,
    }
    if (folder / "meta.json").is_file():
        try:
            stored = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if {k: stored.get(k) for k in meta} == meta:
                corpus = TokenizedCorpus.load(folder)
                logger.info("using the prepared corpus in %s", folder)
                return corpus
        except (AttributeError, UnicodeDecodeError, ValueError, CorpusError) as error:
            # It is derived data: a damaged copy (a full disk, a stray edit) is made again.
            logger.warning("the prepared corpus in %s is damaged (%s); preparing it again", folder, one_line(str(error)))
    split = HeldOutSplit(fraction=heldout_fraction, seed=seed)
    sentences = iter_sentences(sources, split=split, errors=encoding_errors)
    corpus = TokenizedCorpus.from_sentences(sentences, split.is_heldout, max_tokens)
    meta |= {
        "sentences": corpus.num_sentences,
        "tokens": int(len(corpus.tokens)),
        "heldout_sentences": int(corpus.heldout.sum()),
        "types": len(corpus.types),
    }
    corpus.save(folder, meta)
    logger.info("prepared %d sentences, %d tokens, %d types in %s", meta["sentences"], meta["tokens"], meta["types"], folder)
    return corpus


class LanguageModelBatches:
    """Batches of sentences for both language-model directions.

    Each batch is a dict with ``char_ids`` ``(batch, time, max_characters)`` and
    ``targets`` ``(batch, time + 2)``: the vocabulary ids of ``<S> w_1 ... w_n </S>``,
    padded with -1.

    Args:
        corpus: the tokenized corpus.
        vocabulary: output vocabulary; other words become ``<UNK>``.
        part: ``"train"`` or ``"heldout"`` sentences.
        max_tokens: token budget of a batch (sentence length with markers x sentences).
        max_length: longer sentences are cut into pieces of at most this many tokens.
        seed: seed of the epoch permutations (training only).
        max_sentences: use only the first sentences of the part (held-out evaluation).
    """

    _POOL_BATCHES = 50  # batches per length-sorted pool

    def __init__(
        self,
        corpus: TokenizedCorpus,
        vocabulary: Vocabulary,
        part: str,
        max_tokens: int = 2048,
        max_length: int = 64,
        seed: int = 0,
        max_sentences: int | None = None,
        max_characters: int = 50,
    ) -> None:
        self.corpus = corpus
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.seed = seed
        self.encoder = CharacterEncoder(max_characters)
        # Vocabulary id of every word type.
        self.type_to_vocab = np.array([vocabulary.word_id(w) for w in corpus.types], dtype=np.int64)
        self.bos, self.eos, self.unk = vocabulary.bos_id, vocabulary.eos_id, vocabulary.unk_id
        wanted = corpus.heldout if part == "heldout" else ~corpus.heldout
        indices = np.flatnonzero(wanted)[:max_sentences]
        self.pieces = self._cut(indices)
        if not self.pieces:
            raise CorpusError(f"no {part} sentences in the corpus")

    def _cut(self, indices: np.ndarray) -> list[tuple[int, int]]:
        """(start, end) token ranges of every sentence piece."""
        pieces = []
        for i in indices:
            start, end = int(self.corpus.offsets[i]), int(self.corpus.offsets[i + 1])
            pieces.extend((s, min(s + self.max_length, end)) for s in range(start, end, self.max_length))
        return pieces

    @property
    def num_tokens(self) -> int:
        """Tokens predicted per direction in one pass (``</S>`` or ``<S>`` included)."""
        return sum(end - start + 1 for start, end in self.pieces)

    def _batches_of(self, order: list[int]) -> list[list[int]]:
        batches, current, width = [], [], 0
        for index in order:
            start, end = self.pieces[index]
            new_width = max(width, end - start + 2)
            if current and new_width * (len(current) + 1) > self.max_tokens:
                batches.append(current)
                current, new_width = [], end - start + 2
            current.append(index)
            width = new_width
        if current:
            batches.append(current)
        return batches

    def epoch(self, epoch: int) -> list[list[int]]:
        """The batches (piece indices) of one training epoch, in order."""
        rng = random.Random(self.seed * 1_000_003 + epoch)
        order = list(range(len(self.pieces)))
        rng.shuffle(order)
        pool = self._POOL_BATCHES * max(1, self.max_tokens // 32)
        batches: list[list[int]] = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start : start + pool], key=lambda i: self.pieces[i][1] - self.pieces[i][0])
            pool_batches = self._batches_of(chunk)
            rng.shuffle(pool_batches)
            batches.extend(pool_batches)
        return batches

    def evaluation(self) -> list[list[int]]:
        """Held-out batches, sorted by length, the same every time."""
        order = sorted(range(len(self.pieces)), key=lambda i: self.pieces[i][1] - self.pieces[i][0])
        return self._batches_of(order)

    def make_batch(self, indices: list[int]) -> dict[str, torch.Tensor]:
        """Character ids and targets of a list of pieces."""
        words, targets = [], []
        for index in indices:
            start, end = self.pieces[index]
            type_ids = self.corpus.tokens[start:end]
            words.append([self.corpus.types[t] for t in type_ids])
            targets.append([self.bos, *self.type_to_vocab[type_ids].tolist(), self.eos])
        width = max(len(t) for t in targets)
        padded = torch.full((len(targets), width), -1, dtype=torch.long)
        for row, t in enumerate(targets):
            padded[row, : len(t)] = torch.tensor(t)
        return {"char_ids": self.encoder.encode_batch(words), "targets": padded}

    def tokens_before(self, position: int) -> tuple[int, int]:
        """Where stream ``position`` stands: its epoch, and the tokens of that epoch's
        batches before it (markers included)."""
        epoch = 0
        while position >= len(batches := self.epoch(epoch)):
            position -= len(batches)
            epoch += 1
        return epoch, sum(self._batch_tokens(b) for b in batches[:position])

    def position_at(self, epoch: int, tokens: int) -> int:
        """The first stream position of ``epoch`` with at least ``tokens`` of it before.

        Every epoch takes its sentences in one shuffled order, pool by pool, whatever the
        batch size: so a stream of another ``max_tokens`` that stopped ``tokens`` into the
        epoch had trained on the same sentences, up to the order within one pool.
        """
        position = sum(len(self.epoch(e)) for e in range(epoch))
        done = 0
        for batch in self.epoch(epoch):
            if done >= tokens:
                break
            done += self._batch_tokens(batch)
            position += 1
        return position

    def _batch_tokens(self, batch: list[int]) -> int:
        return sum(self.pieces[i][1] - self.pieces[i][0] + 2 for i in batch)

    def iterate(self, position: int = 0, rank: int = 0, num_ranks: int = 1) -> Iterator[tuple[int, dict[str, torch.Tensor]]]:
        """Training batches forever, from global batch ``position`` on, with their positions.

        With several ranks, rank ``r`` takes the stream's batches ``position + r``,
        ``position + r + num_ranks``, ...: the ranks read one stream together, and where
        they stand is still one integer (the next round's first batch).
        """
        epoch, first = 0, 0  # first: the stream position of the epoch's first batch
        wanted = position + rank
        while True:
            batches = self.epoch(epoch)
            while wanted < first + len(batches):
                yield wanted, self.make_batch(batches[wanted - first])
                wanted += num_ranks
            first += len(batches)
            epoch += 1


def build_vocabulary(corpus: TokenizedCorpus, max_words: int, min_count: int = 1) -> Vocabulary:
    """The most frequent training words (``corpus.types`` is already in that order)."""
    counts = corpus.train_counts()
    words = [w for w in corpus.types if w not in SPECIAL_TOKENS and counts.get(w, 0) >= min_count]
    return Vocabulary([*SPECIAL_TOKENS, *words[:max_words]])
