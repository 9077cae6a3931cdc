"""The Hugging Face route of every task, run offline on local copies laid out as hub repositories.

Each copy has the hub dataset's schema (class-label tags, SetFit's integer labels, SQuAD's
answer dicts, UD's ``en_ewt`` config) and is loaded by ``datasets.load_dataset`` exactly as
the hub id would be; only the network fetch is left out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from run_helpers import fixture_embedder, run_config, squad_hub_columns

from tasks.data.hub import HubDatasetError, load_hub
from tasks.data.source import SPLITS
from tasks.data.squad import read_squad
from tasks.ner import bioes_to_iob2
from elmo.errors import UserError
from tasks.run import build_task, run

datasets = pytest.importorskip("datasets")

DATA = Path(__file__).parent / "data"
HUB_SPLIT = {"train": "train", "dev": "validation", "test": "test"}
CONLL2003_TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
LOCAL = {
    "pos": DATA / "ud_tiny.conllu",
    "ner": DATA / "conll_iob1.txt",
    "sentiment": DATA / "sst_tiny.txt",
}


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No request may leave the machine, and the datasets cache stays in tmp_path."""
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache")


@pytest.fixture
def script_repo(tmp_path) -> Path:
    """A dataset repository that is a loading script, as CoNLL-2003's hub copy was."""
    repo = tmp_path / "conll2003"
    repo.mkdir()
    (repo / "conll2003.py").write_text("# a dataset loading script\n", encoding="utf-8")
    return repo


def _write_repo(
    root: Path, rows: dict[str, dict[str, list]], features, config: str = "default"
) -> Path:
    """A dataset repository: one Parquet file per split and a README naming the config."""
    lines = ["---", "configs:", f"- config_name: {config}", "  data_files:"]
    for split, columns in rows.items():
        path = root / config / f"{split}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_dict(columns, features=features).to_parquet(str(path))
        lines += [f"  - split: {split}", f"    path: {config}/{split}.parquet"]
    (root / "README.md").write_text("\n".join([*lines, "---", ""]), encoding="utf-8")
    return root


def _task(name: str, tmp_path: Path, *overrides: str):
    return build_task(run_config([f"task={name}", *overrides], tmp_path))


def _hub_copy(name: str, file_splits, root: Path, labels: list[str]) -> Path:
    """What the task's hub dataset holds for the examples read from the local files."""
    rows: dict[str, dict[str, list]] = {}
    column = "upos" if name == "pos" else "ner_tags"
    for split, hub_split in HUB_SPLIT.items():
        examples = file_splits[split].examples
        if name == "sentiment":  # SetFit/sst5: text, integer label, label_text
            rows[hub_split] = {
                "text": [" ".join(e.tokens) for e in examples],
                "label": [int(e.label) for e in examples],
                "label_text": [f"class {e.label}" for e in examples],
            }
        else:  # token lists and class-label tags; CoNLL-2003's hub copy is IOB2
            tags = [bioes_to_iob2(e.tags) if name == "ner" else e.tags for e in examples]
            rows[hub_split] = {
                "tokens": [e.tokens for e in examples],
                column: [[labels.index(t) for t in s] for s in tags],
            }
    if name == "sentiment":
        features = datasets.Features(
            {
                "text": datasets.Value("string"),
                "label": datasets.Value("int64"),
                "label_text": datasets.Value("string"),
            }
        )
        return _write_repo(root / "sst5", rows, features)
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            column: datasets.Sequence(datasets.ClassLabel(names=labels)),
        }
    )
    if name == "pos":
        return _write_repo(root / "universal_dependencies", rows, features, config="en_ewt")
    return _write_repo(root / "conll2003", rows, features)


