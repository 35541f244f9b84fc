"""Files someone else wrote cannot bomb a loader: alias bombs, deep nesting, size and encoding are
refused with the caller's error naming the file and the limit, through every loader that reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from domplay.config import load_config
from domplay.errors import ConfigError, TaskFileError
from domplay.loading import LoadLimits, load_json, load_yaml
from domplay.tasks.cli import tasks as tasks_cli
from domplay.tasks.files import load_tasks
from domplay.tasks.webarena import import_webarena
from tests.tasks.test_files import TASK


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """~1.5 KB of YAML that expands to width**levels strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines)


def task_file_with(tmp_path: Path, extra_yaml: str) -> Path:
    """A valid task whose provenance.extra holds `extra_yaml` (an indented YAML mapping)."""
    body = yaml.safe_dump({"tasks": [TASK]}, sort_keys=False)
    body = body.replace("    split: train\n", "    split: train\n    extra:\n" + extra_yaml)
    path = tmp_path / "tasks.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def indent(text: str, spaces: int = 6) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


def test_an_alias_bomb_in_a_task_file_is_refused_by_load_and_validate(tmp_path: Path) -> None:
    path = task_file_with(tmp_path, indent(alias_bomb()))
    assert path.stat().st_size < 2000
    with pytest.raises(TaskFileError, match=r"tasks\.yaml: more than LoadLimits\.max_values"):
        load_tasks(path)
    result = CliRunner().invoke(tasks_cli, ["validate", str(path)])
    assert result.exit_code == TaskFileError.exit_code and "max_values" in result.output
    result = CliRunner().invoke(tasks_cli, ["show", str(path), TASK["id"]])
    assert result.exit_code == TaskFileError.exit_code and "max_values" in result.output


def test_a_few_anchors_still_load(tmp_path: Path) -> None:
    path = task_file_with(tmp_path, indent('common: &c {owner: "qa", tags: [a, b]}\nagain: *c'))
    (task,) = load_tasks(path)
    assert task.provenance.extra["again"] == {"owner": "qa", "tags": ["a", "b"]}


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".jsonl"])
def test_deep_nesting_is_refused_with_the_limit(tmp_path: Path, suffix: str) -> None:
    deep = "[" * 5000 + "]" * 5000
    path = tmp_path / f"tasks{suffix}"
    path.write_text(deep if suffix != ".jsonl" else deep + "\n", encoding="utf-8")
    with pytest.raises(TaskFileError, match=r"nested deeper than LoadLimits\.max_depth = 64"):
        load_tasks(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_bytes(yaml.safe_dump({"tasks": [TASK]}).encode("utf-8").replace(b"Add two", b"Add tw\xf6"))
    with pytest.raises(TaskFileError, match=r"not UTF-8 text \(byte 0xf6 at offset \d+\); save the file as UTF-8"):
        load_tasks(path)


def test_size_and_alias_limits_are_config_fields(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: &a [1]\nb: [*a, *a, *a]\n", encoding="utf-8")
    assert load_yaml(path, ConfigError)["b"] == [[1], [1], [1]]
    with pytest.raises(ConfigError, match=r"x\.yaml: .* more than LoadLimits\.max_bytes = 10"):
        load_yaml(path, ConfigError, LoadLimits(max_bytes=10))
    with pytest.raises(ConfigError, match=r"more than LoadLimits\.max_aliases = 2 YAML aliases"):
        load_yaml(path, ConfigError, LoadLimits(max_aliases=2))
    with pytest.raises(ConfigError, match="max_values = 5"):
        load_yaml(path, ConfigError, LoadLimits(max_values=5))


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [*a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_depth"):
        load_yaml(path, ConfigError)


def test_run_configs_refuse_bombs_nesting_and_encodings(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("tasks:\n  sites: [shop]\nx:\n" + indent(alias_bomb(), 2), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bomb\.yaml: more than LoadLimits\.max_values"):
        load_config(bomb)
    deep = tmp_path / "deep.yaml"
    deep.write_text("seed: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_depth"):
        load_config(deep)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("model: \u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(latin)


def test_webarena_configs_refuse_nesting_and_encodings(tmp_path: Path) -> None:
    deep = tmp_path / "0.json"
    deep.write_text('{"task_id": 0, "intent": "x", "eval": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(TaskFileError, match=r"0\.json: nested deeper than LoadLimits\.max_depth"):
        import_webarena([deep], {"SHOPPING": "http://127.0.0.1:7770"})
    latin = tmp_path / "1.json"
    latin.write_bytes(json.dumps({"task_id": 1, "intent": "caf\u00e9"}, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(TaskFileError, match=r"1\.json: not UTF-8"):
        import_webarena([latin], {"SHOPPING": "http://127.0.0.1:7770"})


def test_json_limits(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps(list(range(100))), encoding="utf-8")
    assert len(load_json(path, TaskFileError)) == 100
    with pytest.raises(TaskFileError, match="max_values = 50"):
        load_json(path, TaskFileError, LoadLimits(max_values=50))
