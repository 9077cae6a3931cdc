"""``elmo-embed``: HDF5 output equal to ``BiLM.embed_sentences``, layer choices, reproducible
bytes, AllenNLP's ``sentence_to_index``, and one-line errors that leave no file behind."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from elmo import BiLM, BiLMConfig
from elmo.embed import main

LINES = [
    "The cat sat on the mat .",
    "",
    "Hello",
    "A much longer sentence , with many more tokens than the others .",
    "   ",
    "Zürich 😀 naïve",
    "Hello",
    "the mat",
]


@pytest.fixture(scope="module")
def fixture_model(elmo_fixtures) -> list[str]:
    """``--options-file/--weight-file`` arguments of the AllenNLP fixture biLM."""
    options, weights = elmo_fixtures / "options.json", elmo_fixtures / "lm_weights.hdf5"
    return ["--options-file", str(options), "--weight-file", str(weights)]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> list[str]:
    """A tiny random biLM in the AllenNLP layout: its ``--options-file/--weight-file`` arguments."""
    folder = tmp_path_factory.mktemp("small_bilm")
    options = {
        "lstm": {"dim": 24, "projection_dim": 8, "n_layers": 2, "cell_clip": 1.5,
                 "proj_clip": 0.5, "use_skip_connections": True},
        "char_cnn": {"embedding": {"dim": 4}, "filters": [[1, 4], [2, 6], [3, 8]],
                     "n_highway": 1, "n_characters": 262, "max_characters_per_token": 50,
                     "activation": "relu"},
    }
    options_file, weights = folder / "options.json", folder / "weights.hdf5"
    BiLM(BiLMConfig.from_dict(options)).init_weights(seed=3).save_allennlp(options_file, weights)
    return ["--options-file", str(options_file), "--weight-file", str(weights)]


def load(model_args: list[str]) -> BiLM:
    return BiLM.from_allennlp(model_args[1], model_args[3])


@pytest.fixture
def input_file(tmp_path) -> Path:
    path = tmp_path / "sentences.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def read_all(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The numbered datasets and the decoded ``sentence_to_index``."""
    with h5py.File(path, "r") as file:
        assert file["sentence_to_index"].shape == (1,)
        index = json.loads(file["sentence_to_index"].asstr()[0])
        datasets = {name: file[name][()] for name in file if name != "sentence_to_index"}
    return datasets, index


def test_datasets_equal_embed_sentences(fixture_model, input_file, tmp_path):
    output = tmp_path / "out.hdf5"
    assert main([str(input_file), str(output), *fixture_model, "--batch-size", "3"]) == 0
    datasets, _ = read_all(output)
    assert sorted(datasets, key=int) == [str(i) for i in range(len(LINES))]
    bilm = load(fixture_model)
    for i, line in enumerate(LINES):
        expected = bilm.embed_sentences([line.split()])[0].numpy()
        assert datasets[str(i)].dtype == np.float32
        assert datasets[str(i)].shape == (3, len(line.split()), 32)
        np.testing.assert_allclose(datasets[str(i)], expected, rtol=0, atol=1e-6)
    assert datasets["1"].shape == datasets["4"].shape == (3, 0, 32)  # blank lines kept


def test_sentence_to_index_as_allennlp_wrote_it(small_model, input_file, tmp_path):
    output = tmp_path / "out.hdf5"
    assert main([str(input_file), str(output), *small_model]) == 0
    _, index = read_all(output)
    # Lines stripped; a repeated sentence maps to its last line; indices are strings.
    assert index == {
        "The cat sat on the mat .": "0",
        "": "4",
        "Hello": "6",
        "A much longer sentence , with many more tokens than the others .": "3",
        "Zürich 😀 naïve": "5",
        "the mat": "7",
    }


@pytest.mark.parametrize("layers", ["average", "top", "0", "1", "2"])
def test_layer_choices(small_model, input_file, tmp_path, layers):
    everything, chosen = tmp_path / "all.hdf5", tmp_path / f"{layers}.hdf5"
    assert main([str(input_file), str(everything), *small_model]) == 0
    assert main([str(input_file), str(chosen), *small_model, "--layers", layers]) == 0
    full, _ = read_all(everything)
    reduced, _ = read_all(chosen)
    for i, line in enumerate(LINES):
        stack = full[str(i)]
        assert stack.shape == (3, len(line.split()), 16)
        expected = {"average": stack.mean(axis=0), "top": stack[-1]}.get(layers)
        if expected is None:
            expected = stack[int(layers)]
        assert reduced[str(i)].dtype == np.float32 and reduced[str(i)].shape == (len(line.split()), 16)
        np.testing.assert_allclose(reduced[str(i)], expected, rtol=0, atol=1e-6)


def test_progress_counts_every_token(capsys, monkeypatch, small_model, input_file, tmp_path):
    monkeypatch.setenv("ELMO_PROGRESS", "1")
    assert main([str(input_file), str(tmp_path / "out.hdf5"), *small_model, "--batch-size", "3"]) == 0
    err = capsys.readouterr().err
    assert "embedding" in err and "100%" in err


