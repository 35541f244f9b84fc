"""Training data in, TRL's conversational formats out, provenance columns dropped.

Accepted sources: a `datasets` directory (`save_to_disk`, a DatasetDict uses its "train"
split), a `.parquet` file, a `.jsonl`/`.json` file, a `datasets.Dataset`, or a list of rows.
SFT rows need `prompt` + `completion`, preference rows `prompt` + `chosen` + `rejected`; all
are lists of {"role", "content"} messages, the completions one assistant message each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domplay.errors import ConfigError

if TYPE_CHECKING:
    from datasets import Dataset

SFT_COLUMNS = ("prompt", "completion")
PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected")
DataKind = Literal["sft", "preference"]


def load_training_data(source: str | Path | Dataset | Sequence[dict[str, Any]], kind: DataKind) -> Dataset:
    """Load `source` and keep only the columns TRL trains on, after checking every row's format."""
    dataset = _load(source)
    columns = SFT_COLUMNS if kind == "sft" else PREFERENCE_COLUMNS
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        raise ConfigError(
            f"{kind} data {_name(source)} lacks columns {missing} (has {dataset.column_names}); "
            f"build it with domplay's dataset builders or give TRL's conversational format"
        )
    if len(dataset) == 0:
        raise ConfigError(f"{kind} data {_name(source)} has no rows; nothing to train on")
    dataset = dataset.select_columns(list(columns))
    for index, row in enumerate(dataset):
        _check_row(row, columns, index, source)
    return dataset


def _load(source: Any) -> Dataset:
    import datasets

    if isinstance(source, datasets.Dataset):
        return source
    if isinstance(source, datasets.DatasetDict):
        return _train_split(source, source)
    if isinstance(source, Sequence) and not isinstance(source, str):
        return datasets.Dataset.from_list(list(source))
    path = Path(source).expanduser()
    if path.is_dir():
        loaded = datasets.load_from_disk(str(path))
        return _train_split(loaded, path) if isinstance(loaded, datasets.DatasetDict) else loaded
    if not path.is_file():
        raise ConfigError(
            f"training data {str(path)!r} does not exist; give a datasets directory, a .parquet or a .jsonl file"
        )
    if path.suffix == ".parquet":
        return datasets.Dataset.from_parquet(str(path))
    if path.suffix in (".jsonl", ".json"):
        return datasets.Dataset.from_json(str(path))
    raise ConfigError(
        f"training data {str(path)!r} has an unknown suffix {path.suffix!r}; "
        f"use a datasets directory, .parquet or .jsonl"
    )


def _train_split(splits: Any, source: Any) -> Dataset:
    if "train" not in splits:
        raise ConfigError(f"dataset dict {_name(source)} has splits {list(splits)} but no 'train' split")
    return splits["train"]


def _check_row(row: dict[str, Any], columns: Sequence[str], index: int, source: Any) -> None:
    for column in columns:
        messages = row[column]
        where = f"row {index} column {column!r} of {_name(source)}"
        if not isinstance(messages, list) or not messages or not all(_is_message(m) for m in messages):
            raise ConfigError(
                f"{where} is {messages!r:.120}; it must be a non-empty list of "
                f'{{"role", "content"}} messages (TRL conversational format)'
            )
        if column != "prompt" and (len(messages) != 1 or messages[0]["role"] != "assistant"):
            raise ConfigError(f"{where} is {messages!r:.120}; it must be exactly one assistant message")


def _is_message(message: Any) -> bool:
    return (
        isinstance(message, dict) and isinstance(message.get("role"), str) and isinstance(message.get("content"), str)
    )


def _name(source: Any) -> str:
    return repr(str(source)) if isinstance(source, (str, Path)) else type(source).__name__
