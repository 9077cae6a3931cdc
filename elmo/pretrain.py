"""``elmo-pretrain``: train a biLM on raw text and export it in the AllenNLP format.

    elmo-pretrain                                    # conf/pretrain.yaml as it is
    elmo-pretrain corpus=[my_text/] trainer.max_time=00:02:00:00 output_dir=runs/mine

The run tokenizes the corpus once (kept in ``prepared_dir``), trains with Lightning
(progress bar, held-out perplexity and a checkpoint every ``trainer.val_check_interval``
steps, gradient clipping, fixed seed), resumes from ``output_dir/checkpoints/last.ckpt``
when it exists (reading no pickle: ``weights_only``), and finally writes ``output_dir/export/``: ``options.json`` +
``weights.hdf5`` (the biLM, loadable by AllenNLP and ``BiLM.from_allennlp``), the
``vocab.txt`` and ``softmax.hdf5`` of the language model, and ``metrics.json``. The config
is checked first (``elmo.pretrain_config``): a wrong value is one line naming its key.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import hydra
import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, IterableDataset

from elmo.bilm import BiLM
from elmo.cli import DEBUG_HELP, command_line, error_boundary, fraction, positive_int
from elmo.corpus import Vocabulary
from elmo.config import BiLMConfig
from elmo.errors import ConfigError, UserError, one_line
from elmo.io import check_writable, hdf5_writer, write_json_atomic
from elmo.lm import BiLanguageModel, held_out_perplexities
from elmo.lm_data import LanguageModelBatches, build_vocabulary, prepare_corpus
from elmo.pretrain_config import check_pretrain_config
from elmo.progress import progress_bar
from elmo.weights import WeightFileError, open_hdf5, read_numbers

logger = logging.getLogger(__name__)

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


class _TrainingStream(IterableDataset):
    """Endless training batches, starting where the module's checkpoint left off; with
    several ranks, this rank's every R-th batch of the one stream."""

    def __init__(self, batches: LanguageModelBatches, module: BiLanguageModel) -> None:
        self.batches = batches
        self.module = module

    def __iter__(self):
        trainer = self.module.trainer  # read when iterating: the ranks are known by then
        return self.batches.iterate(self.module.data_position, trainer.global_rank, trainer.world_size)


