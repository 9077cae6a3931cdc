"""``elmo-bench task=<name> embedder=<name> seed=<n>``: train one head, write one row.

The run checks its configuration, reads the task's data, embeds every split once through
the activation cache (a warm cache never loads the biLM), trains the scalar mix and head
with Lightning (early stopping on the validation metric, the best epoch's weights kept),
scores the test split and writes, atomically, one JSON row, the test predictions and the
per-example test scores under ``results_dir``. A run whose row already exists is skipped,
so an interrupted sweep resumes where it stopped; a row made with another frozen model
under the same path (a retrained biLM) stops the run instead (:func:`check_same_models`).
With ``trainer.devices=N trainer.strategy=ddp`` the ranks share each epoch's batches and
each split's scoring, and score every item exactly once (see :func:`run`).

Heavy libraries (torch, Lightning, the task code) are imported inside the functions that
use them, so ``elmo-bench --help`` and configuration errors come back at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from elmo.errors import ConfigError, UserError
from elmo.io import check_writable
from tasks.provenance import ROOT, git_revision

if TYPE_CHECKING:
    import torch

    from tasks.cache import Store
    from tasks.embedders.base import Embedder
    from tasks.task import Split, Task

logger = logging.getLogger(__name__)

# Settings that change where or how fast a run happens, not what it computes.
_NOT_HASHED = ("results_dir", "skip_existing", "cache", "threads", "verbose", "trainer.enable_progress_bar", "hydra")
# Trainer arguments the run sets itself, with where to set them instead.
_RUN_OWNS = {
    "max_epochs": "training.max_epochs",
    "max_time": "training.max_time",
    "callbacks": None,
    "logger": None,
    "enable_checkpointing": None,
    "num_sanity_val_steps": None,
    "deterministic": None,
    "use_distributed_sampler": None,  # the run shares its batches among ranks itself
}
# Strategies whose processes each run the whole command (``elmo-bench`` started once per
# device, or by SLURM once per task): every rank keeps its own results, so rank 0 holds them
# all after gathering. Spawned or forked workers lose theirs (the row, the best weights);
# sharded strategies (FSDP, DeepSpeed) split the head, which the best-weights copy and the
# gathered scoring do not expect.
_STRATEGIES = ("auto", "ddp", "ddp_find_unused_parameters_true")


@dataclass
class TrainingConfig:
    """The head-training recipe (``conf/training/``); types are checked before any work."""

    lr: float = 1e-3
    weight_decay: float = 0.0
    mix_l2: float = 0.0
    mix_lr: float | None = None
    batch_tokens: int = 2048
    max_epochs: int = 30
    patience: int = 3
    max_time: str | None = None
    lr_decay: float | None = None
    lr_decay_patience: int = 0


def check_config(cfg: DictConfig) -> TrainingConfig:
    """The typed training recipe, and refusals of settings that cannot work, before any data is read.

    Raises:
        ConfigError: naming the key.
    """
    from omegaconf.errors import OmegaConfBaseException

    try:
        merged = OmegaConf.merge(OmegaConf.structured(TrainingConfig), cfg.training)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", "") or ""
        raise ConfigError(f"training.{key}: {str(error).splitlines()[0]}") from None
    training: TrainingConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    for key in ("batch_tokens", "max_epochs"):
        if getattr(training, key) < 1:
            raise ConfigError(f"training.{key} must be at least 1, got {getattr(training, key)}")
    for key, value, ok in (
        ("patience", training.patience, training.patience >= 0),
        ("lr", training.lr, training.lr > 0),
        ("mix_lr", training.mix_lr, training.mix_lr is None or training.mix_lr > 0),
        ("weight_decay", training.weight_decay, training.weight_decay >= 0),
        ("mix_l2", training.mix_l2, training.mix_l2 >= 0),
        ("lr_decay", training.lr_decay, training.lr_decay is None or 0 < training.lr_decay < 1),
        ("lr_decay_patience", training.lr_decay_patience, training.lr_decay_patience >= 0),
    ):
        if not ok:
            raise ConfigError(f"training.{key} is out of range: {value}")
    for key, instead in _RUN_OWNS.items():
        if key in cfg.trainer:
            where = f"set {instead} instead" if instead else "the run sets it itself"
            raise ConfigError(f"trainer.{key} cannot be set: {where}")
    strategy = cfg.trainer.get("strategy", "auto")
    if strategy not in _STRATEGIES:
        raise ConfigError(
            f"trainer.strategy={strategy}: elmo-bench runs on one device or on several with "
            f"{' or '.join(_STRATEGIES[1:])} (one process per device)"
        )
    return training


def check_launch(trainer: Any) -> None:
    """Refuse a Trainer whose processes could not be trusted to write one correct row.

    Raises:
        ConfigError: spawned or forked workers (``strategy=auto`` in a notebook), or a
            multi-device run inside a local Hydra multirun, whose per-device processes would
            run the whole sweep again.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

    launcher = trainer.strategy.launcher
    if launcher is None:  # one process, or processes started by the cluster (SLURM): each runs this
        return
    if not isinstance(launcher, _SubprocessScriptLauncher):
        raise ConfigError(
            f"trainer.strategy: Lightning chose {type(launcher).__name__}, whose workers lose their results; "
            "set trainer.strategy=ddp"
        )
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN and trainer.world_size > 1:
        raise ConfigError(
            f"trainer.devices: a local multirun cannot start {trainer.world_size} processes per run "
            "(each would run the whole sweep); run multi-device points one by one or on SLURM (hydra/launcher=slurm_gpu)"
        )


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
    from hydra.core.hydra_config import HydraConfig

    if cfg.embedder.get("name"):
        return str(cfg.embedder.name)
    if HydraConfig.initialized() and HydraConfig.get().runtime.choices.get("embedder"):
        return str(HydraConfig.get().runtime.choices["embedder"])
    return str(cfg.embedder._target_).rsplit(".", 1)[-1]


