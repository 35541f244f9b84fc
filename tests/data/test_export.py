import pytest
from trl.data_utils import is_conversational, maybe_apply_chat_template

from domplay.data.builders import build_round
from domplay.data.config import BuildConfig
from domplay.data.export import check_trl_rows, export, load_rows, save_round, to_dataset, to_rows
from domplay.errors import ConfigError, StoreError
from tests.data.factory import by_id, make_episode, make_task, tiny_tokenizer


@pytest.fixture(scope="module")
def data():
    tasks = [make_task("t1"), make_task("t2", template=None, seed=None)]
    eps = [
        make_episode("t1", ["click(1)", 'fill(2, "blue shirt")', "click(3)"], True),
        make_episode("t1", ["click(1)", "click(9)"], False, sample=1),
        make_episode("t1", ["click(1)", "no idea"], False, sample=2),
        make_episode("t1", ["click(1)", 'fill(2, "blue shirt")', "click(3)"], True, policy="reference"),
        make_episode("t2", ["click(5)"], True),
        make_episode("t2", ["click(6)"], False, sample=1),
    ]
    return build_round(eps, by_id(*tasks), BuildConfig(), round=2)


def test_rows_are_trl_conversational_with_provenance(data):
    sft = to_rows(data.sft)
    check_trl_rows(sft, "sft")
    row = sft[0]
    assert is_conversational(row)
    assert row["completion"] == [{"role": "assistant", "content": "click(1)"}]
    assert {"task_id", "template", "seed", "episode_id", "policy", "round", "verifier_version"} <= row.keys()
    for kind in ("step", "trajectory", "reference"):
        rows = to_rows(data.pairs[kind])
        assert rows, kind
        check_trl_rows(rows, "preference")
        assert all(r["pair_kind"] == kind and r["chosen"] != r["rejected"] for r in rows)
        assert {"chosen_episode_id", "rejected_episode_id", "chosen_policy", "verifier_version"} <= rows[0].keys()


def test_trl_renders_every_row_with_a_chat_template(data):
    tok = tiny_tokenizer()
    for item in [*data.sft, *(p for pairs in data.pairs.values() for p in pairs)]:
        row = item.as_row()
        out = maybe_apply_chat_template(
            {k: row[k] for k in ("prompt", "completion", "chosen", "rejected") if k in row}, tok
        )
        assert out["prompt"].endswith("<|assistant|> ")
        answers = [out[k] for k in ("completion", "chosen", "rejected") if k in out]
        assert answers and all(a.endswith("</s> ") for a in answers)
    traj = data.pairs["trajectory"][0].as_row()
    rendered = maybe_apply_chat_template({k: traj[k] for k in ("prompt", "chosen", "rejected")}, tok)
    assert "<|user|>" in rendered["chosen"]  # multi-turn continuation


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_round_trip_through_datasets(data, tmp_path, fmt):
    for name, items in [("sft", data.sft), ("step", data.pairs["step"]), ("traj", data.pairs["trajectory"])]:
        result = export(items, tmp_path, name, formats=[fmt])
        assert result.rows == len(items)
        assert load_rows(result.paths[fmt], cache_dir=tmp_path / "cache") == to_rows(items)


def test_exported_data_loads_as_training_data(data, tmp_path):
    from domplay.train.data import load_training_data

    paths = export(data.sft, tmp_path, "sft").paths
    assert len(load_training_data(paths["parquet"], "sft")) == len(data.sft)
    paths = export(data.pairs["step"], tmp_path, "step").paths
    assert len(load_training_data(paths["jsonl"], "preference")) == len(data.pairs["step"])


def test_bad_rows_are_refused(data):
    row = to_rows(data.sft)[0]
    with pytest.raises(StoreError, match="needs exactly"):
        check_trl_rows([{**row, "label": True}], "sft")
    with pytest.raises(StoreError, match="needs exactly"):
        check_trl_rows([row], "preference")
    with pytest.raises(StoreError, match="assistant"):
        check_trl_rows([{**row, "completion": [{"role": "user", "content": "x"}]}], "sft")
    with pytest.raises(StoreError, match="user message"):
        check_trl_rows([{**row, "prompt": row["prompt"][:1]}], "sft")
    with pytest.raises(ConfigError, match="separately"):
        export([*data.sft, *data.pairs["step"]], "/nonexistent", "mixed")


def test_empty_datasets_keep_their_columns():
    assert to_dataset([], "preference").column_names == ["chosen", "prompt", "rejected"]


def test_save_round_records_every_dataset_with_its_yield(data, tmp_path):
    from domplay.data.store import RunStore

    store = RunStore(tmp_path / "run")
    results = save_round(data, tmp_path / "run" / "data", store, formats=["jsonl"])
    records = {r.name: r for r in store.datasets(round=2)}
    assert set(records) == {"sft", "pairs_step", "pairs_trajectory", "pairs_reference"} == set(results)
    assert records["sft"].rows == len(data.sft) and records["sft"].config["seed"] == 0
    assert records["pairs_step"].yield_numbers == data.yield_table.as_row()
    assert load_rows(records["pairs_step"].path, cache_dir=tmp_path / "c") == to_rows(data.pairs["step"])
