"""Inference speed of the biLM against the plain reference, on identical weights and sentences.

For each configuration (the released ELMo sizes, random weights written in the AllenNLP
format) it embeds the same sentences with ``elmo.BiLM.embed_sentences`` and with
``benchmarks.reference_bilm.ReferenceBiLM`` (the textbook per-timestep loop, batched like
AllenNLP's ``_ElmoBiLm``), each in a fresh process, and prints tokens/s, the ratio, the
effective GFLOP/s (model FLOPs per token x tokens/s) against a measured fp32 matrix
multiply, peak memory and the largest difference between the two outputs.

With ``--device cuda`` the two sides are ours on the CPU (all its cores) and ours on the
GPU, the matrix multiply and memory figures are the GPU's, and the difference is between
the CPU's and the GPU's outputs (float32, TF32 off).

    python -m benchmarks.bilm_speed                      # both configurations
    python -m benchmarks.bilm_speed --config small --sentences 500
    python -m benchmarks.bilm_speed --device cuda --sentences 2000 --batch-size 128
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import torch

CONFIGS = {
    # elmo_2x1024_128_2048cnn_1xhighway
    "small": {"dim": 1024, "projection_dim": 128, "n_highway": 1},
    # elmo_2x4096_512_2048cnn_2xhighway
    "original": {"dim": 4096, "projection_dim": 512, "n_highway": 2},
}
FILTERS = [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]]
UD_DEV = Path(__file__).resolve().parents[1].parent / "shared/data/ud_english_ewt/en_ewt-ud-dev.conllu"


def options(name: str) -> dict:
    """``options.json`` of a released ELMo size."""
    c = CONFIGS[name]
    return {
        "lstm": {"dim": c["dim"], "projection_dim": c["projection_dim"], "n_layers": 2,
                 "cell_clip": 3, "proj_clip": 3, "use_skip_connections": True},
        "char_cnn": {"embedding": {"dim": 16}, "filters": FILTERS, "n_highway": c["n_highway"],
                     "n_characters": 262, "max_characters_per_token": 50, "activation": "relu"},
    }


def flops_per_token(opts: dict) -> float:
    """Multiply-adds x 2 of the full computation for one token (elementwise work left out)."""
    cnn, lstm = opts["char_cnn"], opts["lstm"]
    chars, dim = cnn["max_characters_per_token"], cnn["embedding"]["dim"]
    width = sum(n for _, n in cnn["filters"])
    total = sum(2 * dim * w * n * (chars - w + 1) for w, n in cnn["filters"])
    total += cnn["n_highway"] * 2 * (2 * width * width)
    proj, hidden = lstm["projection_dim"], lstm["dim"]
    total += 2 * width * proj
    per_direction_layer = 2 * (proj + proj) * 4 * hidden + 2 * hidden * proj
    return float(total + 2 * lstm["n_layers"] * per_direction_layer)


def write_random_model(name: str, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Random weights of a released size, saved as ``options.json`` + ``weights.hdf5``."""
    from elmo import BiLM, BiLMConfig

    bilm = BiLM(BiLMConfig.from_dict(options(name)))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in bilm.parameters():
            fan_in = p.shape[-2] if p.dim() > 1 else p.shape[-1]
            p.copy_(torch.randn(p.shape, generator=generator) / fan_in**0.5)
    paths = folder / f"{name}_options.json", folder / f"{name}_weights.hdf5"
    bilm.save_allennlp(*paths)
    return paths


def load_sentences(limit: int, conllu: Path = UD_DEV) -> list[list[str]]:
    """UD English-EWT dev sentences when the data is there, else a fixed synthetic sample."""
    if conllu.is_file():
        from tasks.data.conllu import read_conllu

        return [s.tokens for s in read_conllu(conllu, max_samples=limit)]
    generator = torch.Generator().manual_seed(0)
    words = [f"w{i}" for i in range(5000)]
    lengths = torch.randint(3, 30, (limit,), generator=generator).tolist()
    return [[words[int(torch.randint(5000, (1,), generator=generator))] for _ in range(n)] for n in lengths]


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(
    size: int = 2048, seconds: float = 2.0, dtype: torch.dtype = torch.float32, device: str = "cpu"
) -> float:
    """Matrix-multiply throughput (fp32 by default) of this machine with torch's threads, or of a GPU."""
    where = torch.device(device)
    a, b = (torch.randn(size, size, dtype=dtype, device=where) for _ in range(2))
    torch.mm(a, b)
    _synchronize(where)
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        runs += 1
        _synchronize(where)
    return 2 * size**3 * runs / (time.perf_counter() - start) / 1e9


