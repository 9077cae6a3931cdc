"""ELMo: the biLM, its character encoding, weight files and the scalar mix of its layers."""

from elmo.bilm import BiLM, BiLMOutput
from elmo.characters import CharacterEncoder
from elmo.config import BiLMConfig, OptionsError
from elmo.scalar_mix import ScalarMix
from elmo.weights import WeightFileError

__all__ = [
    "BiLM",
    "BiLMConfig",
    "BiLMOutput",
    "CharacterEncoder",
    "OptionsError",
    "ScalarMix",
    "WeightFileError",
]
