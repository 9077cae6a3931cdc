"""Test helpers: the real ``elmo-bench`` config as the command line composes it, and hub rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[2]
ELMO_FIXTURES = ROOT.parent / "shared" / "fixtures" / "allennlp_elmo"  # as tests/conftest.py finds them


def run_config(overrides: Sequence[str], tmp_path: Path) -> DictConfig:
    """``conf/config.yaml`` with overrides, results and cache under ``tmp_path``, no progress bar."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[
                f"results_dir={tmp_path / 'results'}",
                f"cache.dir={tmp_path / 'cache'}",
                "trainer.enable_progress_bar=false",
                *overrides,
            ],
            return_hydra_config=True,
        )
    HydraConfig.instance().set_config(cfg)  # as a command-line run has it (embedder name)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def fixture_embedder(elmo_fixtures: Path) -> list[str]:
    """Overrides selecting the tiny AllenNLP fixture biLM instead of the shipped model."""
    return [
        f"embedder.options_file={elmo_fixtures / 'options.json'}",
        f"embedder.weight_file={elmo_fixtures / 'lm_weights.hdf5'}",
    ]


def squad_hub_columns(examples: Sequence[Any]) -> dict[str, list]:
    """SQuAD examples as the hub's ``squad`` dataset stores them, column by column."""
    return {
        "id": [e.question_id for e in examples],
        "title": [e.article_title for e in examples],
        "context": [e.context for e in examples],
        "question": [e.question for e in examples],
        "answers": [{"text": e.answers, "answer_start": e.answer_starts} for e in examples],
    }
