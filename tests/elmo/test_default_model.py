"""The biLM shipped with the package."""

from __future__ import annotations

import itertools
import json

import pytest
import torch

from elmo import BiLM
from elmo.bilm import DEFAULT_MODEL_DIR
from elmo.corpus import HeldOutSplit, iter_sentences
from elmo.lm_data import LanguageModelBatches, TokenizedCorpus
from elmo.pretrain import evaluate, load_language_model
from tests.conftest import SHARED


def test_default_model_loads_frozen_and_embeds():
    bilm = BiLM.default()
    assert not bilm.training and not any(p.requires_grad for p in bilm.parameters())
    out = bilm.embed_sentences([["The", "cat", "sat", "."], ["Zürich"]])
    assert [o.shape for o in out] == [(3, 4, bilm.output_dim), (3, 1, bilm.output_dim)]
    assert all(torch.isfinite(o).all() for o in out)


def test_default_model_files_are_small_and_complete():
    for name in ("options.json", "weights.hdf5", "vocab.txt", "softmax.hdf5", "metrics.json", "MODEL_CARD.md"):
        assert (DEFAULT_MODEL_DIR / name).is_file(), name
    assert (DEFAULT_MODEL_DIR / "weights.hdf5").stat().st_size <= 25 * 2**20


@pytest.mark.slow
def test_model_card_perplexity_is_reproduced():
    """The first 2,000 held-out sentences, streamed from the corpus, score as recorded."""
    corpus_dir = SHARED / "data" / "corpus"
    if not corpus_dir.is_dir():
        pytest.skip(f"pretraining corpus not found at {corpus_dir}")
    recorded = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text())["heldout_first_2000"]
    split = HeldOutSplit(fraction=0.01, seed=0)
    sentences = iter_sentences(corpus_dir, part="heldout", split=split, errors="replace")
    corpus = TokenizedCorpus.from_sentences(itertools.islice(sentences, 2000), lambda _: True)
    model, vocabulary = load_language_model(DEFAULT_MODEL_DIR)
    heldout = LanguageModelBatches(corpus, vocabulary, "heldout", max_tokens=4096)
    again = evaluate(model, heldout)
    assert again["heldout_tokens"] == recorded["heldout_tokens"]
    assert again["ppl_forward"] == pytest.approx(recorded["ppl_forward"], rel=1e-5)
    assert again["ppl_backward"] == pytest.approx(recorded["ppl_backward"], rel=1e-5)
