"""Reading and writing biLM weights in the bilm-tf / AllenNLP HDF5 layout.

Datasets of a file (``d`` = direction 0 forward / 1 backward, ``l`` = layer)::

    char_embed                                   (261, char_dim)      raw character ids
    CNN/W_cnn_{i}, CNN/b_cnn_{i}                 (1, width, char_dim, count), (count,)
    CNN_high_{k}/W_carry, b_carry, W_transform, b_transform    (F, F), (F,)
    CNN_proj/W_proj, b_proj                      (F, projection_dim), (projection_dim,)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0    (input + projection_dim, 4 * dim)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B      (4 * dim,)   gates i, j, f, o
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0  (dim, projection_dim)

Only numeric HDF5 datasets are read: no pickle and no object dtype, so a weight file cannot
run code; a value that is not finite (NaN, infinity) is refused with the dataset's name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import h5py
import numpy as np
import torch

from elmo.char_cnn import CharCnnEncoder
from elmo.errors import UserError, one_line
from elmo.io import hdf5_writer
from elmo.lstm import BiLstmStack


class BiLMParts(Protocol):
    """What a weight file fills: the biLM's character CNN and LSTM stack.

    A protocol rather than ``elmo.bilm.BiLM`` itself, which imports this module to load
    and save its weights.
    """

    char_cnn: CharCnnEncoder
    lstm: BiLstmStack


class WeightFileError(UserError, ValueError):
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


def _tensors(bilm: BiLMParts) -> Iterator[tuple[str, torch.Tensor, tuple[int, ...]]]:
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
    return read_numbers(dataset, path)


def read_numbers(dataset: h5py.Dataset, path: Path) -> np.ndarray:
    """A numeric dataset as float32, refusing other dtypes and values that are not finite.

    Raises:
        WeightFileError: naming ``path`` and the dataset.
    """
    name = dataset.name.lstrip("/")
    if dataset.dtype.kind not in "fiu":
        raise WeightFileError(f"{path}: dataset '{name}' has dtype {dataset.dtype}, expected numbers")
    try:
        value = np.asarray(dataset[...], dtype=np.float32)
    except (OSError, TypeError, ValueError) as error:
        raise WeightFileError(f"{path}: dataset '{name}' cannot be read ({one_line(str(error))})") from None
    bad = value.size - int(np.isfinite(value).sum())
    if bad:
        raise WeightFileError(f"{path}: dataset '{name}' holds {bad} values that are not finite (NaN or infinity)")
    return value


def load_weights(bilm: BiLMParts, weight_file: str | os.PathLike[str]) -> None:
    """Copy the weights of an AllenNLP / bilm-tf HDF5 file into ``bilm``.

    Raises:
        WeightFileError: naming the file and the missing or mis-shaped dataset.
    """
    path = Path(weight_file)
    with open_hdf5(path, "weight file") as file, torch.no_grad():
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


def open_hdf5(path: Path, what: str) -> h5py.File:
    """Open an HDF5 file handed over by the user, for reading.

    Raises:
        WeightFileError: the file is missing, a folder, unreadable or not HDF5.
    """
    if path.is_dir():
        raise WeightFileError(f"{path}: is a folder, expected the {what}")
    if not path.is_file():
        raise WeightFileError(f"{path}: {what} not found")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise WeightFileError(f"{path}: not a readable HDF5 file, truncated? ({one_line(str(error))})") from None


def save_weights(bilm: BiLMParts, weight_file: str | os.PathLike[str]) -> None:
    """Write ``bilm``'s weights as an AllenNLP / bilm-tf HDF5 file, atomically."""
    with hdf5_writer(weight_file) as file:
        for name, tensor, _ in _tensors(bilm):
            value = tensor.detach().to(torch.float32).cpu().numpy()
            if name == "char_embed":
                value = value[1:]
            elif name.startswith("CNN/W_cnn_"):
                value = value.transpose(2, 1, 0)[None]
            elif name.endswith("/B") or name.endswith("/W_0"):
                value = _model_to_file_gates(value)
            file.create_dataset(name, data=value)
