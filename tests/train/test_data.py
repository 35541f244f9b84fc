import json

import datasets
import pytest

from domplay.errors import ConfigError
from domplay.train.data import load_training_data

from .conftest import preference_rows, sft_rows


def test_jsonl_parquet_and_datasets_dirs_load_and_drop_provenance(tmp_path):
    rows = sft_rows()
    jsonl = tmp_path / "sft.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parquet = tmp_path / "sft.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(parquet))
    saved = tmp_path / "sft_ds"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}).save_to_disk(str(saved))
    for source in (jsonl, parquet, saved, str(saved), rows):
        dataset = load_training_data(source, "sft")
        assert dataset.column_names == ["prompt", "completion"]
        assert dataset[1]["completion"] == [{"role": "assistant", "content": "click(7)"}]


def test_preference_rows_keep_prompt_chosen_rejected_only():
    dataset = load_training_data(preference_rows(), "preference")
    assert dataset.column_names == ["prompt", "chosen", "rejected"]
    assert len(dataset) == 2


def test_missing_columns_are_named():
    with pytest.raises(ConfigError, match=r"lacks columns \['chosen', 'rejected'\]"):
        load_training_data(sft_rows(), "preference")


@pytest.mark.parametrize(
    "completion",
    [
        [{"role": "user", "content": "click(3)"}],
        [{"role": "assistant", "content": "click(3)"}, {"role": "assistant", "content": "stop()"}],
        "click(3)",
    ],
)
def test_completion_must_be_one_assistant_message(completion):
    rows = sft_rows()
    rows[0]["completion"] = completion
    with pytest.raises(ConfigError, match="row 0 column 'completion'"):
        load_training_data([rows[0]], "sft")


def test_missing_file_and_empty_data_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_training_data(tmp_path / "nope.jsonl", "sft")
    with pytest.raises(ConfigError, match="no rows"):
        load_training_data(datasets.Dataset.from_dict({"prompt": [], "completion": []}), "sft")
