"""Clear errors for broken weight and options files."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

from elmo import BiLM, OptionsError, WeightFileError


@pytest.fixture()
def model_files(elmo_fixtures, tmp_path):
    """Writable copies of the fixture's options and weights."""
    options = tmp_path / "options.json"
    weights = tmp_path / "weights.hdf5"
    shutil.copy(elmo_fixtures / "options.json", options)
    shutil.copy(elmo_fixtures / "lm_weights.hdf5", weights)
    options.chmod(0o644)
    weights.chmod(0o644)
    return options, weights


def test_truncated_weight_file(model_files):
    options, weights = model_files
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightFileError, match=r"weights\.hdf5.*truncated"):
        BiLM.from_allennlp(options, weights)


def test_missing_weight_file(model_files, tmp_path):
    with pytest.raises(WeightFileError, match="nothere.hdf5: weight file not found"):
        BiLM.from_allennlp(model_files[0], tmp_path / "nothere.hdf5")


def test_missing_dataset_names_it_and_its_shape(model_files):
    options, weights = model_files
    with h5py.File(weights, "a") as f:
        del f["CNN_high_1/W_carry"]
    with pytest.raises(WeightFileError, match=r"missing dataset 'CNN_high_1/W_carry' \(expected shape \(124, 124\)\)"):
        BiLM.from_allennlp(options, weights)


def test_misshaped_dataset_names_it_and_both_shapes(model_files):
    options, weights = model_files
    name = "RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_0"
    with h5py.File(weights, "a") as f:
        del f[name]
        f.create_dataset(name, data=np.zeros((32, 128), dtype=np.float32))
    with pytest.raises(WeightFileError, match=r"'RNN_1/.*/W_0' has shape \(32, 128\), expected \(32, 256\)"):
        BiLM.from_allennlp(options, weights)


def test_options_not_matching_weights(model_files):
    options, weights = model_files
    data = json.loads(options.read_text())
    data["lstm"]["projection_dim"] = 32
    options.write_text(json.dumps(data))
    with pytest.raises(WeightFileError, match=r"CNN_proj/W_proj' has shape \(124, 16\), expected \(124, 32\)"):
        BiLM.from_allennlp(options, weights)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda o: o["lstm"].pop("projection_dim"), r"missing key 'lstm\.projection_dim'"),
        (lambda o: o["char_cnn"].pop("embedding"), r"missing key 'char_cnn\.embedding\.dim'"),
        (lambda o: o["lstm"].update(n_layers="two"), r"key 'lstm\.n_layers' must be an integer >= 1, got 'two'"),
        (lambda o: o["char_cnn"].update(filters=[[1, 4], [2]]), r"key 'char_cnn\.filters' must be"),
        (lambda o: o["char_cnn"].update(activation="gelu"), r"key 'char_cnn\.activation' must be 'relu' or 'tanh'"),
        (lambda o: o["lstm"].update(cell_clip=-1), r"key 'lstm\.cell_clip' must be a positive number"),
        (lambda o: o.pop("lstm"), r"missing key 'lstm\.dim'"),
    ],
)
def test_bad_options_name_the_key(model_files, edit, message):
    options, weights = model_files
    data = json.loads(options.read_text())
    edit(data)
    options.write_text(json.dumps(data))
    with pytest.raises(OptionsError, match=r"options\.json: " + message):
        BiLM.from_allennlp(options, weights)


def test_options_not_json(model_files):
    options, weights = model_files
    options.write_text("{'lstm': ")
    with pytest.raises(OptionsError, match=r"options\.json: not a valid JSON options file"):
        BiLM.from_allennlp(options, weights)


def test_training_keys_survive_an_export(model_files, tmp_path):
    options, weights = model_files
    data = json.loads(options.read_text())
    data["n_tokens_vocab"] = 123
    options.write_text(json.dumps(data))
    bilm = BiLM.from_allennlp(options, weights)
    bilm.save_allennlp(tmp_path / "out" / "options.json", tmp_path / "out" / "weights.hdf5")
    assert json.loads((tmp_path / "out" / "options.json").read_text())["n_tokens_vocab"] == 123
    assert not list((tmp_path / "out").glob(".*tmp"))  # no temporary files left behind
