"""Task files: YAML/JSON/JSONL round trips, and errors that name the file, the task and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domplay.errors import TaskFileError
from domplay.tasks.files import load_tasks, save_tasks
from domplay.tasks.model import Task

TASK = {
    "id": "shop-cart-1",
    "intent": "Add two blue shirts to the cart",
    "site": "shop",
    "start_url": "/shop/",
    "difficulty": "medium",
    "checks": [
        {"kind": "state", "path": "shop.cart", "op": "any_match", "expected": {"product_id": 17, "qty": 2}},
        {"kind": "url", "expected": "/shop/cart"},
        {"kind": "code", "code": "def check(snapshot):\n    return len(snapshot['html']) > 0\n", "required": False},
        {"kind": "structure", "css": "ul", "expected_html": "<ul>\n  <li></li>\n</ul>"},
    ],
    "reference": ["click(4)", 'fill(7, "2")', "click(9)"],
    "provenance": {"proposer": "template", "template": "add_to_cart", "seed": 0, "split": "train"},
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def two_tasks() -> list[Task]:
    return [Task.model_validate(TASK), Task.model_validate({**TASK, "id": "shop-cart-2", "reference": None})]


@pytest.mark.parametrize("name", ["tasks.yaml", "tasks.yml", "tasks.json", "tasks.jsonl"])
def test_round_trip(tmp_path, name):
    tasks = two_tasks()
    path = tmp_path / "sub" / name
    save_tasks(path, tasks)
    assert load_tasks(path) == tasks


def test_yaml_is_readable_and_keeps_kinds(tmp_path):
    path = tmp_path / "t.yaml"
    save_tasks(path, two_tasks())
    text = path.read_text()
    assert text.startswith("tasks:\n") and "code: |" in text and "kind: url" in text
    assert "weight" not in text  # defaults are left out


def test_plain_yaml_list_and_jsonl_with_blank_lines(tmp_path):
    import yaml

    assert [t.id for t in load_tasks(write(tmp_path, "a.yaml", yaml.safe_dump([TASK])))] == ["shop-cart-1"]
    assert load_tasks(write(tmp_path, "e.yaml", "")) == []
    text = json.dumps(TASK) + "\n\n" + json.dumps({**TASK, "id": "b"}) + "\n"
    assert len(load_tasks(write(tmp_path, "a.jsonl", text))) == 2


def error_of(path: Path) -> str:
    with pytest.raises(TaskFileError) as info:
        load_tasks(path)
    return str(info.value)


def test_bad_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "tasks:\n  - id: a\n    intent: [unclosed\n")
    msg = error_of(path)
    assert str(path) in msg and "invalid YAML" in msg and "line" in msg


def test_bad_json_line_names_line_number(tmp_path):
    path = write(tmp_path, "bad.jsonl", json.dumps(TASK) + "\n" + '{"id": "x", \n')
    msg = error_of(path)
    assert f"{path}: line 2: invalid JSON" in msg


def test_unknown_field_names_task_and_field(tmp_path):
    path = write(tmp_path, "t.jsonl", json.dumps(TASK) + "\n" + json.dumps({**TASK, "id": "b", "colour": 1}) + "\n")
    msg = error_of(path)
    assert f"{path}: line 2: task #1 (id 'b'): colour: Extra inputs are not permitted" in msg


def test_wrong_check_kind_names_check_path(tmp_path):
    bad = {**TASK, "checks": [TASK["checks"][0], {"kind": "magic", "css": "p"}]}
    msg = error_of(write(tmp_path, "t.json", json.dumps([bad])))
    assert "task #0 (id 'shop-cart-1'): checks.1: " in msg and "'magic'" in msg


def test_bad_field_inside_check_names_kind_and_field(tmp_path):
    bad = {**TASK, "checks": [{"kind": "url", "expected": "shop/cart"}]}
    msg = error_of(write(tmp_path, "t.json", json.dumps({"tasks": [bad]})))
    assert "checks.0.url.expected: Value error, expected URL 'shop/cart' must be a path" in msg


def test_bad_reference_action(tmp_path):
    import yaml

    bad = {**TASK, "reference": ["click(4)", "dance()"]}
    msg = error_of(write(tmp_path, "t.yaml", yaml.safe_dump({"tasks": [bad]})))
    assert "task #0 (id 'shop-cart-1'): reference: " in msg and "reference action #1 'dance()'" in msg
    assert "unknown action 'dance'" in msg


def test_duplicate_ids(tmp_path):
    import yaml

    msg = error_of(write(tmp_path, "t.yaml", yaml.safe_dump([TASK, {**TASK, "intent": "again"}])))
    assert "duplicate task id 'shop-cart-1' (tasks #0 and #1)" in msg


def test_every_problem_is_listed_and_shapes_are_checked(tmp_path):
    import yaml

    bad = [{**TASK, "id": "a", "difficulty": "x"}, "not a task", {**TASK, "id": "c", "site": "a b"}]
    msg = error_of(write(tmp_path, "t.yaml", yaml.safe_dump(bad)))
    lines = msg.splitlines()
    assert len(lines) == 3 and "(id 'a'): difficulty" in lines[0] and "task #1: a task must be a mapping" in lines[1]
    assert "(id 'c'): site" in lines[2]
    assert "single key 'tasks'" in error_of(write(tmp_path, "m.yaml", "task: []\n"))
    assert "unknown task file type '.txt'" in error_of(write(tmp_path, "t.txt", "[]"))
    assert "no such task file" in error_of(tmp_path / "missing.yaml")
