"""``elmo-embed``: ELMo vectors of a text file, written to HDF5 (the ``allennlp elmo`` command).

The input holds one whitespace-tokenized sentence per line; a blank line is kept as a
sentence of no tokens. The output has one float32 dataset per line, named by the line's
0-based index, plus ``sentence_to_index``: a one-element string dataset holding the JSON
object that maps each sentence's text (the line, stripped) to its index as a string, as
AllenNLP wrote it (a sentence that occurs twice maps to its last line). Each dataset is,
for a sentence of ``n`` tokens and a biLM of ``L`` LSTM layers (width ``dim``)::

    --layers all       (L + 1, n, dim)   the token layer, then every LSTM layer
    --layers average   (n, dim)          the mean of those L + 1 layers
    --layers top       (n, dim)          the last LSTM layer
    --layers k         (n, dim)          layer k (0 is the token layer)

The biLM runs stateless (each sentence starts from a zero LSTM state) and batches are
formed the same way on every run (sentences sorted by length, ties in file order), so the
same input, batch size and machine give a byte-identical file; HDF5 timestamps are turned
off for that. The file is written under a temporary name and renamed when complete, so an
interrupted or failed run (a full disk, ``ulimit -f``) leaves no partial output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import h5py
import torch

from elmo.bilm import DEFAULT_MODEL_DIR, BiLM
from elmo.cli import DEBUG_HELP, command_line, positive_int
from elmo.errors import UserError, one_line
from elmo.io import check_writable, hdf5_writer
from elmo.progress import progress_bar

logger = logging.getLogger(__name__)

#: What ``--layers`` accepts besides a layer index.
LAYER_CHOICES = ("all", "average", "top")


class EmbedError(UserError, ValueError):
    """An input file, output path or layer choice that ``elmo-embed`` cannot use."""


def read_sentences(path: str | os.PathLike[str]) -> list[str]:
    """The lines of a UTF-8 text file, stripped of surrounding whitespace (a BOM too).

    Raises:
        EmbedError: the file is missing or unreadable, or a line is not valid UTF-8 (the
            message names the file and the 1-based line).
    """
    path = Path(path)
    sentences = []
    try:
        with path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise EmbedError(
                        f"{path}, line {number}: not valid UTF-8 (byte {error.start + 1} of the line)"
                    ) from None
                sentences.append(text.removeprefix("\ufeff").strip() if number == 1 else text.strip())
    except FileNotFoundError:
        raise EmbedError(f"{path}: input file not found") from None
    except OSError as error:
        raise EmbedError(f"{path}: cannot read the input file ({error.strerror})") from None
    return sentences


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Fail early on an output path that cannot be written: its folder must exist and take files.

    Raises:
        EmbedError: the folder is missing or the path is a folder.
        OSError: the folder cannot be written (naming it).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise EmbedError(f"{path}: output directory {path.parent} does not exist")
    if path.is_dir():
        raise EmbedError(f"{path}: is a directory, expected an output file name")
    check_writable(path.parent)


def select_layers(layers: torch.Tensor, choice: str | int) -> torch.Tensor:
    """Reduce one sentence's ``(L + 1, n, dim)`` layers as ``--layers`` says (module docstring)."""
    if choice == "all":
        return layers
    if choice == "average":
        return layers.mean(dim=0)
    if choice == "top":
        return layers[-1]
    return layers[choice]


