"""Training throughput of biLM pretraining: the hand-written LSTM gradient against autograd
through every step, or bfloat16 multiplies against float32, side by side on the same batches.

Runs full training steps (both language models forward, backward, gradient clipping, Adam)
of the model in ``conf/pretrain.yaml`` on batches drawn from the real corpus when it is
there (else a synthetic sample), alternating two copies of the same model: ``new``, the
package as it is (``elmo.lstm_steps``), and ``old``, the same biLM whose LSTM layers run
under autograd step by step (``AutogradBiLstmStack``, the previous implementation). Each
batch goes through both, in alternating order, so load from other work on the machine
falls on both alike. It prints tokens/s (targets per direction) of each and their ratio,
the model's training FLOPs per token (3x the forward multiply-adds of the biLM and the
adaptive softmax), the fraction of a measured fp32 matrix multiply that this reaches, and
how far the first step's losses and gradients of the two copies are apart.

    python -m benchmarks.pretrain_speed --steps 30 --threads 1

``--precision bf16-mixed`` runs the new copy as ``trainer.precision=bf16-mixed`` does
(autocast: bfloat16 multiplies, float32 state and weights); ``--old float32`` makes the old
copy the package itself in float32 instead of the autograd LSTM, so that the ratio is that
of the precision alone.

``--old-batch-tokens`` gives the old copy batches of another size, drawn from the same
sentences in the same order (its own stream), to measure a change of batch size together
with the change of gradient: ``--batch-tokens 8192 --old-batch-tokens 2048``.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from benchmarks.bilm_speed import flops_per_token, matmul_gflops
from elmo.lm import BiLanguageModel
from elmo.lm_data import LanguageModelBatches, build_vocabulary, prepare_corpus
from elmo.lstm import BiLstmStack
from elmo.lstm_steps import step_chunks
from elmo.pretrain import CONF_DIR

REUTERS = Path(__file__).resolve().parents[1].parent / "shared/data/corpus/reuters"

#: A model small enough for a test run in seconds (``--tiny``).
TINY_OPTIONS = {
    "lstm": {"dim": 32, "projection_dim": 16, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
             "use_skip_connections": True},
    "char_cnn": {"embedding": {"dim": 4}, "filters": [[1, 8], [2, 8], [3, 16]], "n_highway": 1,
                 "n_characters": 262, "max_characters_per_token": 50, "activation": "relu"},
}


class AutogradBiLstmStack(BiLstmStack):
    """The biLM's LSTM as it was before ``elmo.lstm_steps``: each step's operations
    recorded by autograd, the gradient found by it. Same weights, same function."""

    def _run_layer(
        self, layer: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, active: list[int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, time_steps, batch, _ = x.shape
        hidden = self.config.dim
        cell_clip, proj_clip = self.config.cell_clip, self.config.proj_clip
        recurrent, projection = self.recurrent_weights[layer], self.projections[layer]
        bias = (self.biases[layer] + self.forget_bias).unsqueeze(1)  # (2, 1, 4H)
        out = x.new_zeros(2, time_steps, batch, self.config.projection_dim)
        for start, stop, rows in step_chunks(active):
            chunk_x = x[:, start:stop, :rows].reshape(2, (stop - start) * rows, -1)
            gates_x = torch.baddbmm(bias, chunk_x, self.input_weights[layer]).view(2, stop - start, rows, -1)
            for t in range(start, stop):
                n = active[t]
                gates = torch.baddbmm(gates_x[:, t - start, :n], h[:, :n], recurrent)  # (2, n, 4H)
                i, f, o = gates[..., : 3 * hidden].sigmoid().chunk(3, dim=-1)
                cell = torch.addcmul(f * c[:, :n], i, gates[..., 3 * hidden :].tanh())
                if cell_clip:
                    cell = cell.clamp(-cell_clip, cell_clip)
                proj = torch.bmm(o * cell.tanh(), projection)  # (2, n, P)
                if proj_clip:
                    proj = proj.clamp(-proj_clip, proj_clip)
                out[:, t, :n] = proj
                if n == batch:
                    h, c = proj, cell
                else:  # finished rows keep their last state
                    h = torch.cat([proj, h[:, n:]], dim=1)
                    c = torch.cat([cell, c[:, n:]], dim=1)
        return out, h, c


def with_autograd_lstm(model: BiLanguageModel) -> BiLanguageModel:
    """A copy of ``model`` (same weights) whose LSTM is ``AutogradBiLstmStack``."""
    old = copy.deepcopy(model)
    lstm = old.bilm.lstm
    reference = AutogradBiLstmStack(lstm.config, lstm.input_weights[0].shape[1])
    reference.load_state_dict(lstm.state_dict())
    old.bilm.lstm = reference
    return old


def softmax_flops(model: BiLanguageModel, targets: torch.Tensor) -> float:
    """Multiply-adds x 2 of the adaptive softmax per target, averaged over ``targets``."""
    softmax = model.softmax
    dim = model.projection_dim
    flops = 2.0 * dim * softmax.head_size
    bounds = softmax.cutoffs
    for i, cluster in enumerate(softmax.tail):
        share = float(((targets >= bounds[i]) & (targets < bounds[i + 1])).float().mean())
        hidden = cluster[0].out_features
        flops += share * 2.0 * (dim * hidden + hidden * (bounds[i + 1] - bounds[i]))
    return flops


def _mean_loss(model: BiLanguageModel, batch: dict[str, torch.Tensor], low_precision: bool) -> tuple[torch.Tensor, int]:
    """The training loss of ``batch`` (mean NLL over both directions), under bfloat16 autocast
    with ``low_precision`` as Lightning's ``bf16-mixed`` runs it; and the targets per direction."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low_precision):
        forward, backward, count = model.negative_log_likelihoods(batch)
        return (forward + backward) / (2 * count), count