def test_two_runs_write_identical_bytes(small_model, input_file, tmp_path):
    first, second = tmp_path / "first.hdf5", tmp_path / "second.hdf5"
    assert main([str(input_file), str(first), *small_model, "--batch-size", "2"]) == 0
    assert main([str(input_file), str(second), *small_model, "--batch-size", "2"]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_shipped_model_when_no_files_given(tmp_path):
    path = tmp_path / "two.txt"
    path.write_text("The cat sat .\nHello world\n", encoding="utf-8")
    output = tmp_path / "out.hdf5"
    assert main([str(path), str(output), "--layers", "top"]) == 0
    datasets, _ = read_all(output)
    expected = BiLM.default().embed_sentences([["The", "cat", "sat", "."], ["Hello", "world"]])
    for i in range(2):
        np.testing.assert_allclose(datasets[str(i)], expected[i][-1].numpy(), rtol=0, atol=1e-6)


def assert_failed(capsys, status: int, *fragments: str) -> None:
    """Exit status 2 and a single ``elmo-embed:`` line naming every fragment."""
    assert status == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("elmo-embed: ")
    for fragment in fragments:
        assert fragment in last


def assert_no_output(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.suffix in (".hdf5", ".tmp")]


def test_missing_input_file(capsys, small_model, tmp_path):
    status = main([str(tmp_path / "absent.txt"), str(tmp_path / "out.hdf5"), *small_model])
    assert_failed(capsys, status, "absent.txt", "not found")
    assert_no_output(tmp_path)


def test_non_utf8_input_names_file_and_line(capsys, small_model, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("fine\n\nna\u00efve".encode() + b"\nna\xefve caf\xe9\nlast\n")
    status = main([str(path), str(tmp_path / "out.hdf5"), *small_model])
    assert_failed(capsys, status, "latin1.txt", "line 4", "UTF-8")
    assert_no_output(tmp_path)


def test_missing_output_directory(capsys, small_model, input_file, tmp_path):
    status = main([str(input_file), str(tmp_path / "nowhere" / "out.hdf5"), *small_model])
    assert_failed(capsys, status, "nowhere", "does not exist")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("layers", "fragment"), [("middle", "'middle'"), ("-1", "'-1'"), ("3", "layers 0 to 2")]
)
def test_bad_layers(capsys, small_model, input_file, tmp_path, layers, fragment):
    status = main([str(input_file), str(tmp_path / "out.hdf5"), *small_model, "--layers", layers])
    assert_failed(capsys, status, fragment)
    assert_no_output(tmp_path)


@pytest.mark.parametrize("given", [slice(0, 2), slice(2, 4)], ids=["options-only", "weights-only"])
def test_options_and_weights_go_together(capsys, small_model, input_file, tmp_path, given):
    status = main([str(input_file), str(tmp_path / "out.hdf5"), *small_model[given]])
    assert_failed(capsys, status, "--options-file", "--weight-file")
    assert_no_output(tmp_path)


def test_weight_file_error(capsys, small_model, input_file, tmp_path):
    broken = tmp_path / "broken.hdf5"
    broken.write_bytes(b"not an HDF5 file")
    model = ["--options-file", small_model[1], "--weight-file", str(broken)]
    status = main([str(input_file), str(tmp_path / "out.hdf5"), *model])
    assert_failed(capsys, status, "broken.hdf5")
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".hdf5"] == ["broken.hdf5"]


def test_options_error(capsys, small_model, input_file, tmp_path):
    options = tmp_path / "options.json"
    options.write_text('{"lstm": {"dim": 24}}', encoding="utf-8")
    model = ["--options-file", str(options), "--weight-file", small_model[3]]
    status = main([str(input_file), str(tmp_path / "out.hdf5"), *model])
    assert_failed(capsys, status, "options.json")
    assert_no_output(tmp_path)


def test_usage_errors_are_one_line(capsys, small_model, input_file, tmp_path):
    status = main([str(input_file), str(tmp_path / "out.hdf5"), *small_model, "--batch-size", "0"])
    assert_failed(capsys, status, "--batch-size", "'0'")
    assert_failed(capsys, main([]), "input_file")


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    capsys, small_model, input_file, tmp_path, monkeypatch
):
    output = tmp_path / "out.hdf5"
    output.write_bytes(b"previous run")
    create_dataset = h5py.Group.create_dataset
    calls = []

    def failing_create_dataset(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise OSError("No space left on device")
        return create_dataset(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing_create_dataset)
    status = main([str(input_file), str(output), *small_model])
    assert_failed(capsys, status, "out.hdf5", "No space left on device")
    assert output.read_bytes() == b"previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.hdf5", "sentences.txt"]


def test_layer_values_are_float32_of_the_model(small_model, tmp_path):
    """A sentence alone in its batch is written bit for bit as the model computes it."""
    path = tmp_path / "one.txt"
    path.write_text("x\n", encoding="utf-8")
    output = tmp_path / "out.hdf5"
    assert main([str(path), str(output), *small_model]) == 0
    datasets, _ = read_all(output)
    expected = load(small_model).embed_sentences([["x"]])[0]
    assert torch.equal(torch.from_numpy(datasets["0"]), expected)