def write_embeddings(
    bilm: BiLM,
    sentences: Sequence[str],
    output_file: str | os.PathLike[str],
    layers: str | int = "all",
    batch_size: int = 64,
) -> None:
    """Embed whitespace-tokenized sentences and write them to an HDF5 file, atomically.

    Args:
        bilm: the model; stateless for reproducible output.
        sentences: one sentence per entry, tokens separated by whitespace ("" is allowed).
        output_file: the ``.hdf5`` file to write (replaced if it exists).
        layers: ``"all"``, ``"average"``, ``"top"`` or a layer index.
        batch_size: sentences per forward pass.

    Raises:
        EmbedError: a layer index the model does not have, a bad batch size, an output path
            that cannot be written, or a write that failed (nothing is left behind).
    """
    if isinstance(layers, int) and not 0 <= layers < bilm.num_layers:
        raise EmbedError(f"layer {layers}: the model has layers 0 to {bilm.num_layers - 1}")
    if batch_size < 1:
        raise EmbedError(f"batch size must be positive, got {batch_size}")
    check_output_path(output_file)
    tokens = [sentence.split() for sentence in sentences]
    order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))  # stable: ties in file order
    logger.info(
        "embedding %d sentences (%d tokens) into %s", len(tokens), sum(map(len, tokens)), output_file
    )
    # Counted in tokens: batches go from short sentences to long ones, so sentences/s would
    # make the ETA far too hopeful.
    progress = progress_bar(sum(map(len, tokens)), "embedding", unit="tok")
    try:
        with progress, hdf5_writer(output_file) as out:
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                vectors = bilm.embed_sentences([tokens[i] for i in batch], batch_size=len(batch))
                for i, sentence_layers in zip(batch, vectors, strict=True):
                    data = select_layers(sentence_layers, layers).cpu().numpy()
                    out.create_dataset(str(i), data=data, dtype="float32", track_times=False)
                progress.update(sum(len(tokens[i]) for i in batch))
            index = json.dumps({sentence: str(i) for i, sentence in enumerate(sentences)})
            mapping = out.create_dataset(
                "sentence_to_index", (1,), dtype=h5py.string_dtype(), track_times=False
            )
            mapping[0] = index
    except OSError as error:
        reason = error.strerror or one_line(str(error))
        raise EmbedError(f"{output_file}: cannot write the output file ({reason})") from None


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """Reports a usage error as an exception, so ``main`` prints it on one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _layers_argument(text: str) -> str | int:
    if text in LAYER_CHOICES:
        return text
    if text.isascii() and text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(
        f"expected all, average, top or a layer index (0, 1, ...), got {text!r}"
    )


def _device_argument(text: str) -> torch.device:
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"not a torch device: {text!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text!r}: CUDA is not available on this machine")
    return device


def _fail(message: str) -> int:
    print(f"elmo-embed: error: {one_line(message)}", file=sys.stderr)
    return 2


@command_line("elmo-embed")
def main(argv: list[str] | None = None) -> int:
    """Console entry point ``elmo-embed``; returns the exit status (2 for a usage or input error).

    Input, model and output errors reach the error boundary (``elmo.cli``), which prints them
    as one line.
    """
    parser = _Parser(
        prog="elmo-embed",
        description=(
            "Write the ELMo vectors of a text file (one whitespace-tokenized sentence per line) "
            "to an HDF5 file: one dataset per line, named by its 0-based index, and "
            "sentence_to_index, a JSON map from sentence to index. Same input, same bytes."
        ),
        epilog=DEBUG_HELP,
    )
    parser.add_argument("input_file", help="UTF-8 text, one tokenized sentence per line")
    parser.add_argument("output_file", help="the .hdf5 file to write (its folder must exist)")
    parser.add_argument("--options-file", help=f"biLM options.json (default: {DEFAULT_MODEL_DIR})")
    parser.add_argument("--weight-file", help="biLM weights .hdf5, given with --options-file")
    parser.add_argument(
        "--layers", type=_layers_argument, default="all",
        help="all (every layer), average (their mean), top (the last) or a layer index; default all",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, help="sentences per forward pass"
    )
    parser.add_argument(
        "--device", type=_device_argument, default=torch.device("cpu"), help="cpu (default), cuda, ..."
    )
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        return _fail(str(error))
    if (args.options_file is None) != (args.weight_file is None):
        return _fail("--options-file and --weight-file go together: give both or neither")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sentences = read_sentences(args.input_file)
    check_output_path(args.output_file)
    if args.options_file is None:
        bilm = BiLM.default()
    else:
        bilm = BiLM.from_allennlp(args.options_file, args.weight_file)
    bilm.to(args.device)
    write_embeddings(bilm, sentences, args.output_file, args.layers, args.batch_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
