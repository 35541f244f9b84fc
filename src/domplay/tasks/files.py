"""Task files: YAML (a list of tasks, or `{tasks: [...]}`), JSON (the same), JSONL (one task a line).

`load_tasks` validates every task and raises one `TaskFileError` listing each problem with
the file, the task (index, id, and line for JSONL) and the field path, e.g.

    tasks.yaml: task #2 (id 'shop-cart-3'): checks.0.url.expected: Value error, expected URL ...
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domplay.errors import TaskFileError
from domplay.loading import load_json, load_jsonl, load_yaml
from domplay.tasks.model import Task

YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl",)
MAX_ERRORS_SHOWN = 20
"""A TaskFileError lists at most this many problems (then says how many more)."""


def load_tasks(path: str | os.PathLike) -> list[Task]:
    """All tasks of a task file; raise `TaskFileError` naming every problem."""
    path = Path(path)
    if not path.is_file():
        raise TaskFileError(f"{path}: no such task file")
    items = _read_items(path)  # [(where, data)]
    tasks: list[tuple[int, Task]] = []
    problems: list[str] = []
    for index, (where, data) in enumerate(items):
        label = _label(path, where, index, data)
        if not isinstance(data, dict):
            problems.append(f"{label}: a task must be a mapping of fields, got {type(data).__name__}")
            continue
        try:
            tasks.append((index, Task.model_validate(data)))
        except ValidationError as exc:
            problems += [f"{label}: {_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
    problems += _duplicates(path, tasks)
    if problems:
        more = len(problems) - MAX_ERRORS_SHOWN
        shown = problems[:MAX_ERRORS_SHOWN] + ([f"... and {more} more problems"] if more > 0 else [])
        raise TaskFileError("\n".join(shown))
    return [task for _, task in tasks]


def save_tasks(path: str | os.PathLike, tasks: Iterable[Task]) -> None:
    """Write `tasks` as YAML (`{tasks: [...]}`), JSON or JSONL by the file's suffix (atomically)."""
    path = Path(path)
    data = [task_to_data(t) for t in tasks]
    suffix = _suffix(path)
    if suffix in YAML_SUFFIXES:
        text = to_yaml({"tasks": data})
    elif suffix in JSON_SUFFIXES:
        text = json.dumps({"tasks": data}, ensure_ascii=False, indent=2) + "\n"
    else:
        text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in data)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def task_to_data(task: Task) -> dict[str, Any]:
    """A task as plain data without default values (each check keeps its `kind`)."""
    data = task.model_dump(mode="json", exclude_defaults=True)
    data["checks"] = [{"kind": c.kind, **c.model_dump(mode="json", exclude_defaults=True)} for c in task.checks]
    return data


def to_yaml(data: Any) -> str:
    """YAML as task files write it: field order kept, multi-line strings as `|` blocks."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in YAML_SUFFIXES + JSON_SUFFIXES + JSONL_SUFFIXES:
        raise TaskFileError(f"{path}: unknown task file type {suffix!r}; use .yaml, .yml, .json or .jsonl")
    return suffix


def _read_items(path: Path) -> list[tuple[str, Any]]:
    """The raw task entries of a file, each with where it is (a JSONL line number or ""), read within
    `loading.LoadLimits` (size, encoding, nesting, YAML aliases)."""
    suffix = _suffix(path)
    if suffix in JSONL_SUFFIXES:
        return [(f"line {lineno}", item) for lineno, item in load_jsonl(path, TaskFileError)]
    doc = load_yaml(path, TaskFileError) if suffix in YAML_SUFFIXES else load_json(path, TaskFileError)
    if doc is None:
        return []
    if isinstance(doc, dict) and set(doc) == {"tasks"} and isinstance(doc["tasks"], list):
        doc = doc["tasks"]
    if not isinstance(doc, list):
        raise TaskFileError(
            f"{path}: expected a list of tasks or a mapping with the single key 'tasks' "
            f"holding a list, got {type(doc).__name__}" + (f" with keys {sorted(doc)}" if isinstance(doc, dict) else "")
        )
    return [("", item) for item in doc]


def _label(path: Path, where: str, index: int, data: Any) -> str:
    task_id = data.get("id") if isinstance(data, dict) else None
    task = f"task #{index}" + (f" (id {task_id!r})" if task_id is not None else "")
    return ": ".join([str(path)] + ([where] if where else []) + [task])


def _loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(task)"


def _duplicates(path: Path, tasks: list[tuple[int, Task]]) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for index, task in tasks:
        if task.id in seen:
            problems.append(
                f"{path}: duplicate task id {task.id!r} (tasks #{seen[task.id]} and #{index}); "
                "task ids must be unique in a file"
            )
        seen.setdefault(task.id, index)
    return problems


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings (code checks, HTML snippets) as `|` blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
