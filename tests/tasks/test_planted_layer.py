"""The learned scalar mix finds the one informative layer of a synthetic stack.

The known answer: tags depend on the word, only layer 1 of the planted embedder says which
word it is, so within the default recipe (``conf/training/default.yaml``: its learning
rates, ``mix_l2``, batch size, patience and epoch cap) the mix must put most of its weight
on layer 1. The README quotes the weights this test prints.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from omegaconf import OmegaConf, open_dict

from planted import PlantedEmbedder
from run_helpers import run_config
from tasks.run import run

TAGS = ["A", "B", "C", "D", "E"]
PLANTED = {"num_layers": 3, "dim": 16, "signal": 1, "seed": 0}


def write_conllu(path: Path, sentences: int, rng: random.Random, tags: dict[str, str]) -> str:
    """Sentences of 6 to 14 words, each with its word's tag in the UPOS column."""
    blocks = []
    for _ in range(sentences):
        words = rng.choices(sorted(tags), k=rng.randint(6, 14))
        blocks.append("\n".join(f"{i}\t{w}\t_\t{tags[w]}\t_\t_\t_\t_\t_\t_" for i, w in enumerate(words, 1)))
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return str(path)


def test_the_default_recipe_moves_the_mix_onto_the_planted_layer(tmp_path, capsys):
    rng = random.Random(0)
    embedder = PlantedEmbedder(**PLANTED)
    # A word's tag is a linear function of its signal vector: learnable, and it generalises.
    projection = torch.randn(len(TAGS), PLANTED["dim"], generator=torch.Generator().manual_seed(1))
    tags = {f"w{i}": TAGS[int((projection @ embedder.word_vector(f"w{i}")).argmax())] for i in range(300)}
    files = {split: write_conllu(tmp_path / f"{split}.conllu", n, rng, tags) for split, n in (("train", 1500), ("dev", 200), ("test", 200))}
    cfg = run_config(["task=pos", "task.labels=null", "seed=0", *(f"task.files.{k}={v}" for k, v in files.items())], tmp_path)
    with open_dict(cfg):
        cfg.task.hub = None
        cfg.embedder = OmegaConf.create({"_target_": "planted.PlantedEmbedder", **PLANTED, "name": "planted"})
    row = run(cfg)
    weights = row["scalar_mix"]["weights"]
    with capsys.disabled():
        print(f"\nplanted layer 1: learned weights {[round(w, 3) for w in weights]}, {row['stopped_by']} after {row['epochs']} epochs")
    assert row["stopped_by"] == "early_stopping"
    assert weights[1] > 0.5 and weights[1] == max(weights)
    assert row["metrics"]["test/accuracy"] > 95.0
    # The plateau schedule: the learning rate falls after, and only after, an epoch that did
    # not beat the best validation score so far.
    rates, curve = row["learning_rates"], row["learning_curve"]
    assert len(rates) == len(curve) == row["epochs"] and rates[0] == cfg.training.lr
    for epoch in range(1, len(curve)):
        stalled = curve[epoch - 1] <= max(curve[: epoch - 1], default=float("-inf"))
        assert (rates[epoch] < rates[epoch - 1]) == (stalled and cfg.training.lr_decay is not None)