def _measure(kind: str, paths: tuple[str, str], sentences: list[list[str]], batch_size: int, out: str):
    """Runs in a fresh process so that peak memory is its own."""
    from benchmarks.reference_bilm import ReferenceBiLM
    from elmo import BiLM

    device = torch.device("cuda" if kind == "ours-cuda" else "cpu")
    if device.type == "cuda":  # float32 as on the CPU: no TF32 in multiplies or cuDNN's convolutions
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    if kind != "reference":  # the public API: it groups sentences of similar length itself
        model = BiLM.from_allennlp(*paths).to(device)
        model.embed_sentences(sentences[: 2 * batch_size], batch_size=batch_size)  # warm-up
        _synchronize(device)
        start = time.perf_counter()
        outputs = model.embed_sentences(sentences, batch_size=batch_size)
        _synchronize(device)
    else:  # batches of consecutive sentences, as AllenNLP's users feed them
        model = ReferenceBiLM(*paths)
        model.embed_batch(sentences[:2])
        start = time.perf_counter()
        outputs = []
        for i in range(0, len(sentences), batch_size):
            outputs.extend(model.embed_batch(sentences[i : i + batch_size]))
    seconds = time.perf_counter() - start
    torch.save([o[-1].cpu() for o in outputs], out)
    if device.type == "cuda":
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out + ".json").write_text(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def _measure_long(paths: tuple[str, str], sentence: list[str], out: str):
    """One very long sentence through the public API, in a fresh process."""
    from elmo import BiLM

    model = BiLM.from_allennlp(*paths)
    start = time.perf_counter()
    [layers] = model.embed_sentences([sentence])
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finite = bool(torch.isfinite(layers).all())
    Path(out).write_text(json.dumps({"seconds": seconds, "peak_mib": peak_mib, "shape": list(layers.shape), "finite": finite}))


def _in_process(target, args) -> None:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{target.__name__} failed with exit code {process.exitcode}")


def run(kind: str, paths, sentences, batch_size, folder: Path) -> dict:
    out = str(folder / f"{kind}.pt")
    _in_process(_measure, (kind, tuple(map(str, paths)), sentences, batch_size, out))
    result = json.loads(Path(out + ".json").read_text())
    result["top"] = torch.load(out, weights_only=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=[*CONFIGS, "all"], default="all")
    parser.add_argument("--sentences", type=int, default=320, help="UD-EWT dev sentences embedded")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--long", type=int, default=10_000, help="tokens of one long sentence embedded by ours (0: skip)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda: ours on the CPU against ours on the GPU (instead of against the reference)")
    parser.add_argument("--conllu", type=Path, default=UD_DEV, help="the sentences (default: UD English-EWT dev)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no GPU here")

    sentences = load_sentences(args.sentences, args.conllu)
    tokens = sum(len(s) for s in sentences)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # the fp32 peak, as the biLM runs (see _measure)
        peak = matmul_gflops(8192, device="cuda")
        print(f"machine: {torch.cuda.get_device_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
              f"{torch.get_num_threads()} CPU threads, GPU fp32 matmul {peak:.1f} GFLOP/s (8192x8192)")
        kinds, baseline = ("ours-cpu", "ours-cuda"), "ours-cpu"
    else:
        peak = matmul_gflops()
        print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"fp32 matmul {peak:.1f} GFLOP/s (2048x2048)")
        kinds, baseline = ("reference", "ours"), "reference"
    candidate = kinds[1]
    print(f"input: {len(sentences)} sentences, {tokens} tokens, batches of {args.batch_size}")
    names = list(CONFIGS) if args.config == "all" else [args.config]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in names:
            paths = write_random_model(name, folder)
            gflop = flops_per_token(options(name)) / 1e9
            results = {kind: run(kind, paths, sentences, args.batch_size, folder) for kind in kinds}
            diff = max(float((a - b).abs().max()) for a, b in zip(results[candidate]["top"], results[baseline]["top"], strict=True))
            print(f"\n{name}: {gflop:.3f} GFLOP/token")
            for kind, r in results.items():
                rate = tokens / r["seconds"]
                on_gpu = kind == "ours-cuda"
                share = "" if kind == "ours-cpu" else f" ({100 * rate * gflop / peak:4.1f}% of matmul)"
                print(f"  {kind:>9}: {rate:8.0f} tokens/s  {rate * gflop:6.1f} GFLOP/s{share}  "
                      f"peak {'GPU ' if on_gpu else ''}memory {r['peak_mib']:.0f} MiB")
            speedup = results[baseline]["seconds"] / results[candidate]["seconds"]
            print(f"  speed-up: {speedup:.2f}x   max |{candidate} - {baseline}| (top layer): {diff:.2e}")
            if args.long:
                words = [w for s in sentences for w in s]
                long_sentence = [words[i % len(words)] for i in range(args.long)]
                out = folder / "long.json"
                _in_process(_measure_long, (tuple(map(str, paths)), long_sentence, str(out)))
                r = json.loads(out.read_text())
                print(f"  one {args.long}-token sentence: {r['seconds']:.1f} s, output {r['shape']}, "
                      f"all finite: {r['finite']}, peak memory {r['peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
