"""Reading run rows: the schema, its errors (file and key named) and schema-1 rows."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from report_rows import ROWS, make_row, scored_row, write_row, write_scored

from tasks.reports.rows import SCHEMA1_REQUIRED, ReportError, ResultRow, load_results


def schema1(row: ResultRow) -> dict:
    """``row`` as a schema-1 writer wrote it: no key that schema 2 added."""
    added = {"secondary_metrics", "stopped_by", "learning_curve", "capped", "example_scores"}
    return {key: value for key, value in row.to_dict().items() if key not in added} | {"schema": 1}


def test_load_results_reads_rows_and_ignores_json_without_schema(results):
    rows = load_results(results).rows

    assert sorted(rows, key=lambda row: row.run_key) == sorted(ROWS, key=lambda row: row.run_key)


def test_to_dict_and_from_dict_round_trip_every_field(tmp_path):
    row = ROWS[0]
    data = json.loads(json.dumps(row.to_dict()))

    assert set(data) == {f.name for f in fields(ResultRow)}
    assert data["schema"] == 2
    assert ResultRow.from_dict(data, tmp_path / "row.json") == row


def test_schema1_rows_load_with_defaults_for_the_new_fields(tmp_path):
    row = make_row("ner", "conll2003", "elmo", 0, 90.0, config={"task": {"max_samples": 500}})
    write_row(tmp_path, schema1(row))

    (loaded,) = load_results(tmp_path).rows

    assert loaded.schema == 1
    assert loaded.metrics == row.metrics
    assert loaded.secondary_metrics == []
    assert (loaded.stopped_by, loaded.learning_curve, loaded.example_scores) == (None, None, None)
    assert loaded.capped  # task.max_samples was set in its config


def test_schema1_rows_need_only_the_keys_the_report_reads(tmp_path):
    full = schema1(make_row("ner", "conll2003", "elmo", 0, 90.0))
    write_row(tmp_path, {key: full[key] for key in ("schema", *SCHEMA1_REQUIRED)})

    (loaded,) = load_results(tmp_path).rows

    assert loaded.trainable_parameters is None
    assert not loaded.capped


def test_schema2_rows_need_every_field_but_the_optional_ones(tmp_path):
    data = make_row("ner", "conll2003", "elmo", 0, 90.0).to_dict()
    for key in ("note", "learning_rates", "model_fingerprints"):  # added after schema 2 began
        del data[key]
    row = ResultRow.from_dict(data, "row.json")
    assert row.note is None and row.learning_rates is None and row.model_fingerprints is None

    del data["stopped_by"]
    with pytest.raises(ReportError, match=r"row.json: run row has no key 'stopped_by'"):
        ResultRow.from_dict(data, "row.json")


def test_schema2_rows_reject_unknown_keys(tmp_path):
    data = make_row("ner", "conll2003", "elmo", 0, 90.0).to_dict() | {"accuracy": 90.0}

    with pytest.raises(ReportError, match=r"row.json: run row has an unknown key 'accuracy'"):
        ResultRow.from_dict(data, "row.json")


def test_load_results_names_the_file_and_the_missing_key(tmp_path):
    row = make_row("ner", "conll2003", "elmo", 0, 90.0).to_dict()
    del row["metrics"]
    path = write_row(tmp_path, row)

    with pytest.raises(ReportError, match=rf"{path}.*'metrics'"):
        load_results(tmp_path)


def test_load_results_requires_the_main_test_metric(tmp_path):
    row = make_row("ner", "conll2003", "elmo", 0, 90.0).to_dict() | {"metric": "accuracy"}
    path = write_row(tmp_path, row)

    with pytest.raises(ReportError, match=rf"{path}.*test/accuracy"):
        load_results(tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("seed", "0", r"key 'seed' should be int, not str"),
        ("seed", True, r"key 'seed' should be int, not bool"),
        ("capped", 1, r"key 'capped' should be bool, not int"),
        ("metrics", {"test/f1": "90"}, r"key 'metrics\[\"test/f1\"\]' should be number, not str"),
        ("learning_curve", [1.0, None], r"key 'learning_curve\[1\]' should be number, not null"),
        (
            "scalar_mix",
            {"weights": [0.5, "x"], "gamma": 1.0},
            r"key 'scalar_mix.weights\[1\]' should",
        ),
        ("scalar_mix", {"weights": [1.0]}, r"'scalar_mix' has no key 'gamma'"),
        ("coverage", {"tokens": 10}, r"'coverage' has no key 'share'"),
        ("note", 3, r"key 'note' should be str or null, not int"),
        ("stopped_by", "patience", r"key 'stopped_by' is 'patience'; expected one of"),
        ("schema", 3, r"key 'schema' is 3; elmo-report reads schema 1 and 2"),
    ],
)
def test_from_dict_names_the_file_and_the_bad_key(key, value, message):
    data = make_row("ner", "conll2003", "elmo", 0, 90.0).to_dict() | {key: value}

    with pytest.raises(ReportError, match=rf"^row.json: {message}"):
        ResultRow.from_dict(data, "row.json")


def test_load_results_rejects_bad_json_and_repeated_seeds(tmp_path):
    bad = tmp_path / "bad" / "broken.json"
    bad.parent.mkdir()
    bad.write_text('{"schema": 1, "task": ', encoding="utf-8")
    with pytest.raises(ReportError, match=rf"{bad}: not valid JSON"):
        load_results(bad.parent)

    first = write_row(tmp_path / "twice" / "a", make_row("ner", "conll2003", "elmo", 0, 90.0))
    second = write_row(tmp_path / "twice" / "b", make_row("ner", "conll2003", "elmo", 0, 91.0))
    with pytest.raises(ReportError, match=rf"{second}: same .* as {first}"):
        load_results(tmp_path / "twice")


def test_load_results_rejects_one_embedder_made_with_two_models(tmp_path):
    model = {"embedder": "a" * 64}
    same = [write_row(tmp_path, make_row("ner", "conll2003", "elmo", seed, 90.0, model_fingerprints=model))
            for seed in (0, 1)]
    write_row(tmp_path, make_row("pos", "ud", "elmo", 0, 97.0, model_fingerprints=model))  # another task
    write_row(tmp_path, make_row("ner", "conll2003", "elmo", 3, 90.0))  # written before fingerprints
    write_row(tmp_path, make_row("ner", "conll2003", "glove", 0, 88.0, model_fingerprints={}))
    assert len(load_results(tmp_path).rows) == 5

    retrained = {"embedder": "b" * 64}
    other = write_row(tmp_path, make_row("ner", "conll2003", "elmo", 2, 90.0, model_fingerprints=retrained))
    with pytest.raises(ReportError, match=rf"^{other}: embedder 'elmo' made with another model than {same[0]} "
                                          r"\(key 'model_fingerprints': bbbbbbbbbbbb against aaaaaaaaaaaa\)"):
        load_results(tmp_path)


def test_load_results_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ReportError, match="no such folder"):
        load_results(tmp_path / "absent")


def test_load_results_reads_the_per_example_scores_a_row_names(tmp_path):
    row, scores = scored_row("elmo", 0, [2.0, 0.0, 1.0], [2.0, 2.0, 1.0])  # F1 60
    write_scored(tmp_path, row, scores)
    write_row(tmp_path, make_row("ner", "conll2003", "glove", 0, 50.0))

    results = load_results(tmp_path)

    assert len(results.rows) == 2
    (key,) = results.example_scores
    assert key == row.run_key
    num, den = results.example_scores[key].metrics["f1"]
    assert num.tolist() == [2.0, 0.0, 1.0] and den.tolist() == [2.0, 2.0, 1.0]
    assert results.example_scores[key].score("f1") == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s | {"split": "dev"}, r"key 'split' is 'dev'; expected 'test'"),
        (
            lambda s: {"split": "test", "metrics": {"em": s["metrics"]["f1"]}},
            r"no key 'metrics.f1'",
        ),
        (
            lambda s: {"split": "test", "metrics": {"f1": {"num": [1.0]}}},
            r"'metrics.f1' has no key 'den'",
        ),
        (
            lambda s: {"split": "test", "metrics": {"f1": {"num": [1.0], "den": [1.0, 2.0]}}},
            r"every list should have one value per example",
        ),
        (
            lambda s: {"split": "test", "metrics": {"f1": {"num": ["1"], "den": [1.0]}}},
            r"key 'metrics\[\"f1\"\]\[\"num\"\]\[0\]' should be number, not str",
        ),
        (
            lambda s: {
                "split": "test",
                "metrics": {"f1": {"num": [1.0, 0.0, 1.0], "den": [2.0, 2.0, 1.0]}},
            },
            r"sums to 40.0000 but its row seed0-bilstm.json reports test/f1 = 60.0",
        ),
    ],
)
def test_a_bad_per_example_scores_file_is_named(tmp_path, change, message):
    row, scores = scored_row("elmo", 0, [2.0, 0.0, 1.0], [2.0, 2.0, 1.0])
    path = write_scored(tmp_path, row, change(scores))

    with pytest.raises(ReportError, match=rf"^{path.parent / row.example_scores}: .*{message}"):
        load_results(tmp_path)


def test_a_missing_per_example_scores_file_is_named(tmp_path):
    row, _ = scored_row("elmo", 0, [1.0], [1.0])
    path = write_row(tmp_path, row)

    with pytest.raises(ReportError, match=rf"{path.parent / row.example_scores}: no such file"):
        load_results(tmp_path)
