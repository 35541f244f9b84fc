"""README's promises: its task file example is valid and its reference solution passes."""

from __future__ import annotations

import re
from pathlib import Path

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.sites.app import SitesApp
from domplay.tasks.audit import replay
from domplay.tasks.files import load_tasks

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_task_example_validates_and_its_reference_passes(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.lstrip().startswith("- id:"))
    path = tmp_path / "tasks.yaml"
    path.write_text(block, encoding="utf-8")
    (task,) = load_tasks(path)
    env = DomEnv(DomEnvConfig(), sites=SitesApp(seed=0, names=["shop"]))
    assert replay(task, task.reference, env).success
    assert not replay(task, task.reference[1:], env).success  # without choosing the size it fails


def test_readme_run_config_example_validates(tmp_path: Path) -> None:
    from domplay.config import load_config

    text = README.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.lstrip().startswith("model:"))
    path = tmp_path / "run.yaml"
    path.write_text(block, encoding="utf-8")
    config = load_config(path)
    assert config.tasks.heldout_tasks == 120 and config.train.method == "sft"
