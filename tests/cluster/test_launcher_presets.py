"""The SLURM launcher presets as Hydra composes them, and ``threads`` following the job's CPUs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[2]
SLURM_LAUNCHER = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"


def _compose(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def test_cpu_preset_asks_for_no_gpu_and_fits_a_small_node():
    cfg = _compose("hydra/launcher=slurm_cpu")
    launcher = cfg.hydra.launcher
    assert launcher._target_ == SLURM_LAUNCHER
    assert launcher.gpus_per_node is None and launcher.gres is None
    assert launcher.cpus_per_task <= 2 and launcher.mem_gb <= 8
    assert launcher.tasks_per_node == cfg.trainer.devices == 1
    assert cfg.trainer.accelerator == "cpu"


@pytest.mark.parametrize("preset", ["slurm_gpu", "slurm"])
def test_gpu_preset_asks_for_one_gpu_and_one_task_per_trainer_device(preset):
    launcher = _compose(f"hydra/launcher={preset}", "trainer=gpu").hydra.launcher
    assert (launcher.gpus_per_node, launcher.tasks_per_node) == (1, 1)
    launcher = _compose(f"hydra/launcher={preset}", "trainer=gpu", "trainer.devices=4").hydra.launcher
    assert (launcher.gpus_per_node, launcher.tasks_per_node) == (4, 4)


def test_threads_are_the_jobs_cpus_under_slurm_and_torchs_default_elsewhere(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    assert _compose().threads is None
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")
    assert _compose().threads == 3  # an int, as torch.set_num_threads needs
    assert _compose("threads=1").threads == 1  # the command line still wins
