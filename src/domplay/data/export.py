"""Export rows to `datasets.Dataset`, Parquet and JSONL in TRL's conversational formats.

SFT rows: `prompt` (list of messages) + `completion` ([{"role": "assistant", ...}]).
Preference rows: `prompt` + `chosen` + `rejected`. Every other column is provenance
(task_id, template, seed, episode ids, policies, round, verifier_version, ...), which TRL
ignores. `check_trl_rows` validates rows with TRL's own `is_conversational` and the key sets
its `apply_chat_template` accepts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domplay.data.records import PreferencePair, SftExample
from domplay.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from datasets import Dataset

    from domplay.data.builders import RoundData
    from domplay.data.store import RunStore

DataKind = Literal["sft", "preference"]
Format = Literal["parquet", "jsonl"]
TRL_KEYS: dict[DataKind, frozenset[str]] = {
    "sft": frozenset({"prompt", "completion"}),
    "preference": frozenset({"prompt", "chosen", "rejected"}),
}
_TRL_SUPPORTED = frozenset({"prompt", "chosen", "rejected", "completion", "messages", "label"})
"""Keys TRL's apply_chat_template reads; provenance columns must avoid the others."""


def to_rows(items: Sequence[SftExample | PreferencePair]) -> list[dict[str, Any]]:
    return [item.as_row() for item in items]


def kind_of(items: Sequence[SftExample | PreferencePair], default: DataKind | None = None) -> DataKind:
    """ "sft" for SFT examples, "preference" for pairs; `default` for an empty list."""
    if items and all(isinstance(i, SftExample) for i in items):
        return "sft"
    if items and all(isinstance(i, PreferencePair) for i in items):
        return "preference"
    if not items and default is not None:
        return default
    raise ConfigError(
        f"cannot tell the data kind of {len(items)} items "
        f"({sorted({type(i).__name__ for i in items})}); export SFT examples and pairs "
        f"separately, and pass kind= for an empty list"
    )


def check_trl_rows(rows: Sequence[dict[str, Any]], kind: DataKind) -> None:
    """Raise StoreError unless every row is in TRL's conversational `kind` format.

    Stricter than `trl.data_utils.is_conversational` (which looks at one column's first message): every
    TRL column must be a non-empty list of exactly {role, content} messages. The tests hold exported rows
    to TRL's own helpers; the check does not import trl, which would load torch into a run that trains
    nothing."""
    for i, row in enumerate(rows):
        keys = _TRL_SUPPORTED & row.keys()
        if keys != TRL_KEYS[kind]:
            raise StoreError(
                f"row {i} has TRL keys {sorted(keys)}, a {kind} row needs exactly {sorted(TRL_KEYS[kind])}"
            )
        for key in TRL_KEYS[kind]:
            messages = row[key]
            if not messages or not all(
                isinstance(m, dict) and set(m) == {"role", "content"} and isinstance(m["content"], str)
                for m in messages
            ):
                raise StoreError(
                    f"row {i} column {key!r} must be a non-empty list of {{role, content}} "
                    f"messages, got {messages!r:.160}"
                )
            if key != "prompt" and (messages[0]["role"] != "assistant" or messages[-1]["role"] != "assistant"):
                raise StoreError(f"row {i} column {key!r} must start and end with an assistant message")
        if row["prompt"][-1]["role"] != "user":
            raise StoreError(
                f"row {i}: the prompt must end with a user message (the state), got role {row['prompt'][-1]['role']!r}"
            )


def to_dataset(rows: Sequence[dict[str, Any]], kind: DataKind) -> Dataset:
    """A `datasets.Dataset` of checked rows (an empty one keeps the TRL columns)."""
    import datasets

    check_trl_rows(rows, kind)
    if not rows:
        return datasets.Dataset.from_dict({k: [] for k in sorted(TRL_KEYS[kind])})
    return datasets.Dataset.from_list(list(rows))


def write_jsonl(rows: Sequence[dict[str, Any]], path: str | Path, kind: DataKind) -> Path:
    check_trl_rows(rows, kind)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)  # atomic: a killed export never leaves a half file under the final name
    return path


def write_parquet(rows: Sequence[dict[str, Any]], path: str | Path, kind: DataKind) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    to_dataset(rows, kind).to_parquet(str(tmp))
    tmp.replace(path)
    return path


def load_rows(path: str | Path, cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Rows of a `.parquet` or `.jsonl` file, read through `datasets` (as TRL's users read them)."""
    import datasets

    path = Path(path)
    kwargs = {"cache_dir": str(cache_dir)} if cache_dir is not None else {}
    if path.suffix == ".parquet":
        ds = datasets.Dataset.from_parquet(str(path), **kwargs)
    elif path.suffix == ".jsonl":
        ds = datasets.Dataset.from_json(str(path), **kwargs)
    else:
        raise ConfigError(f"cannot load {str(path)!r}: use a .parquet or .jsonl file")
    return ds.to_list()


@dataclass(frozen=True)
class ExportResult:
    kind: DataKind
    rows: int
    paths: dict[str, str]
    """Format -> file path."""


def export(
    items: Sequence[SftExample | PreferencePair],
    out_dir: str | Path,
    name: str,
    formats: Sequence[Format] = ("parquet", "jsonl"),
    kind: DataKind | None = None,
) -> ExportResult:
    """Write `items` as `<out_dir>/<name>.<format>` for each format; record the result in the store yourself."""
    unknown = [f for f in formats if f not in ("parquet", "jsonl")]
    if unknown:
        raise ConfigError(f"unknown export formats {unknown}; use 'parquet' and/or 'jsonl'")
    kind = kind_of(items, kind)
    rows = to_rows(items)
    out = Path(out_dir)
    paths: dict[str, str] = {}
    if "parquet" in formats:
        paths["parquet"] = str(write_parquet(rows, out / f"{name}.parquet", kind))
    if "jsonl" in formats:
        paths["jsonl"] = str(write_jsonl(rows, out / f"{name}.jsonl", kind))
    return ExportResult(kind=kind, rows=len(rows), paths=paths)


def save_round(
    data: RoundData,
    out_dir: str | Path,
    store: RunStore | None = None,
    formats: Sequence[Format] = ("parquet", "jsonl"),
) -> dict[str, ExportResult]:
    """Export a round's SFT set and each pair kind (`sft`, `pairs_<kind>`) and record them in `store`.

    Each dataset record carries the build config and the round's yield table row.
    """
    from domplay.data.store import DatasetRecord

    round_ = data.yield_table.round
    jobs: list[tuple[str, str, Sequence[SftExample | PreferencePair], DataKind]] = [("sft", "sft", data.sft, "sft")]
    jobs += [(f"pairs_{kind}", kind, pairs, "preference") for kind, pairs in data.pairs.items()]
    results: dict[str, ExportResult] = {}
    for name, kind_label, items, kind in jobs:
        result = export(items, out_dir, name, formats, kind=kind)
        results[name] = result
        if store is not None:
            store.record_dataset(
                DatasetRecord(
                    round=round_,
                    name=name,
                    kind=kind_label,
                    path=next(iter(result.paths.values()), None),
                    rows=result.rows,
                    config=data.config.model_dump(mode="json"),
                    yield_numbers=data.yield_table.as_row(),
                )
            )
    return results
