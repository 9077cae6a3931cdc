"""``elmo-train-vectors``: word2vec and fastText trained on the biLM's own corpus.

The static baselines ELMo is measured against, trained on the same corpus, tokenization and
training side of the held-out split as our biLM: word2vec skip-gram with negative sampling
(Mikolov et al., 2013) and fastText (Bojanowski et al., 2017), which also embeds words it
never saw from their character n-grams: ``v(w) = (1 / |G_w|) * sum_{g in G_w} z_g``.
:class:`tasks.embedders.static.StaticEmbedder` reads what this writes (``vectors: word2vec``)
and trains it on first use through :func:`trained_vectors`. gensim is imported only when
training runs.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from elmo.cli import command_line
from elmo.corpus import CorpusError, CorpusPaths, EncodingErrors
from elmo.io import atomic_path
from elmo.progress import progress_bar
from elmo.lm_data import TokenizedCorpus, prepare_corpus

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Kind = Literal["word2vec", "fasttext"]
KINDS = ("word2vec", "fasttext")

# The biLM's pretraining corpus and its tokenized form, as in conf/pretrain.yaml (relative to
# the working directory); Reuters-21578 holds one byte that is not UTF-8, hence "replace".
DEFAULT_CORPUS = "../shared/data/corpus"
DEFAULT_PREPARED_DIR = ".cache/prepared_corpus"
DEFAULT_ENCODING_ERRORS: EncodingErrors = "replace"
VECTORS_DIR = ".cache/vectors"
DEFAULT_DIM = 100
DEFAULT_EPOCHS = 3
# fastText's own default is 2M n-gram buckets (800 MB at 100d); 500k keeps the model near
# 250 MB at the cost of more n-grams sharing a row.
FASTTEXT_BUCKETS = 500_000


def default_vectors_path(kind: Kind, dim: int = DEFAULT_DIM) -> Path:
    """Where ``elmo-train-vectors`` writes, and ``vectors: <kind>`` looks for, a kind's vectors."""
    return Path(VECTORS_DIR) / f"{kind}-{dim}d.bin"


def train_static_vectors(
    kind: Kind,
    corpus: CorpusPaths,
    output: PathLike,
    dim: int = DEFAULT_DIM,
    epochs: int = DEFAULT_EPOCHS,
    min_count: int = 5,
    workers: int = 2,
    max_tokens: int | None = None,
    *,
    prepared_dir: PathLike = DEFAULT_PREPARED_DIR,
    heldout_fraction: float = 0.01,
    seed: int = 0,
    encoding_errors: EncodingErrors = DEFAULT_ENCODING_ERRORS,
) -> Path:
    """Trains word2vec or fastText with gensim on the training sentences of the biLM's corpus.

    The corpus is tokenized by :func:`elmo.lm_data.prepare_corpus`, as for ``elmo-pretrain``
    (its prepared folder is reused when the settings match), and only the training side of the
    held-out split is used, as the biLM did. Sentences are shuffled once (seeded), so that
    the linearly decaying learning rate does not end every epoch on one part of the corpus.
    Both kinds are skip-gram with negative sampling: window 5, 5 negatives, subsampling 1e-4;
    fastText adds n-grams of 3 to 6 characters in :data:`FASTTEXT_BUCKETS` rows. With more
    than one worker the result varies from run to run.

    Args:
        kind: ``word2vec`` or ``fasttext``.
        corpus: Corpus files or folders (see :func:`elmo.corpus.corpus_files`).
        output: Written atomically, without pickle: word2vec's binary format, or fastText's
            ``.bin`` (which keeps the subword n-grams).
        dim: Vector width.
        epochs: Passes over the training sentences.
        min_count: Words seen fewer times in the training sentences get no vector.
        workers: Training threads.
        max_tokens: Train on about this many tokens (a random sample of the training
            sentences), for quick runs; all of them when None.
        prepared_dir: The tokenized corpus's folder (shared with ``elmo-pretrain``).
        heldout_fraction: Share of sentences held out (left out of training).
        seed: Key of the held-out split, of the shuffle and of gensim's initialisation.
        encoding_errors: As for :func:`elmo.corpus.iter_paragraphs`.

    Returns:
        ``output``.

    Raises:
        CorpusError: A corpus file is missing, empty or (with ``strict``) not UTF-8.
        ValueError: A setting is out of range, or no word occurs ``min_count`` times.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    limits = {"dim": dim, "epochs": epochs, "min_count": min_count, "workers": workers}
    for name, value in limits.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1 or None, got {max_tokens}")
    from gensim.models import FastText, Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec
    from gensim.models.fasttext import save_facebook_model

    class EpochProgress(CallbackAny2Vec):  # gensim reports nothing finer in corpus_file mode
        def __init__(self, bar: Any) -> None:
            self.bar = bar

        def on_epoch_end(self, model: Any) -> None:
            self.bar.update(1)

    started = time.perf_counter()
    paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    prepared = prepare_corpus(
        paths, prepared_dir, heldout_fraction, seed, encoding_errors=encoding_errors
    )
    with tempfile.TemporaryDirectory(prefix="elmo-vectors-") as folder:
        text = Path(folder) / "train.txt"
        counts = _write_training_text(prepared, text, seed, max_tokens)
        kept = int(np.count_nonzero(counts >= min_count))
        if kept == 0:
            raise ValueError(
                f"no word occurs {min_count} times in the {int(counts.sum())} training tokens; "
                "lower min_count"
            )
        logger.info(
            "training %s (%dd, %d epochs) on %d tokens, %d words seen %d+ times",
            kind, dim, epochs, int(counts.sum()), kept, min_count,
        )
        with progress_bar(epochs, f"training {kind}", unit="epoch") as bar:
            settings = {
                "corpus_file": str(text), "vector_size": dim, "epochs": epochs, "min_count": min_count,
                "workers": workers, "seed": seed, "sg": 1, "window": 5, "negative": 5, "sample": 1e-4,
                "callbacks": [EpochProgress(bar)],
            }
            if kind == "word2vec":
                model = Word2Vec(**settings)
            else:
                model = FastText(**settings, bucket=FASTTEXT_BUCKETS, min_n=3, max_n=6)
    with atomic_path(output) as temporary:
        if kind == "word2vec":
            model.wv.save_word2vec_format(str(temporary), binary=True)
        else:
            save_facebook_model(model, str(temporary))
    logger.info(
        "wrote %s: %d words, %.1f MB, in %.0f s",
        output, len(model.wv), os.path.getsize(output) / 1e6, time.perf_counter() - started,
    )
    return Path(output)


def _write_training_text(
    corpus: TokenizedCorpus, path: Path, seed: int, max_tokens: int | None
) -> np.ndarray:
    """Writes the training sentences, shuffled, one per line; returns each type's count there."""
    order = np.random.default_rng(seed).permutation(np.flatnonzero(~corpus.heldout))
    lengths = np.diff(corpus.offsets)
    if max_tokens is not None:
        order = order[: np.searchsorted(np.cumsum(lengths[order]), max_tokens) + 1]
    chosen = np.zeros(corpus.num_sentences, dtype=bool)
    chosen[order] = True
    counts = np.bincount(corpus.tokens[np.repeat(chosen, lengths)], minlength=len(corpus.types))
    types = np.array(corpus.types, dtype=object)
    with open(path, "w", encoding="utf-8") as stream, progress_bar(len(order), "writing training text", unit="sentence") as bar:
        for start in range(0, len(order), 10_000):
            chunk = order[start : start + 10_000]
            stream.writelines(" ".join(types[corpus.sentence(index)]) + "\n" for index in chunk)
            bar.update(len(chunk))
    return counts


