"""`domplay tasks list|show|validate` through click's runner, on real files."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from domplay.tasks.cli import tasks
from domplay.tasks.model import Task
from tests.tasks.test_files import TASK


def files(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        yaml.safe_dump({"tasks": [TASK, {**TASK, "id": "two", "intent": "Find\nthe price", "difficulty": "hard"}]})
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**TASK, "colour": "red"}) + "\n")
    return good, bad


def test_list(tmp_path):
    good, _ = files(tmp_path)
    out = CliRunner().invoke(tasks, ["list", str(good)])
    assert out.exit_code == 0
    assert out.output.splitlines() == [
        "shop-cart-1\tshop\tmedium\tAdd two blue shirts to the cart",
        "two\tshop\thard\tFind the price",
    ]


def test_show_prints_the_task_as_yaml(tmp_path):
    good, _ = files(tmp_path)
    out = CliRunner().invoke(tasks, ["show", str(good), "two"])
    assert out.exit_code == 0
    assert Task.model_validate(yaml.safe_load(out.output)).id == "two"
    missing = CliRunner().invoke(tasks, ["show", str(good), "nope"])
    assert missing.exit_code == 1 and "no task with id 'nope'" in missing.output


def test_validate(tmp_path):
    good, bad = files(tmp_path)
    ok = CliRunner().invoke(tasks, ["validate", str(good), str(good)])
    assert ok.exit_code == 0 and ok.output.strip() == "ok: 4 tasks in 2 files"
    fail = CliRunner().invoke(tasks, ["validate", str(good), str(bad)])
    assert fail.exit_code == 4  # TaskFileError.exit_code
    assert f"{bad}: line 1: task #0 (id 'shop-cart-1'): colour: Extra inputs are not permitted" in fail.output
    assert "1 of 2 task files are invalid" in fail.output


def test_list_reports_a_bad_file(tmp_path):
    _, bad = files(tmp_path)
    out = CliRunner().invoke(tasks, ["list", str(bad)])
    assert out.exit_code == 4 and out.output.startswith("Error: ") and "colour" in out.output
