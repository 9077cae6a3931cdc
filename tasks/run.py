"""``elmo-bench task=<pos|ner|sentiment|qa> embedder=<...> seed=<n>``: train one head, write one row.

The run reads the task's data, embeds every split once through the activation cache (a
warm cache never loads the biLM), trains the scalar mix and head with Lightning (early
stopping on the validation metric, the best epoch's weights kept), scores the test split
and writes, atomically, one JSON row and the test predictions under ``results_dir``. A run
whose row already exists is skipped, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.callbacks import EarlyStopping
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader

from elmo.config import OptionsError
from elmo.io import write_json_atomic
from elmo.lm import NonFiniteLossError
from elmo.weights import WeightFileError
from tasks.cache import ActivationCache, Store, embed_texts
from tasks.provenance import ROOT, git_revision
from tasks.embedders.base import Embedder
from tasks.model import BestWeights, TaskModel, scores_with_prefix
from tasks.readers import DataFormatError, HubDatasetError
from tasks.task import Split, Task, TokenBudgetBatches, collate

logger = logging.getLogger(__name__)

SCHEMA = 1
# Settings that change where or how fast a run happens, not what it computes.
_NOT_HASHED = ("results_dir", "skip_existing", "cache", "threads", "trainer.enable_progress_bar", "hydra")
_PREDICTION_SUFFIX = {"pos": "conll", "ner": "conll", "sentiment": "txt", "qa": "json"}
USER_ERRORS = (DataFormatError, HubDatasetError, FileNotFoundError, OptionsError, WeightFileError, NonFiniteLossError)


def _user_errors() -> tuple[type[BaseException], ...]:
    from tasks.embedders.vector_files import VectorFileError

    return (*USER_ERRORS, VectorFileError)


def config_hash(cfg: DictConfig) -> str:
    """A digest of everything that decides the run's result (not paths or display)."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for dotted in _NOT_HASHED:
        node, *rest = dotted.split(".")
        if rest and isinstance(data.get(node), dict):
            data[node].pop(rest[0], None)
        elif not rest:
            data.pop(node, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def embedder_name(cfg: DictConfig) -> str:
    """The embedder's report name: its ``name`` key, else the config's file name."""
    if cfg.embedder.get("name"):
        return str(cfg.embedder.name)
    if HydraConfig.initialized():
        choice = HydraConfig.get().runtime.choices.get("embedder")
        if choice:
            return str(choice)
    return str(cfg.embedder._target_).rsplit(".", 1)[-1]


def _instantiate(settings: dict[str, Any]) -> Any:
    """Hydra's instantiate (plain dicts and lists as arguments), user errors passed on unwrapped."""
    try:
        return instantiate(settings, _convert_="all")
    except InstantiationException as error:
        if isinstance(error.__cause__, _user_errors()):
            raise error.__cause__ from None
        raise


def build_embedder(cfg: DictConfig) -> Embedder:
    """Instantiate ``cfg.embedder`` without its report-only keys (``name``, ``mix``)."""
    settings = OmegaConf.to_container(cfg.embedder, resolve=True)
    settings.pop("name", None)
    settings.pop("mix", None)
    return _instantiate(settings)


def build_task(cfg: DictConfig) -> Task:
    """Instantiate ``cfg.task`` (minus ``training``), with ``cfg.head`` replacing its head when set.

    An optional ``name`` key renames the task in rows and reports (a chunking config on the
    NER class reports as ``chunk``).
    """
    settings = OmegaConf.to_container(cfg.task, resolve=True)
    settings.pop("training", None)
    name = settings.pop("name", None)
    if cfg.get("head"):
        settings["head"] = OmegaConf.to_container(cfg.head, resolve=True)
    task = _instantiate(settings)
    if name:
        task.name = name
    return task


def row_path(cfg: DictConfig, task: str, dataset: str, embedder: str) -> Path:
    """``results_dir/<task>-<dataset>/<embedder>/seed<n>-<config hash>.json``."""
    folder = Path(cfg.results_dir)
    if not folder.is_absolute():
        folder = Path(hydra.utils.get_original_cwd() if HydraConfig.initialized() else ".") / folder
    return folder / f"{task}-{dataset}" / embedder / f"seed{cfg.seed}-{config_hash(cfg)[:12]}.json"


def embed_splits(cfg: DictConfig, embedder: Embedder, splits: dict[str, Split], label: str) -> dict[str, Store]:
    """Every split's texts through the embedder: via the on-disk cache when it pays."""
    cache = ActivationCache(cfg.cache.dir, dtype=cfg.cache.dtype) if cfg.cache.enabled else None
    return {name: embed_texts(embedder, split.texts, cache, f"{label}/{name}") for name, split in splits.items()}


def _loader(split: Split, store: Store, task: Task, budget: int, shuffle: bool, seed: int) -> DataLoader:
    sampler = TokenBudgetBatches([item.num_tokens for item in split.items], budget, shuffle=shuffle, seed=seed)
    return DataLoader(split.items, batch_sampler=sampler, collate_fn=lambda items: collate(items, store, task))


def run(cfg: DictConfig) -> dict[str, Any]:
    """Train and test one (task, embedder, seed); return the result row (also written)."""
    started = time.perf_counter()
    revision = git_revision()
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    task = build_task(cfg)
    name = embedder_name(cfg)
    path = row_path(cfg, task.name, task.dataset, name)
    if cfg.skip_existing and path.is_file():
        logger.info("skipping %s: its row exists (%s)", name, path)
        return json.loads(path.read_text(encoding="utf-8"))
    splits = task.load()
    embedder = build_embedder(cfg)
    embedder.fit(task.train_sentences(splits))
    stores = embed_splits(cfg, embedder, splits, f"{task.name}-{task.dataset} {name}")
    coverage = embedder.coverage(splits["test"].texts)

    training = cfg.task.training
    # Seeded again here: loading a biLM draws random numbers, and a warm cache never loads
    # it, so the head's initialisation must not depend on what happened before.
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    mix = OmegaConf.to_container(cfg.embedder.mix, resolve=True) if cfg.embedder.get("mix") else {}
    model = TaskModel(
        task, splits, stores["train"].num_layers, stores["train"].dim, mix=mix,
        learning_rate=training.lr, weight_decay=training.get("weight_decay", 0.0), mix_l2=training.get("mix_l2", 0.0),
    )
    monitor = f"val/{task.metric}"
    best = BestWeights(monitor)
    trainer = L.Trainer(
        **OmegaConf.to_container(cfg.trainer, resolve=True),
        max_epochs=training.max_epochs,
        callbacks=[EarlyStopping(monitor, mode="max", patience=training.patience), best],
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        deterministic=True,
    )
    loaders = {
        split: _loader(splits[split], stores[split], task, training.batch_tokens, split == "train", cfg.seed)
        for split in splits
    }
    fit_started = time.perf_counter()
    trainer.fit(model, loaders["train"], loaders["dev"])
    fit_seconds = time.perf_counter() - fit_started
    best.restore(model)
    trainer.test(model, loaders["test"], verbose=False)

    prediction_file = path.with_suffix(f".predictions.{_PREDICTION_SUFFIX.get(task.name, 'txt')}")
    task.write_predictions(prediction_file, splits["test"], model.predictions["test"])
    row = {
        "schema": SCHEMA,
        "task": task.name,
        "dataset": task.dataset,
        "embedder": name,
        "head": str(cfg.task.head._target_ if not cfg.get("head") else cfg.head._target_).rsplit(".", 1)[-1],
        "seed": int(cfg.seed),
        "metric": task.metric,
        "metrics": {**scores_with_prefix("val", best.best_scores), **scores_with_prefix("test", model.scores["test"])},
        "scalar_mix": model.mix_report() if model.mix.num_layers > 1 else None,
        "coverage": coverage,
        "trainable_parameters": model.trainable_parameters(),
        "epochs": trainer.current_epoch,
        "best_epoch": best.best_epoch,
        "train_items": len(splits["train"].items),
        "wall_time_s": round(time.perf_counter() - started, 2),
        "tokens_per_second": round(model.trained_tokens / max(fit_seconds, 1e-9), 1),
        "git_revision": revision,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "config_hash": config_hash(cfg),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "predictions": prediction_file.name,
    }
    if task.note:
        row["note"] = task.note
    write_json_atomic(path, row)
    logger.info("%s %s seed %d: test %s = %.2f -> %s", task.name, name, cfg.seed, task.metric, model.scores["test"][task.metric], path)
    return row


@hydra.main(config_path=str(ROOT / "conf"), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """The ``elmo-bench`` command."""
    try:
        run(cfg)
    except _user_errors() as error:
        logger.error("%s", error)
        sys.exit(f"elmo-bench: {error}")


if __name__ == "__main__":
    main()
