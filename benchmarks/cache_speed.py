"""Cold vs warm activation cache: the same run twice, side by side in one process.

    python -m benchmarks.cache_speed                        # POS on UD-EWT, shipped ELMo
    python -m benchmarks.cache_speed task=sentiment         # any elmo-bench override

The first run embeds every split with the frozen biLM and writes the cache; the second
(its row removed, so it really runs) finds every split in the cache and never loads the
biLM. Both train the same head for the same epochs, so the difference is the embedding.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from tasks.run import ROOT, run

DEFAULTS = ["task=pos", "embedder=elmo", "training.max_epochs=1", "trainer.enable_progress_bar=false"]


def main(overrides: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="cache_speed."))
    try:
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            cfg = compose(
                "config",
                overrides=[*DEFAULTS, *overrides, f"results_dir={work / 'runs'}", f"cache.dir={work / 'cache'}", "skip_existing=false"],
                return_hydra_config=True,
            )
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
        timings = []
        for label in ("cold (embeds, writes the cache)", "warm (reads the cache)"):
            started = time.perf_counter()
            row = run(cfg)
            timings.append(time.perf_counter() - started)
            print(f"{label:34s} {timings[-1]:8.1f} s   test {row['metric']} {row['metrics']['test/' + row['metric']]:.2f}")
        size = sum(f.stat().st_size for f in (work / "cache").rglob("*") if f.is_file())
        print(
            f"warm / cold: {timings[0] / timings[1]:.1f}x faster; cache {size / 2**20:.0f} MiB ({cfg.cache.dtype}); "
            f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads; "
            f"overrides: {' '.join([*DEFAULTS, *overrides])}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