class _HeldOutShare(IterableDataset):
    """This rank's every R-th held-out batch, as ``(counted, batch)``.

    Every rank must run as many steps as the others (a DDP forward pass is a collective),
    so the shorter shares end with a repeat of their first batch that is not counted.
    """

    def __init__(self, batches: list[dict[str, torch.Tensor]], module: BiLanguageModel) -> None:
        self.batches = batches
        self.module = module

    def __iter__(self):
        rank, ranks = self.module.trainer.global_rank, self.module.trainer.world_size
        share = self.batches[rank::ranks]
        steps = -(-len(self.batches) // ranks)
        return iter([(True, batch) for batch in share] + [(False, self.batches[0])] * (steps - len(share)))


def save_softmax(model: BiLanguageModel, path: str | os.PathLike[str]) -> None:
    """The adaptive softmax's tensors, one HDF5 dataset per state-dict key."""
    with hdf5_writer(path) as f:
        f.attrs["cutoffs"] = model.softmax.cutoffs[:-1]
        for name, tensor in model.softmax.state_dict().items():
            f.create_dataset(name, data=tensor.detach().cpu().numpy())


def load_language_model(folder: str | os.PathLike[str]) -> tuple[BiLanguageModel, Vocabulary]:
    """The biLM and softmax of an exported folder, for scoring text (no pickle is read).

    Raises:
        OptionsError, WeightFileError, CorpusError: a file of the folder is missing or
            does not fit the others; the message names it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightFileError(f"{folder}: not a folder exported by elmo-pretrain")
    bilm = BiLM.from_allennlp(folder / "options.json", folder / "weights.hdf5")
    vocabulary = Vocabulary.load(folder / "vocab.txt")
    path = folder / "softmax.hdf5"
    with open_hdf5(path, "softmax file") as f:
        cutoffs = f.attrs.get("cutoffs")
        if cutoffs is None or np.asarray(cutoffs).dtype.kind not in "iu":
            raise WeightFileError(f"{path}: attribute 'cutoffs' missing or not integers")
        datasets = [f[name] for name in f]
        if not all(isinstance(d, h5py.Dataset) for d in datasets):
            raise WeightFileError(f"{path}: expected only datasets at the top level")
        state = {d.name.lstrip("/"): torch.from_numpy(read_numbers(d, path)) for d in datasets}
    model = BiLanguageModel(bilm.config.to_dict(), len(vocabulary), [int(c) for c in cutoffs])
    model.bilm = bilm
    try:
        model.softmax.load_state_dict(state)
    except RuntimeError as error:  # missing, unexpected or mis-shaped tensors
        raise WeightFileError(f"{path}: does not fit the model and vocabulary ({one_line(str(error))})") from None
    return model.eval(), vocabulary


@torch.no_grad()
def evaluate(model: BiLanguageModel, batches: LanguageModelBatches) -> dict[str, float]:
    """Held-out perplexity of each direction over every batch of ``batches``.

    Also reports the number of targets per direction (each sentence's words plus
    ``</S>`` or ``<S>``) and the share of held-out words outside the output vocabulary.
    """
    model.eval()
    device = next(model.parameters()).device
    forward = backward = 0.0
    count = unknown = 0
    with progress_bar(batches.num_tokens, "held-out perplexity", unit="tok") as progress:
        for indices in batches.evaluation():
            batch = {name: tensor.to(device) for name, tensor in batches.make_batch(indices).items()}
            f, b, n = model.negative_log_likelihoods(batch)
            forward, backward, count = forward + f.item(), backward + b.item(), count + n
            unknown += int((batch["targets"] == batches.unk).sum())
            progress.update(n)
    return held_out_perplexities(forward, backward, count) | {
        "heldout_tokens": count,
        "heldout_unk_rate": unknown / max(1, count - len(batches.pieces)),  # words only
    }


class CheckpointError(UserError, RuntimeError):
    """A checkpoint to resume from that cannot be read safely."""


def _check_checkpoint(path: Path, steps_before: int) -> None:
    """Read the checkpoint as tensors and plain values only, before Lightning resumes from
    it, and check that it continues the same export (``init_from``) as this run, if any.

    Raises:
        CheckpointError: it is damaged or holds other objects (a pickle that would run code),
            or it continues another number of earlier steps than ``steps_before``.
    """
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch reports a refused or broken pickle in several types
        # torch's own message suggests weights_only=False, which would run the pickle: not shown.
        raise CheckpointError(
            f"{path}: cannot resume from it: damaged, or holds objects other than tensors and plain "
            f"values ({type(error).__name__}); move it away to start over"
        ) from None
    earlier = checkpoint.get("hyper_parameters", {}).get("steps_before", 0)
    if earlier != steps_before:
        raise CheckpointError(
            f"{path}: continues an export after {earlier} steps, but this run's init_from "
            f"{'names one after ' + str(steps_before) if steps_before else 'is null'}: rerun with the "
            "init_from that made it, or move it away to start over"
        )


_DATA_KEYS = ("seed", "heldout_fraction", "max_corpus_tokens", "batch_tokens", "max_length", "vocab_size")


def _data_settings(cfg: DictConfig) -> dict[str, Any]:
    """The settings that decide which batches a run trains on, in what order."""
    return {key: cfg[key] for key in _DATA_KEYS}


def _run_record(metrics: dict[str, Any]) -> dict[str, Any]:
    record = {"steps": metrics.get("steps"), "train_tokens": metrics.get("train_tokens"),
              "train_seconds": metrics.get("train_seconds_this_run")}
    return record | ({"schedule": metrics["schedule"]} if "schedule" in metrics else {})


def _read_metrics(folder: Path) -> dict[str, Any]:
    path = folder / "metrics.json"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightFileError(f"{path}: missing; init_from needs the metrics.json that elmo-pretrain writes") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WeightFileError(f"{path}: not valid JSON ({error})") from None
    counts = ("steps", "train_tokens", "data_position")
    if not isinstance(metrics, dict) or not all(isinstance(metrics.get(k), int) and metrics[k] >= 0 for k in counts):
        raise WeightFileError(f"{path}: expected a JSON object with integers >= 0 under {', '.join(counts)}")
    return metrics


def _earlier_training(
    cfg: DictConfig, options: dict[str, Any], vocabulary: Vocabulary, train: LanguageModelBatches
) -> dict[str, Any]:
    """The export named by ``init_from``, checked against this run's config: its weights,
    and where its training stopped, as a position in ``train``'s stream (another batch
    size is allowed: the position is then the same number of tokens into the epoch).

    Raises:
        ConfigError: the export's architecture, vocabulary or data settings differ from
            the config's (the key is named); its softmax is checked by ``_continue_from``.
        WeightFileError: a file of the export is missing or damaged.
    """
    folder = Path(cfg.get("init_from"))
    metrics = _read_metrics(folder)
    model, earlier_vocabulary = load_language_model(folder)
    if model.bilm.config.to_dict() != BiLMConfig.from_dict(options).to_dict():
        raise ConfigError(f"config: key 'model' differs from {folder / 'options.json'}: continue with the same architecture")
    if earlier_vocabulary.words != vocabulary.words:
        raise ConfigError(
            f"config: the vocabulary of this corpus and 'vocab_size' differs from {folder / 'vocab.txt'}: "
            "continue on the same corpus and settings"
        )
    data = metrics.get("data")
    if (
        not isinstance(data, dict)
        or set(data) != set(_DATA_KEYS)
        or not all(isinstance(data[k], int) and data[k] > 0 for k in ("batch_tokens", "max_length", "vocab_size"))
    ):
        raise WeightFileError(f"{folder / 'metrics.json'}: expected key 'data' with the settings {', '.join(_DATA_KEYS)}")
    for key, value in data.items():
        if key != "batch_tokens" and cfg.get(key) != value:
            raise ConfigError(
                f"config: key '{key}' is {cfg.get(key)!r} but {folder} was trained with {value!r}: "
                "the run would not continue where that one stopped"
            )
    position = metrics["data_position"]
    if data["batch_tokens"] != train.max_tokens:  # the same place in the same sentence order
        earlier = LanguageModelBatches(
            train.corpus, vocabulary, "train", max_tokens=data["batch_tokens"], max_length=train.max_length,
            seed=train.seed, max_characters=train.encoder.max_characters,
        )
        position = train.position_at(*earlier.tokens_before(position))
    return {
        "model": model, "folder": folder, "metrics": metrics,
        "steps": metrics["steps"], "train_tokens": metrics["train_tokens"], "data_position": position,
    }


def _continue_from(model: BiLanguageModel, before: dict[str, Any]) -> None:
    """Start ``model`` where the export in ``before`` (``_earlier_training``) stopped.

    Raises:
        ConfigError: the config's softmax clusters differ from the export's.
    """
    if model.softmax.cutoffs != before["model"].softmax.cutoffs:
        raise ConfigError(f"config: key 'cutoffs' differs from {before['folder'] / 'softmax.hdf5'}")
    model.bilm.load_state_dict(before["model"].bilm.state_dict())
    model.softmax.load_state_dict(before["model"].softmax.state_dict())
    model.data_position = before["data_position"]
    model.tokens_trained = before["train_tokens"]
    logger.info(
        "continuing from %s steps and %s tokens per direction (training batch %s on)",
        before["steps"], before["train_tokens"], before["data_position"],
    )


def run(cfg: DictConfig) -> dict[str, Any]:
    """Check the config, prepare, train, export; returns the final metrics.

    Raises:
        ConfigError: a config value is wrong (before any work is done).
    """
    check_pretrain_config(cfg)
    # "high" lets a GPU multiply float32 in TF32; a CPU computes the same either way.
    torch.set_float32_matmul_precision(cfg.get("float32_matmul_precision", "highest"))
    L.seed_everything(cfg.seed, workers=True)
    output = Path(cfg.output_dir)
    corpus = prepare_corpus(
        list(cfg.corpus), cfg.prepared_dir, cfg.heldout_fraction, cfg.seed, cfg.max_corpus_tokens,
        cfg.encoding_errors,
    )
    vocabulary = build_vocabulary(corpus, cfg.vocab_size)
    options = OmegaConf.to_container(cfg.model, resolve=True)
    common = {"max_tokens": cfg.batch_tokens, "max_length": cfg.max_length,
              "max_characters": options["char_cnn"]["max_characters_per_token"]}
    train = LanguageModelBatches(corpus, vocabulary, "train", seed=cfg.seed, **common)
    heldout = LanguageModelBatches(corpus, vocabulary, "heldout", max_sentences=cfg.heldout_sentences, **common)
    checkpoints = output / "checkpoints"
    last = checkpoints / "last.ckpt"
    before = _earlier_training(cfg, options, vocabulary, train) if cfg.get("init_from") else None
    model = BiLanguageModel(
        options, len(vocabulary), list(cfg.cutoffs), cfg.learning_rate, cfg.warmup_steps, cfg.seed,
        steps_before=before["steps"] if before else 0,
        cooldown_steps=cfg.get("cooldown_steps", 0), total_steps=max(cfg.trainer.get("max_steps", -1), 0) or None,
    )
    if before:  # a checkpoint of this run, when there is one, then replaces all but steps_before
        _continue_from(model, before)
    parameters = sum(p.numel() for p in model.bilm.parameters())
    logger.info("biLM parameters: %d, vocabulary: %d, train pieces: %d", parameters, len(vocabulary), len(train.pieces))
    trainer = L.Trainer(
        **OmegaConf.to_container(cfg.trainer, resolve=True),
        default_root_dir=output,
        logger=L.pytorch.loggers.CSVLogger(output, name="logs"),
        callbacks=[L.pytorch.callbacks.ModelCheckpoint(dirpath=checkpoints, save_last=True, every_n_train_steps=cfg.trainer.val_check_interval)],
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # the streams above share the batches among ranks
    )
    if last.is_file():
        _check_checkpoint(last, model.hparams.steps_before)
    val_batches = [heldout.make_batch(b) for b in heldout.evaluation()]
    started = time.perf_counter()
    trainer.fit(
        model,
        DataLoader(_TrainingStream(train, model), batch_size=None),
        DataLoader(_HeldOutShare(val_batches, model), batch_size=None),
        ckpt_path=str(last) if last.is_file() else None,
        weights_only=True,  # a checkpoint is tensors and plain values; never run a pickle
    )
    if not trainer.is_global_zero:  # with ddp, rank 0 alone scores and exports the shared weights
        return {}
    export = output / "export"
    model.bilm.save_allennlp(export / "options.json", export / "weights.hdf5")
    vocabulary.save(export / "vocab.txt")
    save_softmax(model, export / "softmax.hdf5")
    everything_heldout = LanguageModelBatches(corpus, vocabulary, "heldout", **common)
    seconds = time.perf_counter() - started  # training and its held-out checks, not this evaluation
    if cfg.trainer.get("accelerator") in ("gpu", "cuda") and torch.cuda.is_available():
        model.cuda()  # Lightning hands the model back on the CPU
    metrics = evaluate(model, everything_heldout) | {
        "steps": model.hparams.steps_before + trainer.global_step,
        "data_position": model.data_position,
        "train_tokens": model.tokens_trained,
        "train_seconds_this_run": seconds,
        "parameters": parameters,
        "vocab_size": len(vocabulary),
        "data": _data_settings(cfg),
        "schedule": {key: cfg.get(key, 0) for key in ("batch_tokens", "learning_rate", "warmup_steps", "cooldown_steps")},
    }
    if before:
        earlier = before["metrics"]
        metrics["continued_from"] = {key: earlier.get(key) for key in ("steps", "train_tokens", "ppl_forward", "ppl_backward")}
        metrics["runs"] = [*earlier.get("runs", [_run_record(earlier)]), _run_record(metrics)]
    write_json_atomic(export / "metrics.json", metrics)
    logger.info("exported to %s: %s", export, metrics)
    return metrics


@command_line("elmo-perplexity")
def perplexity_main(argv: list[str] | None = None) -> None:
    """Console entry point ``elmo-perplexity``: held-out perplexity of an exported model."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="elmo-perplexity",
        description="Held-out perplexity, forward and backward, of a model exported by elmo-pretrain.",
        epilog=DEBUG_HELP,
    )
    parser.add_argument("model", help="folder with options.json, weights.hdf5, vocab.txt, softmax.hdf5")
    parser.add_argument("--corpus", nargs="+", default=["../shared/data/corpus"])
    parser.add_argument("--prepared-dir", default=".cache/prepared_corpus")
    parser.add_argument("--heldout-fraction", type=fraction, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-corpus-tokens", type=positive_int, default=None, help="as the training run's max_corpus_tokens")
    parser.add_argument("--encoding-errors", choices=["strict", "replace"], default="strict")
    parser.add_argument("--max-sentences", type=positive_int, default=None, help="score only the first held-out sentences")
    parser.add_argument("--batch-tokens", type=positive_int, default=4096)
    parser.add_argument(
        "--record", action="store_true",
        help="write the figures into the model's metrics.json (keys heldout_all or heldout_first_N)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, vocabulary = load_language_model(args.model)
    corpus = prepare_corpus(
        args.corpus, args.prepared_dir, args.heldout_fraction, args.seed, args.max_corpus_tokens, args.encoding_errors
    )
    heldout = LanguageModelBatches(
        corpus, vocabulary, "heldout", max_tokens=args.batch_tokens, max_sentences=args.max_sentences,
        max_characters=model.bilm.config.char_cnn.max_characters_per_token,
    )
    metrics = evaluate(model, heldout)
    if args.record:
        key = "heldout_all" if args.max_sentences is None else f"heldout_first_{args.max_sentences}"
        path = Path(args.model) / "metrics.json"
        try:
            recorded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise WeightFileError(f"{path}: not valid JSON, cannot record into it ({error})") from None
        if not isinstance(recorded, dict):
            raise WeightFileError(f"{path}: expected a JSON object, cannot record into it")
        write_json_atomic(path, recorded | {key: metrics})
    print(
        f"held-out perplexity: forward {metrics['ppl_forward']:.2f}, backward {metrics['ppl_backward']:.2f}, "
        f"mean {metrics['ppl']:.2f} over {metrics['heldout_tokens']} tokens per direction; "
        f"{100 * metrics['heldout_unk_rate']:.2f}% of held-out words outside the vocabulary"
    )


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="pretrain")
def _hydra_main(cfg: DictConfig) -> None:
    with error_boundary("elmo-pretrain"):
        run(cfg)


def _output_dir(overrides: list[str]) -> str:
    """``output_dir`` as the command line sets it, else as the config file does."""
    for override in reversed(overrides):
        key, _, value = override.lstrip("+").partition("=")
        if key == "output_dir" and value:
            return value
    return str(OmegaConf.load(CONF_DIR / "pretrain.yaml").output_dir)


def main() -> None:
    """Console entry point ``elmo-pretrain`` (``ELMO_BENCH_DEBUG=1`` shows tracebacks).

    Hydra creates its run folder inside ``output_dir`` before the run starts, and reports
    a failure there with a traceback of its own: that folder is checked first.
    """
    with error_boundary("elmo-pretrain"):
        folder = _output_dir(sys.argv[1:])
        if "${" not in folder:
            check_writable(folder)
    _hydra_main()


if __name__ == "__main__":
    main()