def trained_vectors(kind: Kind) -> Path:
    """The default word2vec or fastText vectors, trained first when they are missing.

    They live in ``.cache/vectors/<kind>-100d.bin`` under the working directory. Training
    (minutes, see :func:`train_static_vectors`) runs under an exclusive lock on a ``.lock``
    file beside them, so parallel sweep jobs train them once: the first trains, the others
    wait and then read the file.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    path = default_vectors_path(kind)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not path.is_file():
            logger.info("%s not found: training %s on %s first", path, kind, DEFAULT_CORPUS)
            train_static_vectors(kind, DEFAULT_CORPUS, path)
    return path


@command_line("elmo-train-vectors")
def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``elmo-train-vectors``."""
    parser = argparse.ArgumentParser(
        prog="elmo-train-vectors",
        description="Train word2vec or fastText vectors on the training sentences of the biLM's "
        "corpus (same tokenization and held-out split), saved without pickle.",
    )
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--corpus", nargs="+", default=[DEFAULT_CORPUS], help="files or folders")
    parser.add_argument(
        "--output",
        help=f"default {VECTORS_DIR}/<kind>-<dim>d.bin, where the embedder config "
        "'vectors: <kind>' looks (at the default dim)",
    )
    parser.add_argument("--dim", type=int, default=DEFAULT_DIM)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, help="train on about this many tokens")
    parser.add_argument("--prepared-dir", default=DEFAULT_PREPARED_DIR)
    parser.add_argument("--heldout-fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--encoding-errors", choices=["strict", "replace"], default=DEFAULT_ENCODING_ERRORS
    )
    args = parser.parse_args(argv)
    if args.max_tokens is not None and args.output is None:
        parser.error("--max-tokens needs --output (a quick run must not replace the defaults)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        train_static_vectors(
            args.kind,
            args.corpus,
            args.output or default_vectors_path(args.kind, args.dim),
            args.dim,
            args.epochs,
            args.min_count,
            args.workers,
            args.max_tokens,
            prepared_dir=args.prepared_dir,
            heldout_fraction=args.heldout_fraction,
            seed=args.seed,
            encoding_errors=args.encoding_errors,
        )
    except (CorpusError, ValueError) as error:
        parser.exit(1, f"elmo-train-vectors: error: {error}\n")
