"""`domplay run` end to end with the random policy: stages, store, resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from domplay.config import load_config
from domplay.errors import ConfigError
from domplay.loop import Run

TINY = {
    "model": "random",
    "tasks": {"heldout_tasks": 6, "train_tasks_per_round": 9},
    "rollout": {"samples_per_task": 1, "concurrency": 3},
    "env": {"max_steps": 6},
    "train": {"method": "none"},
    "stop": {"rounds": 2, "time_budget_min": None},
}


def write_config(tmp_path: Path, **changes) -> Path:
    data = {**TINY, **changes}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run_cli(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "domplay.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def dump(run_dir: Path) -> dict:
    """What must be identical between an interrupted and an uninterrupted run."""
    db = sqlite3.connect(run_dir / "store.sqlite")
    rows = db.execute("SELECT id, task_id, policy, round, success, steps FROM episodes ORDER BY id").fetchall()
    timing = {"model_seconds", "env_seconds"}
    episodes = [(*row[:5], [{k: v for k, v in step.items() if k not in timing} for step in json.loads(row[5])])
                for row in rows]
    tasks = db.execute("SELECT id FROM tasks ORDER BY id").fetchall()
    ids = [e[0] for e in episodes]
    assert len(ids) == len(set(ids))
    data = {p.relative_to(run_dir).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(run_dir.glob("round*/data/*.jsonl"))}
    return {"episodes": episodes, "tasks": tasks, "data": data}


def test_config_validation_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: {heldout_tasks: 1}\nmodle: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="heldout_tasks") as err:
        load_config(bad)
    assert "modle" in str(err.value)
    with pytest.raises(ConfigError, match="not a run directory"):
        Run.resume(tmp_path)


def test_run_records_every_round_and_writes_a_report(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    lines: list[str] = []
    summaries = Run(tmp_path / "run", config, echo=lines.append).execute()
    assert [s.round for s in summaries] == [0, 1, 2]
    assert any("held-out success" in line for line in lines)
    run_dir = tmp_path / "run"
    assert (run_dir / "config.yaml").is_file() and (run_dir / "report.html").is_file()
    state = dump(run_dir)
    policies = {(e[2], e[3]) for e in state["episodes"]}
    assert ("base", 0) in policies and ("reference", 1) in policies and ("base", 1) in policies
    assert "round1/data/sft.jsonl" in state["data"] and state["data"]["round1/data/sft.jsonl"].strip()
    # held-out tasks are never in a training round's tasks
    db = sqlite3.connect(run_dir / "store.sqlite")
    heldout = {r[0] for r in db.execute("SELECT id FROM tasks WHERE split = 'heldout'")}
    train = {r[0] for r in db.execute("SELECT id FROM tasks WHERE split = 'train'")}
    assert heldout and train and not heldout & train


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory) -> tuple[Path, dict]:
    """One uninterrupted run to compare the resumed ones with."""
    tmp = tmp_path_factory.mktemp("straight")
    config_path = write_config(tmp)
    proc = run_cli(["run", "--config", str(config_path), "--out", str(tmp / "run")])
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    return config_path, dump(tmp / "run")


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_episodes", [3, 14, 26])
def test_resume_after_kill_gives_the_same_run(tmp_path: Path, straight_run, kill_after_episodes: int) -> None:
    """Killed during round 0's eval, round 1's reference replays, and round 1's rollouts."""
    config_path, expected = straight_run

    broken = tmp_path / "broken"
    proc = run_cli(["run", "--config", str(config_path), "--out", str(broken)], preexec_fn=os.setsid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            n = sqlite3.connect(broken / "store.sqlite", timeout=1).execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
        except sqlite3.Error:
            n = 0
        if n >= kill_after_episodes:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    resumed = run_cli(["run", "--resume", str(broken)])
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out
    assert dump(broken) == expected


def test_bootstrapped_demos_reach_later_prompts(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, policy={"demos": 1}))
    run_dir = tmp_path / "run"
    Run(run_dir, config, echo=lambda line: None).execute()
    assert (run_dir / "round1" / "data" / "demos.json").is_file()
    db = sqlite3.connect(run_dir / "store.sqlite")
    round0, round2 = (db.execute("SELECT steps FROM episodes WHERE round = ? AND policy = ? LIMIT 1", (r, p))
                      .fetchone()[0] for r, p in ((0, "base"), (2, "round2")))
    assert len(json.loads(round0)[0]["prompt"]) == 2  # system + user: no demos before any round
    assert len(json.loads(round2)[0]["prompt"]) == 4  # system + demo (user, assistant) + user


