"""Checks of the ``elmo-pretrain`` config, run before any corpus is read or model built.

Every wrong value ends the command with one line naming its key (``vocab_size``,
``trainer.max_time``, ``model.lstm.dim``, ...), instead of a traceback minutes later.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from elmo.config import BiLMConfig, KeyReader, is_integer
from elmo.corpus import CorpusError, corpus_files
from elmo.errors import ConfigError, UserError, one_line
from elmo.io import check_writable

SOURCE = "config"
# Trainer arguments that ``elmo.pretrain.run`` sets itself.
_TRAINER_FIXED = {
    "default_root_dir", "logger", "callbacks", "num_sanity_val_steps", "use_distributed_sampler"
}
# One process per device, each running the command (see ``tasks.run`` for the same choice):
# spawned or forked workers would leave the export to a process that did not train.
_STRATEGIES = ("auto", "ddp", "ddp_find_unused_parameters_true")
_ACCELERATORS = ("cpu", "gpu", "cuda", "auto")
_MATMUL_PRECISIONS = ("highest", "high", "medium")
# float32, or bfloat16 multiplies with float32 state and weights (``elmo.lstm`` and
# ``elmo.lm.adaptive_log_probs`` follow autocast); float16 would need loss scaling.
_PRECISIONS = ("32-true", "32", "bf16-mixed")
_MAX_TIME = re.compile(r"^\d+:\d{1,2}:\d{1,2}:\d{1,2}$")


def check_pretrain_config(cfg: DictConfig) -> dict[str, Any]:
    """Validate every key ``elmo.pretrain.run`` reads; returns the resolved config.

    Also lists the corpus files (cheap) and checks that ``output_dir`` and ``prepared_dir``
    can be written.

    Raises:
        ConfigError: naming the key and the value it got.
        OSError: an output folder that cannot be written, naming it.
    """
    try:
        values = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as error:
        raise ConfigError(f"{SOURCE}: {one_line(str(error))}") from None
    reader = KeyReader(values, SOURCE, error=ConfigError)
    corpus = reader.get("corpus")
    if isinstance(corpus, str):
        corpus = [corpus]
    if not isinstance(corpus, list) or not corpus or not all(isinstance(p, str) and p for p in corpus):
        raise ConfigError(f"{SOURCE}: key 'corpus' must be a non-empty list of files or folders, got {corpus!r}")
    for key in ("output_dir", "prepared_dir"):
        if not isinstance(reader.get(key), str) or not reader.get(key):
            raise ConfigError(f"{SOURCE}: key '{key}' must be a folder name, got {reader.get(key)!r}")
    fraction = reader.get("heldout_fraction")
    if not _is_number(fraction) or not 0 < fraction < 1:
        raise ConfigError(f"{SOURCE}: key 'heldout_fraction' must be a number between 0 and 1, got {fraction!r}")
    reader.integer("max_corpus_tokens", minimum=1, optional=True)
    if reader.get("encoding_errors") not in ("strict", "replace"):
        raise ConfigError(
            f"{SOURCE}: key 'encoding_errors' must be 'strict' or 'replace', got {reader.get('encoding_errors')!r}"
        )
    reader.integer("seed", minimum=0)
    precision = reader.get("float32_matmul_precision", "highest")
    if precision not in _MATMUL_PRECISIONS:
        raise ConfigError(
            f"{SOURCE}: key 'float32_matmul_precision' must be one of {', '.join(_MATMUL_PRECISIONS)}, got {precision!r}"
        )
    init_from = reader.get("init_from", None)
    if init_from is not None and not (isinstance(init_from, str) and Path(init_from).is_dir()):
        raise ConfigError(f"{SOURCE}: key 'init_from' must be null or a folder exported by elmo-pretrain, got {init_from!r}")
    reader.integer("vocab_size")  # cutoffs at or above it are dropped by the model
    cutoffs = reader.get("cutoffs")
    if (
        not isinstance(cutoffs, list)
        or not all(is_integer(c) and c > 0 for c in cutoffs)
        or cutoffs != sorted(set(cutoffs))
    ):
        raise ConfigError(f"{SOURCE}: key 'cutoffs' must be a list of increasing positive integers, got {cutoffs!r}")
    reader.integer("heldout_sentences", optional=True)
    reader.integer("batch_tokens")
    reader.integer("max_length")
    reader.number("learning_rate")
    reader.integer("warmup_steps", minimum=0)
    cooldown = reader.integer("cooldown_steps", default=0, minimum=0)
    model = reader.get("model")
    if not isinstance(model, Mapping):
        raise ConfigError(f"{SOURCE}: key 'model' must hold the biLM's options, got {model!r}")
    BiLMConfig.from_dict(dict(model), source=f"{SOURCE} key 'model'")
    _check_trainer(reader)
    max_steps = reader.integer("trainer.max_steps", default=-1, minimum=-1)
    if cooldown and not 0 < cooldown <= max_steps:
        raise ConfigError(
            f"{SOURCE}: key 'cooldown_steps' ({cooldown}) needs trainer.max_steps set to at least it, got {max_steps}"
        )
    try:
        corpus_files(corpus)
    except CorpusError as error:
        raise ConfigError(f"{SOURCE}: key 'corpus': {error}") from None
    for key in ("output_dir", "prepared_dir"):
        check_writable(Path(reader.get(key)))
    return values


def _check_trainer(reader: KeyReader) -> None:
    trainer = reader.get("trainer")
    if not isinstance(trainer, Mapping):
        raise ConfigError(f"{SOURCE}: key 'trainer' must hold Lightning Trainer arguments, got {trainer!r}")
    accepted = set(inspect.signature(L.Trainer.__init__).parameters) - {"self"} - _TRAINER_FIXED
    for key in trainer:
        if key not in accepted:
            fixed = " (set by elmo-pretrain itself)" if key in _TRAINER_FIXED else ""
            raise ConfigError(f"{SOURCE}: key 'trainer.{key}' is not a Trainer argument elmo-pretrain takes{fixed}")
    if trainer.get("strategy", "auto") not in _STRATEGIES:
        raise ConfigError(
            f"{SOURCE}: key 'trainer.strategy' must be one of {', '.join(_STRATEGIES)} "
            f"(one process per device), got {trainer.get('strategy')!r}"
        )
    if trainer.get("accelerator", "cpu") not in _ACCELERATORS:
        raise ConfigError(
            f"{SOURCE}: key 'trainer.accelerator' must be one of {', '.join(_ACCELERATORS)}, got {trainer.get('accelerator')!r}"
        )
    if str(trainer.get("precision", "32-true")) not in _PRECISIONS:
        raise ConfigError(
            f"{SOURCE}: key 'trainer.precision' must be one of {', '.join(_PRECISIONS)}, got {trainer.get('precision')!r}"
        )
    max_time = trainer.get("max_time")
    if max_time is not None and not (isinstance(max_time, str) and _MAX_TIME.match(max_time)):
        raise ConfigError(f"{SOURCE}: key 'trainer.max_time' must be DD:HH:MM:SS or null, got {max_time!r}")
    reader.integer("trainer.max_steps", default=-1, minimum=-1)
    reader.integer("trainer.val_check_interval")  # also the checkpoint interval, in steps
    reader.integer("trainer.log_every_n_steps", default=50)
    clip = trainer.get("gradient_clip_val")
    if clip is not None and (not _is_number(clip) or not 0 <= clip < math.inf):
        raise ConfigError(f"{SOURCE}: key 'trainer.gradient_clip_val' must be a number >= 0 or null, got {clip!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