def training_step(
    model: BiLanguageModel, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor], clip: float,
    low_precision: bool = False,
) -> tuple[float, int]:
    """One step as ``elmo-pretrain`` takes it (see ``_mean_loss``); returns its seconds and the
    targets per direction."""
    start = time.perf_counter()
    loss, count = _mean_loss(model, batch, low_precision)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return time.perf_counter() - start, count


def gradient_difference(
    old: BiLanguageModel, new: BiLanguageModel, batch: dict[str, torch.Tensor], new_low_precision: bool = False
) -> tuple[float, float]:
    """Largest ``|old - new|`` of the loss, and of any gradient relative to that gradient's
    largest entry, on one batch (the models' gradients are overwritten)."""
    losses, grads = [], []
    for model, low in ((old, False), (new, new_low_precision)):
        model.zero_grad()
        loss, _ = _mean_loss(model, batch, low)
        loss.backward()
        losses.append(loss.item())
        grads.append([p.grad for p in model.parameters()])
    relative = max(
        float((a - b).abs().max() / a.abs().max().clamp_min(1e-30)) for a, b in zip(*grads, strict=True) if a is not None
    )
    return abs(losses[0] - losses[1]), relative


def _batches(
    cfg: Any, options: dict, tiny: bool, sizes: list[int], text: Path = REUTERS
) -> tuple[list[LanguageModelBatches], int, str]:
    """Training batches of the first 400,000 tokens of ``text`` (else synthetic sentences),
    one stream per batch size in ``sizes``; the vocabulary size; the source."""
    with tempfile.TemporaryDirectory() as tmp:
        if text.exists() and not tiny:
            corpus = prepare_corpus(text, tmp, max_tokens=400_000, encoding_errors="replace")
            source = f"the first 400,000 tokens of {text.name}"
        else:
            text = Path(tmp) / "text.txt"
            words = [f"w{i}" for i in range(3000)]
            g = torch.Generator().manual_seed(0)
            lines = [" ".join(words[int(i)] for i in torch.randint(3000, (int(n),), generator=g)) + " ."
                     for n in torch.randint(5, 40, (500 if tiny else 20_000,), generator=g)]
            text.write_text("\n\n".join(lines))
            corpus = prepare_corpus(text, Path(tmp) / "prepared")
            source = "synthetic sentences"
    vocabulary = build_vocabulary(corpus, cfg.vocab_size)
    batches = [
        LanguageModelBatches(
            corpus, vocabulary, "train", max_tokens=size, max_length=cfg.max_length,
            max_characters=options["char_cnn"]["max_characters_per_token"],
        )
        for size in sizes
    ]
    return batches, len(vocabulary), source