def _instantiate(node: DictConfig, **overrides: Any) -> Any:
    """Hydra's instantiate (plain dicts and lists as arguments), user errors passed on unwrapped."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        return instantiate(node, _convert_="all", **overrides)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, (ValueError, TypeError)):  # a bad value or an unknown key
            raise ConfigError(str(cause)) from None
        raise


def read_existing_row(path: Path) -> dict[str, Any] | None:
    """The row a finished run left at ``path``, or None when it cannot be read back.

    A damaged row (cut short by a full disk, edited by hand) is kept beside, renamed
    ``*.damaged``, with a warning, and the run computes it again.
    """
    from tasks.reports.rows import ReportError, ResultRow

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ResultRow.from_dict(data, path)
    except (UnicodeDecodeError, json.JSONDecodeError, ReportError, AttributeError, TypeError) as error:
        damaged = path.with_suffix(".damaged")
        try:
            path.replace(damaged)
        except FileNotFoundError:  # another rank of the same run moved it first
            return None
        logger.warning("%s cannot be read back (%s); kept as %s, running again", path, error, damaged.name)
        return None
    return data


def model_fingerprints(embedder: Embedder, key: str = "embedder") -> dict[str, str]:
    """The fingerprints of the embedder's frozen models, by where each sits in the config.

    A frozen model is a cacheable embedder (a biLM): its fingerprint is cheap and needs no
    ``fit`` (the activation cache asks for it before any model is loaded). The members of
    a :class:`~tasks.embedders.concat.ConcatEmbedder` are looked at one by one; a static
    table is named by its config (path and settings) and not fingerprinted here. So
    ``elmo`` gives ``{"embedder": ...}``, ``glove+elmo`` ``{"embedder.embedders.1": ...}``
    and ``glove`` ``{}``.
    """
    from tasks.embedders.concat import ConcatEmbedder

    if isinstance(embedder, ConcatEmbedder):
        found: dict[str, str] = {}
        for index, member in enumerate(embedder.members):
            found |= model_fingerprints(member, f"{key}.embedders.{index}")
        return found
    return {key: embedder.fingerprint()} if embedder.cacheable else {}


def check_same_models(row: dict[str, Any], cfg: DictConfig, path: Path, name: str) -> None:
    """Refuse to reuse a row that another model made: the same config, other weights.

    Only the config nodes the row names are built (a biLM's is cheap: its weights are read
    on first use); static vectors are not read. A row written before ``model_fingerprints``
    was recorded, or whose model files are gone, cannot be checked: it is reused, with a
    warning.

    Raises:
        ConfigError: naming the row, the embedder and both fingerprints; the row is kept.
    """
    recorded = row.get("model_fingerprints")
    if recorded is None:
        logger.warning("%s was written before rows recorded their model: reused unchecked", path)
        return
    current: dict[str, str] = {}
    for key in recorded:
        node = OmegaConf.select(cfg, key)
        try:
            current |= model_fingerprints(_instantiate(node), key) if node is not None else {}
        except UserError as error:
            logger.warning("%s: cannot check its %s model (%s): reused unchecked", path, name, error)
            return
    if recorded != current:
        from tasks.reports.rows import short_fingerprints

        raise ConfigError(
            f"{path}: this row was made with another {name} model (fingerprint "
            f"{short_fingerprints(recorded)}, now {short_fingerprints(current)}); move the row away "
            "or set results_dir to keep both"
        )


def build_task(cfg: DictConfig) -> Task:
    """``cfg.task``, with ``cfg.head`` replacing (not merged into) its head when set (``head=linear``)."""
    node = cfg.task
    if cfg.get("head"):
        node = OmegaConf.create(OmegaConf.to_container(cfg.task, resolve=True))
        node.head = cfg.head
    return _instantiate(node)


def build_embedder(cfg: DictConfig) -> Embedder:
    return _instantiate(cfg.embedder)


def row_path(cfg: DictConfig, task: str, dataset: str, embedder: str) -> Path:
    """``results_dir/<task>-<dataset>/<embedder>/seed<n>-<config hash>.json``."""
    folder = Path(cfg.results_dir)
    if not folder.is_absolute():
        from hydra.core.hydra_config import HydraConfig

        folder = Path(hydra.utils.get_original_cwd() if HydraConfig.initialized() else ".") / folder
    return folder / f"{task}-{dataset}" / embedder / f"seed{cfg.seed}-{config_hash(cfg)[:12]}.json"


def embed_splits(
    cfg: DictConfig, embedder: Embedder, splits: dict[str, Split], label: str, device: torch.device | None = None
) -> dict[str, Store]:
    """Every split's texts through the embedder: via the on-disk cache when it pays.

    On a GPU (``device``, the trainer's) the embedder runs there and goes back to the CPU
    afterwards; the stores are in host memory either way.
    """
    from tasks.cache import ActivationCache, embed_texts

    cache = ActivationCache(cfg.cache.dir, dtype=cfg.cache.dtype) if cfg.cache.enabled else None
    moved = device is not None and device.type != "cpu"
    if moved:
        embedder.to(device)
    try:
        return {name: embed_texts(embedder, split.texts, cache, f"{label}/{name}") for name, split in splits.items()}
    finally:
        if moved:
            embedder.to("cpu")


def check_mix(mix: dict[str, Any], num_layers: int) -> None:
    """``mix.*`` against the embedder's layers, before any work.

    Raises:
        ConfigError: naming ``mix`` and what is wrong (fixed weights for another number of
            layers, an unknown key).
    """
    from elmo import ScalarMix

    try:
        ScalarMix(num_layers, **mix)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"mix: {error} (the embedder has {num_layers} layers)") from None


def build_trainer(cfg: DictConfig, training: TrainingConfig, callbacks: list[Any]) -> Any:
    """The Lightning Trainer of ``cfg.trainer`` and the recipe; a setting Lightning refuses is one line.

    Raises:
        ConfigError: naming ``trainer`` or ``training.max_time`` and Lightning's reason.
    """
    import lightning as L
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        trainer = L.Trainer(
            **OmegaConf.to_container(cfg.trainer, resolve=True),
            max_epochs=training.max_epochs,
            max_time=training.max_time,
            callbacks=callbacks,
            logger=False,
            enable_checkpointing=False,
            num_sanity_val_steps=0,
            deterministic=True,
            use_distributed_sampler=False,
        )
    except (MisconfigurationException, ValueError, TypeError) as error:
        raise ConfigError(f"trainer / training.max_time: {error}") from None
    check_launch(trainer)
    return trainer


def head_choice(cfg: DictConfig) -> str:
    head = cfg.head if cfg.get("head") else cfg.task.get("head")
    return str((head or {}).get("name") or (head or {}).get("_target_", "the head"))


def _loader(split: Split, store: Store, task: Task, budget: int, shuffle: bool, seed: int, trainer: Any) -> Any:
    """Token-budget batches; with several ranks, this rank's every R-th batch of each epoch.

    Evaluation shares are padded with the split's first batches (every rank steps alike);
    :class:`tasks.model.TaskModel` counts each item once when it gathers the outputs.
    """
    from torch.utils.data import DataLoader

    from tasks.batching import TokenBudgetBatches, collate
    from tasks.distributed import DistributedTokenBudgetBatches

    sampler = TokenBudgetBatches([item.num_tokens for item in split.items], budget, shuffle=shuffle, seed=seed)
    if trainer.world_size > 1:
        sampler = DistributedTokenBudgetBatches(sampler, trainer.world_size, trainer.global_rank)
    return DataLoader(split.items, batch_sampler=sampler, collate_fn=lambda items: collate(items, store, task))


def _quiet_lightning(verbose: bool) -> None:
    """Lightning's start-up banners and tips only when asked for (``verbose=true``)."""
    import warnings

    if verbose:
        return
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for message in (".*srun.*", ".*LeafSpec.*", ".*does not have many workers.*", ".*GPU available but not used.*"):
        warnings.filterwarnings("ignore", message=message)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Train and test one (task, embedder, seed); return the result row (also written).

    With several devices (``trainer.strategy=ddp``) every rank runs this function: each
    trains on its share of the batches and scores its share of each split, the outputs are
    gathered before scoring, and rank 0 writes the row; the other ranks return ``{}``.
    """
    started = time.perf_counter()
    training = check_config(cfg)
    revision = git_revision()
    task = build_task(cfg)
    name = embedder_name(cfg)
    path = row_path(cfg, task.name, task.dataset, name)
    if cfg.skip_existing and path.is_file():
        existing = read_existing_row(path)
        if existing is not None:
            check_same_models(existing, cfg, path, name)
            logger.info("skipping %s: its row exists (%s)", name, path)
            return existing
    check_writable(path.parent)  # before hours of training, not after

    import lightning as L
    import torch
    from lightning.pytorch.callbacks import EarlyStopping

    from elmo.io import write_json_atomic
    from tasks.model import BestWeights, TaskModel, scores_with_prefix
    from tasks.reports.rows import EXAMPLE_SCORES_SUFFIX, ResultRow, write_example_scores

    _quiet_lightning(bool(cfg.get("verbose")))
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    # Everything a setting can break is built before the data is read and embedded.
    embedder = build_embedder(cfg)
    models = model_fingerprints(embedder)  # before fit: what a rerun's check compares
    mix = OmegaConf.to_container(cfg.mix, resolve=True)
    check_mix(mix, embedder.num_layers)
    monitor = f"val/{task.metric}"
    best = BestWeights(monitor)
    stopping = EarlyStopping(monitor, mode="max", patience=training.patience)
    trainer = build_trainer(cfg, training, [stopping, best])

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    splits = task.load()
    embedder.fit(task.train_sentences(splits))
    stores = embed_splits(cfg, embedder, splits, f"{task.name}-{task.dataset} {name}", trainer.strategy.root_device)
    coverage = embedder.coverage(splits["test"].texts)

    # Seeded again here: loading a biLM draws random numbers, and a warm cache never loads
    # it, so the head's initialisation must not depend on what happened before.
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    try:
        model = TaskModel(
            task, splits, stores["train"].num_layers, stores["train"].dim, mix=mix,
            learning_rate=training.lr, weight_decay=training.weight_decay, mix_l2=training.mix_l2,
            mix_learning_rate=training.mix_lr, lr_decay=training.lr_decay,
            lr_decay_patience=training.lr_decay_patience,
        )
    except TypeError as error:  # a head built for another label kind (task=qa head=linear)
        raise ConfigError(f"head: {head_choice(cfg)} does not fit a {task.label_kind} task ({error})") from None
    loaders = {
        split: _loader(splits[split], stores[split], task, training.batch_tokens, split == "train", cfg.seed, trainer)
        for split in splits
    }
    fit_started = time.perf_counter()
    # With ddp, this is where the other ranks start: each runs the command again, and finds
    # the activations in the cache that this rank has just filled.
    trainer.fit(model, loaders["train"], loaders["dev"])
    fit_seconds = time.perf_counter() - fit_started
    trained_tokens = trainer.strategy.reduce(
        torch.tensor(float(model.trained_tokens), device=trainer.strategy.root_device), reduce_op="sum"
    )
    best.restore(model)
    trainer.test(model, loaders["test"], verbose=False)
    if not trainer.is_global_zero:  # every rank holds the same scores; one writes them
        return {}

    prediction_file = path.with_suffix(f".predictions.{task.prediction_format}")
    task.write_predictions(prediction_file, splits["test"], model.predictions["test"])
    scores_file = path.with_suffix(EXAMPLE_SCORES_SUFFIX)
    write_example_scores(scores_file, task.example_scores(splits["test"], model.predictions["test"]))
    if stopping.stopped_epoch > 0:
        stopped_by = "early_stopping"
    elif trainer.current_epoch >= training.max_epochs:
        stopped_by = "max_epochs"
    else:
        stopped_by = "max_time"
    row = ResultRow(
        task=task.name,
        dataset=task.dataset,
        embedder=name,
        head=getattr(model.head, "name", None) or type(model.head).__name__,
        seed=int(cfg.seed),
        metric=task.metric,
        secondary_metrics=list(task.secondary_metrics),
        metrics={**scores_with_prefix("val", best.best_scores), **scores_with_prefix("test", model.scores["test"])},
        scalar_mix=model.mix_report() if model.mix.num_layers > 1 else None,
        coverage=coverage,
        trainable_parameters=model.trainable_parameters(),
        epochs=trainer.current_epoch,
        best_epoch=best.best_epoch,
        stopped_by=stopped_by,
        learning_curve=[round(value, 4) for value in best.curve],
        learning_rates=best.learning_rates,
        capped=cfg.task.get("max_samples") is not None,
        train_items=len(splits["train"].items),
        wall_time_s=round(time.perf_counter() - started, 2),
        tokens_per_second=round(float(trained_tokens) / max(fit_seconds, 1e-9), 1),
        git_revision=revision,
        config=OmegaConf.to_container(cfg, resolve=True),
        config_hash=config_hash(cfg),
        model_fingerprints=models,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        predictions=prediction_file.name,
        example_scores=scores_file.name,
        note=task.note,
    ).to_dict()
    write_json_atomic(path, row)
    logger.info(
        "%s %s seed %d: test %s = %.2f (%s after %d epochs) -> %s",
        task.name, name, cfg.seed, task.metric, model.scores["test"][task.metric], stopped_by, trainer.current_epoch, path,
    )
    return row


@hydra.main(config_path=str(ROOT / "conf"), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """The ``elmo-bench`` command."""
    from elmo.cli import error_boundary

    with error_boundary("elmo-bench"):
        run(cfg)


if __name__ == "__main__":
    main()
