"""The ELMo paper's reference numbers and findings, put beside our scores.

Peters et al. (2018), Deep contextualized word representations, NAACL 2018: Table 1 gives
each task's baseline model alone and with ELMo added; sec. 5.3, 5.6 and Fig. 2 say which
biLM layers the tasks favour. The ``+ELMo`` figure goes beside ``elmo`` and ``glove+elmo``
cells (the paper added ELMo to a GloVe baseline), the ``baseline`` figure beside ``glove``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PaperResult:
    """One line of the ELMo paper's Table 1: its task model alone and with ELMo added."""

    name: str
    datasets: frozenset[str]  # dataset names it applies to, normalised by _normalise
    metric: str
    baseline: float
    elmo: float


PAPER_CITATION = (
    "Peters et al. (2018), Deep contextualized word representations, NAACL 2018, Table 1"
)
PAPER_TABLE1 = (
    PaperResult("NER, CoNLL-2003", frozenset({"conll2003", "conll03"}), "f1", 90.15, 92.22),
    PaperResult("SST-5", frozenset({"sst5", "sstfine", "stsafine"}), "accuracy", 51.4, 54.7),
    PaperResult(
        "SQuAD v1.1", frozenset({"squad", "squadv1", "squadv11", "squad11"}), "f1", 81.1, 85.8
    ),
)
PAPER_CAVEAT = (
    "The paper's models are not ours: its biLM is the original ELMo, trained on the "
    "1B Word Benchmark (about 800M tokens; AllenNLP's later 5.5B-token release scores slightly "
    "higher), its task models are its own, and its SQuAD model was trained on the official "
    "SQuAD v1.1 train set and scored on the official dev set. The figures are a reference, "
    "not a like-for-like comparison."
)
PAPER_SETTING_BY_EMBEDDER = {"elmo": "+ELMo", "glove+elmo": "+ELMo", "glove": "baseline"}
PAPER_LAYER_FINDING = (
    "Peters et al. (2018), sec. 5.6 and Fig. 2: with ELMo at the task model's input, every task "
    "favours the first biLSTM layer, strongly for SQuAD (and coreference), less peaked for the "
    "others; sec. 5.3: syntax (POS tags) is best read from the first biLSTM layer, word sense "
    "from the second."
)


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def paper_reference(dataset: str, metric: str, embedder: str) -> tuple[str | None, float | None]:
    """The paper's setting (``+ELMo`` or ``baseline``) and figure for a cell, or (None, None)."""
    setting = PAPER_SETTING_BY_EMBEDDER.get(embedder)
    if setting is None:
        return None, None
    for result in PAPER_TABLE1:
        if _normalise(dataset) in result.datasets and metric == result.metric:
            return setting, result.elmo if setting == "+ELMo" else result.baseline
    return None, None