@pytest.mark.parametrize("name", sorted(LOCAL))
def test_the_hub_route_reads_what_the_file_route_reads(name, tmp_path):
    files = [f"task.files.{split}={LOCAL[name]}" for split in SPLITS]
    file_task = _task(name, tmp_path, *files)
    file_splits = file_task.load()
    # UPOS: the label set fixed in the task's config; CoNLL-2003: the hub's IOB2 class labels.
    labels = list(file_task.labels.labels) if name == "pos" else CONLL2003_TAGS
    repo = _hub_copy(name, file_splits, tmp_path / "hub", labels)

    missing = [f"task.files.{split}={tmp_path / 'missing.txt'}" for split in SPLITS]
    hub_task = _task(name, tmp_path, *missing, f"task.hub.name={repo}", "+task.hub.revision=main")
    hub_splits = hub_task.load()

    for split in SPLITS:
        assert hub_splits[split].source == f"hub {repo}[{HUB_SPLIT[split]}]"
        assert hub_splits[split].examples == file_splits[split].examples
        assert [item.target for item in hub_splits[split].items] == [
            item.target for item in file_splits[split].items
        ]
    # NER: read as IOB1 from the file and as IOB2 from the hub, trained as BIOES either way.
    if name == "ner":
        assert any(tag.startswith("S-") for e in hub_splits["train"].examples for tag in e.tags)


def test_squad_from_the_hub_splits_its_train_split_by_article(tmp_path):
    examples = read_squad(DATA / "squad_tiny.json")
    columns = squad_hub_columns(examples)
    features = datasets.Features(
        {
            **{key: datasets.Value("string") for key in ("id", "title", "context", "question")},
            "answers": datasets.Sequence(
                {"text": datasets.Value("string"), "answer_start": datasets.Value("int32")}
            ),
        }
    )
    repo = _write_repo(
        tmp_path / "hub" / "squad", {"train": columns, "validation": columns}, features
    )
    task = _task(
        "qa",
        tmp_path,
        f"task.files.squad={tmp_path / 'missing.json'}",
        f"task.hub.name={repo}",
        "task.split_fractions=[0.5,0.5,0.0]",
    )
    splits = task.load()

    assert splits["test"].examples == examples  # the hub's validation split, whole
    train, dev = splits["train"].examples, splits["dev"].examples
    assert sorted(e.question_id for e in train + dev) == sorted(e.question_id for e in examples)
    train_titles, dev_titles = {e.article_title for e in train}, {e.article_title for e in dev}
    assert train_titles and dev_titles and not train_titles & dev_titles


def test_a_loading_script_gets_an_error_saying_what_to_do(script_repo):
    with pytest.raises(
        HubDatasetError,
        match=r"loading script, which datasets .* no longer runs.*task\.hub\.revision=refs/convert/parquet.*task\.files",
    ):
        load_hub(str(script_repo), "train")


def test_a_run_on_a_loading_script_stops_with_that_error_and_writes_no_row(
    script_repo, elmo_fixtures, tmp_path
):
    missing = [f"task.files.{split}={tmp_path / 'missing.txt'}" for split in SPLITS]
    cfg = run_config(
        ["task=ner", *missing, f"task.hub.name={script_repo}", *fixture_embedder(elmo_fixtures)],
        tmp_path,
    )
    assert issubclass(HubDatasetError, UserError)  # the command line prints it as one line
    with pytest.raises(HubDatasetError, match=r"conll2003.*loading script"):
        run(cfg)
    assert not list((tmp_path / "results").rglob("*.json"))


def test_an_unreachable_hub_gets_an_error_naming_the_dataset_and_the_local_route(tmp_path):
    with pytest.raises(
        HubDatasetError, match=r"'eriktks/conll2003'.*cannot be reached.*task\.files\.<split>=PATH"
    ):
        load_hub("eriktks/conll2003", "train")


def test_an_unknown_config_is_named(tmp_path):
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "upos": datasets.Sequence(datasets.Value("string")),
        }
    )
    repo = _write_repo(
        tmp_path / "universal_dependencies",
        {"train": {"tokens": [["a"]], "upos": [["DET"]]}},
        features,
        config="en_ewt",
    )
    with pytest.raises(HubDatasetError, match=r"config 'en_gum'"):
        load_hub(str(repo), "train", config="en_gum", tags_field="upos")
