"""Reading and writing biLM weights in the bilm-tf / AllenNLP HDF5 layout.

Datasets of a file (``d`` = direction 0 forward / 1 backward, ``l`` = layer)::

    char_embed                                   (261, char_dim)      raw character ids
    CNN/W_cnn_{i}, CNN/b_cnn_{i}                 (1, width, char_dim, count), (count,)
    CNN_high_{k}/W_carry, b_carry, W_transform, b_transform    (F, F), (F,)
    CNN_proj/W_proj, b_proj                      (F, projection_dim), (projection_dim,)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0    (input + projection_dim, 4 * dim)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B      (4 * dim,)   gates i, j, f, o
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0  (dim, projection_dim)

Only HDF5 datasets are read: no pickle, so a weight file cannot run code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np
import torch

from elmo.io import atomic_path

if TYPE_CHECKING:
    from elmo.bilm import BiLM


class WeightFileError(ValueError):
    """A weight file that cannot be read or does not fit the options."""


def _cell(direction: int, layer: int) -> str:
    return f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"


def _file_to_model_gates(matrix: np.ndarray) -> np.ndarray:
    """Reorder the last axis from the file's ``i, j, f, o`` to the model's ``i, f, o, j``."""
    i, j, f, o = np.split(matrix, 4, axis=-1)
    return np.concatenate([i, f, o, j], axis=-1)


def _model_to_file_gates(matrix: np.ndarray) -> np.ndarray:
    i, f, o, j = np.split(matrix, 4, axis=-1)
    return np.concatenate([i, j, f, o], axis=-1)


def _tensors(bilm: BiLM) -> Iterator[tuple[str, torch.Tensor, tuple[int, ...]]]:
    """Every model tensor with its dataset name and file shape (gate order aside)."""
    cnn, lstm = bilm.char_cnn, bilm.lstm
    char_dim = cnn.config.embedding.dim
    yield "char_embed", cnn.char_embedding, (cnn.config.n_characters - 1, char_dim)
    for i, conv in enumerate(cnn.convolutions):
        count, _, width = conv.weight.shape
        yield f"CNN/W_cnn_{i}", conv.weight, (1, width, char_dim, count)
        yield f"CNN/b_cnn_{i}", conv.bias, (count,)
    highway = {
        "W_carry": cnn.highway_carry,
        "b_carry": cnn.highway_carry_bias,
        "W_transform": cnn.highway_transform,
        "b_transform": cnn.highway_transform_bias,
    }
    for k in range(cnn.config.n_highway):
        for name, tensors in highway.items():
            yield f"CNN_high_{k}/{name}", tensors[k], tuple(tensors[k].shape)
    yield "CNN_proj/W_proj", cnn.projection, tuple(cnn.projection.shape)
    yield "CNN_proj/b_proj", cnn.projection_bias, tuple(cnn.projection_bias.shape)
    for layer in range(lstm.config.n_layers):
        w_x, w_h = lstm.input_weights[layer], lstm.recurrent_weights[layer]
        rows = w_x.shape[1] + w_h.shape[1]
        for d in range(2):
            yield f"{_cell(d, layer)}/W_0", torch.cat([w_x[d], w_h[d]]), (rows, w_x.shape[2])
            yield f"{_cell(d, layer)}/B", lstm.biases[layer][d], (w_x.shape[2],)
            proj = lstm.projections[layer][d]
            yield f"{_cell(d, layer)}/W_P_0", proj, tuple(proj.shape)


def _read(file: h5py.File, name: str, shape: tuple[int, ...], path: Path) -> np.ndarray:
    if name not in file:
        raise WeightFileError(f"{path}: missing dataset '{name}' (expected shape {shape})")
    dataset = file[name]
    if not isinstance(dataset, h5py.Dataset):
        raise WeightFileError(f"{path}: '{name}' is a group, expected a dataset of shape {shape}")
    if dataset.shape != shape:
        raise WeightFileError(
            f"{path}: dataset '{name}' has shape {dataset.shape}, expected {shape} "
            "(do the weights match options.json?)"
        )
    try:
        return np.asarray(dataset[...], dtype=np.float32)
    except (OSError, TypeError, ValueError) as error:
        raise WeightFileError(f"{path}: dataset '{name}' cannot be read ({error})") from None


def load_weights(bilm: BiLM, weight_file: str | os.PathLike[str]) -> None:
    """Copy the weights of an AllenNLP / bilm-tf HDF5 file into ``bilm``.

    Raises:
        WeightFileError: naming the file and the missing or mis-shaped dataset.
    """
    path = Path(weight_file)
    if not path.is_file():
        raise WeightFileError(f"{path}: weight file not found")
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise WeightFileError(f"{path}: not a readable HDF5 file, truncated? ({error})") from None
    with file, torch.no_grad():
        lstm = bilm.lstm
        for name, tensor, shape in _tensors(bilm):
            if name.endswith("/W_0"):
                continue  # split into input and recurrent halves below
            value = _read(file, name, shape, path)
            if name == "char_embed":  # row 0 is the padded-token id, zero by definition
                tensor[0].zero_()
                tensor[1:].copy_(torch.from_numpy(value))
            elif name.startswith("CNN/W_cnn_"):  # (1, width, dim, count) -> (count, dim, width)
                tensor.copy_(torch.from_numpy(value[0].transpose(2, 1, 0)))
            elif name.endswith("/B"):
                tensor.copy_(torch.from_numpy(_file_to_model_gates(value)))
            else:
                tensor.copy_(torch.from_numpy(value))
        for layer in range(lstm.config.n_layers):
            w_x, w_h = lstm.input_weights[layer], lstm.recurrent_weights[layer]
            rows = w_x.shape[1]
            for d in range(2):
                shape = (rows + w_h.shape[1], w_x.shape[2])
                value = _file_to_model_gates(_read(file, f"{_cell(d, layer)}/W_0", shape, path))
                w_x[d].copy_(torch.from_numpy(value[:rows]))
                w_h[d].copy_(torch.from_numpy(value[rows:]))


def save_weights(bilm: BiLM, weight_file: str | os.PathLike[str]) -> None:
    """Write ``bilm``'s weights as an AllenNLP / bilm-tf HDF5 file, atomically."""
    with atomic_path(weight_file) as temp, h5py.File(temp, "w") as file:
        for name, tensor, _ in _tensors(bilm):
            value = tensor.detach().to(torch.float32).cpu().numpy()
            if name == "char_embed":
                value = value[1:]
            elif name.startswith("CNN/W_cnn_"):
                value = value.transpose(2, 1, 0)[None]
            elif name.endswith("/B") or name.endswith("/W_0"):
                value = _model_to_file_gates(value)
            file.create_dataset(name, data=value)