def test_train_settings_reach_the_trainer(tmp_path: Path, monkeypatch) -> None:
    """The run config's train section (precision, rate, epochs, seed per round) is what SFT gets."""
    import domplay.train.sft as sft
    from domplay.stages import build_stage, propose_stage, rollout_stage, train_stage
    from domplay.train.runtime import TrainResult

    seen = []

    def fake_train_sft(data, model, out_dir, config):  # records the call; training itself is tested in tests/train
        seen.append((Path(data), model, config))
        return TrainResult(method="sft", model_dir=Path(out_dir), adapter_dir=None, base_model=str(model), rows=1,
                           examples_seen=1, steps=1, losses=(1.0,), final_loss=1.0, seconds=0.1,
                           seconds_per_example=0.1, git_revision="unknown")

    monkeypatch.setattr(sft, "train_sft", fake_train_sft)
    train = {"method": "sft", "finetune": "full", "precision": "bfloat16", "sft_learning_rate": 3e-5,
             "sft_epochs": 2.0, "sft_first_token_weight": 3.0}
    run = Run(tmp_path / "run", load_config(write_config(tmp_path, train=train)), echo=lambda line: None)
    run.round0()
    for stage in (propose_stage, rollout_stage, build_stage, train_stage):
        stage(run, 1)
    [(data, model, config)] = seen
    assert data.is_file() and model == "random"  # the starting model trains in round 1
    assert (config.precision, config.finetune, config.learning_rate, config.num_epochs, config.seed,
            config.first_token_weight) == ("bfloat16", "full", 3e-5, 2.0, 1, 3.0)
    checkpoints = {c.name: c for c in run.store.checkpoints(1)}
    assert checkpoints.keys() == {"sft", "final"} and checkpoints["sft"].config["precision"] == "bfloat16"


@pytest.mark.slow
def test_evals_and_rollouts_load_the_model_in_their_own_dtypes(tmp_path: Path) -> None:
    """Held-out evals run a local model in `policy.eval_dtype`, training rollouts in `policy.rollout_dtype`."""
    import torch

    from domplay.stages import propose_stage, rollout_stage

    changes = {"model": "embedded", "tasks": {"heldout_tasks": 3, "train_tasks_per_round": 1},
               "env": {"max_steps": 1}, "policy": {"eval_dtype": "bfloat16", "rollout_dtype": "float32"},
               "rollout": {"samples_per_task": 1, "concurrency": 3, "replay_reference": False}}
    run = Run(tmp_path / "run", load_config(write_config(tmp_path, **changes)), echo=lambda line: None)
    run.round0()
    [(key, model)] = run.models.items()
    assert key == ("embedded", "bfloat16") and next(model.model.parameters()).dtype == torch.bfloat16
    assert model.config.batch_size == 3  # every episode in flight goes into one batch
    assert {m.name: m.value for m in run.store.metrics(round=0, stage="eval")}["bfloat16"] == 1.0
    propose_stage(run, 1)
    rollout_stage(run, 1)
    [(key, model)] = run.models.items()  # one model in memory at a time
    assert key == ("embedded", "float32") and next(model.model.parameters()).dtype == torch.float32
    assert len(run.store.episodes(round=1, policy="base")) == 1