def main(argv: list[str] | None = None) -> None:
    """Measure and print; ``argv`` as on the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="measured steps of each copy")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured steps of each copy first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--tiny", action="store_true", help="a tiny model on synthetic sentences (a quick check)")
    parser.add_argument("--batch-tokens", type=int, default=None, help="tokens per batch (default: conf/pretrain.yaml's)")
    parser.add_argument("--old-batch-tokens", type=int, default=None, help="the old copy's tokens per batch (default: the same)")
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="text to draw batches from (default: Reuters)")
    parser.add_argument("--precision", choices=["32-true", "bf16-mixed"], default="32-true", help="the new copy's")
    parser.add_argument("--old", choices=["autograd", "float32"], default="autograd",
                        help="the old copy: the LSTM under autograd, or the package in float32")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    cfg = OmegaConf.load(CONF_DIR / "pretrain.yaml")
    sizes = {"new": args.batch_tokens or cfg.batch_tokens}
    sizes["old"] = args.old_batch_tokens or sizes["new"]
    options = TINY_OPTIONS if args.tiny else OmegaConf.to_container(cfg.model, resolve=True)
    (new_batches, old_batches), vocab_size, source = _batches(cfg, options, args.tiny, [sizes["new"], sizes["old"]], args.corpus)
    new = BiLanguageModel(options, vocab_size, list(cfg.cutoffs), cfg.learning_rate, 1)
    old = with_autograd_lstm(new) if args.old == "autograd" else copy.deepcopy(new)
    low = {"old": False, "new": args.precision == "bf16-mixed"}
    streams = {"new": new_batches.iterate(), "old": old_batches.iterate()}
    loss_gap, grad_gap = gradient_difference(old, new, new_batches.make_batch(new_batches.epoch(0)[0]), low["new"])

    models = {"old": old, "new": new}
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=cfg.learning_rate) for name, m in models.items()}
    seconds: dict[str, list[float]] = {"old": [], "new": []}
    tokens = {"old": 0, "new": 0}
    forward_flops: dict[str, list[float]] = {"old": [], "new": []}
    for step in range(args.warmup + args.steps):
        order = ["old", "new"] if step % 2 == 0 else ["new", "old"]
        for name in order:  # load from other work falls on both alike
            _, batch = next(streams[name])
            took, count = training_step(models[name], optimizers[name], batch, cfg.trainer.gradient_clip_val, low[name])
            if step >= args.warmup:
                seconds[name].append(took)
                tokens[name] += count
                targets = batch["targets"][batch["targets"] >= 0]
                forward_flops[name].append(flops_per_token(options) + 2 * softmax_flops(new, targets))

    peak = matmul_gflops(seconds=0.2 if args.tiny else 2.0)
    peak_low = matmul_gflops(seconds=0.2 if args.tiny else 2.0, dtype=torch.bfloat16) if low["new"] else None
    params = sum(p.numel() for p in new.bilm.parameters())
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"fp32 matmul {peak:.1f} GFLOP/s" + (f", bf16 {peak_low:.1f}" if peak_low else "") + " (2048x2048)")
    print(f"old: {'autograd LSTM' if args.old == 'autograd' else 'the package'}, float32; "
          f"new: the package, {'bfloat16 multiplies' if low['new'] else 'float32'}")
    print(f"model: {'tiny' if args.tiny else 'conf/pretrain.yaml'}, biLM {params / 1e6:.2f}M parameters, "
          f"vocabulary {vocab_size}, {source}")
    print(f"first step, old vs new: |loss difference| {loss_gap:.1e}, largest gradient difference "
          f"{grad_gap:.1e} of that gradient's largest entry")
    rates = {}
    for name, took in seconds.items():
        rates[name] = tokens[name] / sum(took)
        train_flops = 3 * statistics.mean(forward_flops[name])  # 3x forward: biLM + both directions' softmax
        print(f"{name}: batches of {sizes[name]} tokens, {rates[name]:.0f} tokens/s over {args.steps} steps (median "
              f"step {1e3 * statistics.median(took):.0f} ms), {train_flops / 1e6:.1f} training MFLOP per token, "
              f"{rates[name] * train_flops / 1e9:.1f} GFLOP/s, "
              f"{100 * rates[name] * train_flops / 1e9 / (peak_low if low[name] else peak):.1f}% of the measured "
              f"{'bf16' if low[name] else 'fp32'} matmul throughput")
    print(f"new/old: {rates['new'] / rates['old']:.2f}x tokens/s")


if __name__ == "__main__":
    main()
