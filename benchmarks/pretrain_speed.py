"""Training throughput of biLM pretraining: tokens/s, FLOPs per token, share of the machine.

Runs full training steps (both language models forward, backward, gradient clipping, Adam)
of the model in ``conf/pretrain.yaml`` on batches drawn from the real corpus when it is
there (else a synthetic sample) and prints tokens/s (targets per direction), the model's
training FLOPs per token (3x the forward multiply-adds of the biLM and the adaptive
softmax) and the fraction of a measured fp32 matrix multiply that this reaches.

    python -m benchmarks.pretrain_speed --steps 30
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from benchmarks.bilm_speed import flops_per_token, matmul_gflops
from elmo.lm import BiLanguageModel
from elmo.lm_data import LanguageModelBatches, build_vocabulary, prepare_corpus
from elmo.pretrain import CONF_DIR

REUTERS = Path(__file__).resolve().parents[1].parent / "shared/data/corpus/reuters"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    cfg = OmegaConf.load(CONF_DIR / "pretrain.yaml")
    options = OmegaConf.to_container(cfg.model, resolve=True)
    with tempfile.TemporaryDirectory() as tmp:
        if REUTERS.is_dir():
            corpus = prepare_corpus(REUTERS, tmp, max_tokens=400_000)
            source = "Reuters sentences"
        else:
            text = Path(tmp) / "text.txt"
            words = [f"w{i}" for i in range(3000)]
            g = torch.Generator().manual_seed(0)
            lines = [" ".join(words[int(i)] for i in torch.randint(3000, (int(n),), generator=g)) + " ."
                     for n in torch.randint(5, 40, (20_000,), generator=g)]
            text.write_text("\n\n".join(lines))
            corpus = prepare_corpus(text, Path(tmp) / "prepared")
            source = "synthetic sentences"
    vocabulary = build_vocabulary(corpus, cfg.vocab_size)
    batches = LanguageModelBatches(corpus, vocabulary, "train", max_tokens=cfg.batch_tokens, max_length=cfg.max_length)
    model = BiLanguageModel(options, len(vocabulary), list(cfg.cutoffs), cfg.learning_rate, 1)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    stream = batches.iterate()

    tokens = 0
    seconds = 0.0
    forward_flops = []
    for step in range(args.warmup + args.steps):
        _, batch = next(stream)
        start = time.perf_counter()
        forward, backward, count = model.negative_log_likelihoods(batch)
        loss = (forward + backward) / (2 * count)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.trainer.gradient_clip_val)
        optimizer.step()
        if step >= args.warmup:
            seconds += time.perf_counter() - start
            tokens += count
            targets = batch["targets"][batch["targets"] >= 0]
            forward_flops.append(flops_per_token(options) + 2 * softmax_flops(model, targets))
    peak = matmul_gflops()
    train_flops = 3 * sum(forward_flops) / len(forward_flops)
    rate = tokens / seconds
    params = sum(p.numel() for p in model.bilm.parameters())
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"fp32 matmul {peak:.1f} GFLOP/s (2048x2048)")
    print(f"model: conf/pretrain.yaml, biLM {params / 1e6:.2f}M parameters, vocabulary {len(vocabulary)}, "
          f"batches of {cfg.batch_tokens} tokens ({source})")
    print(f"training FLOPs per token: {train_flops / 1e6:.1f} MFLOP (3x forward: biLM + both directions' softmax)")
    print(f"throughput: {rate:.0f} tokens/s over {args.steps} steps, {rate * train_flops / 1e9:.1f} GFLOP/s, "
          f"{100 * rate * train_flops / 1e9 / peak:.1f}% of the measured matmul throughput")


if __name__ == "__main__":
    main()
