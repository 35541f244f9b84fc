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
    "env": {"max_steps": 10},
    "train": {"method": "none"},
    "stop": {"rounds": 2, "time_budget_min": None},
}


def write_config(tmp_path: Path, **changes) -> Path:
    data = {**TINY, **changes}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run_cli(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "domplay.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw
    )


def dump(run_dir: Path) -> dict:
    """What must be identical between an interrupted and an uninterrupted run."""
    db = sqlite3.connect(run_dir / "store.sqlite")
    rows = db.execute("SELECT id, task_id, policy, round, success, steps FROM episodes ORDER BY id").fetchall()
    timing = {"model_seconds", "env_seconds"}
    episodes = [
        (*row[:5], [{k: v for k, v in step.items() if k not in timing} for step in json.loads(row[5])]) for row in rows
    ]
    tasks = db.execute("SELECT id FROM tasks ORDER BY id").fetchall()
    ids = [e[0] for e in episodes]
    assert len(ids) == len(set(ids))
    data = {
        p.relative_to(run_dir).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(run_dir.glob("round*/data/*.jsonl"))
    }
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
    assert ("base", 0) in policies and ("reference", 1) in policies and ("round1", 2) in policies
    assert ("base", 1) not in policies  # rollout.first_model_round: the starting model replays nothing
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
            n = (
                sqlite3.connect(broken / "store.sqlite", timeout=1)
                .execute("SELECT COUNT(*) FROM episodes")
                .fetchone()[0]
            )
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
    round0, round2 = (
        db.execute("SELECT steps FROM episodes WHERE round = ? AND policy = ? LIMIT 1", (r, p)).fetchone()[0]
        for r, p in ((0, "base"), (2, "round2"))
    )
    assert len(json.loads(round0)[0]["prompt"]) == 2  # system + user: no demos before any round
    assert len(json.loads(round2)[0]["prompt"]) == 4  # system + demo (user, assistant) + user


def test_train_settings_reach_the_trainer(tmp_path: Path, monkeypatch) -> None:
    """The run config's train section (precision, rate, epochs, seed per round) is what SFT gets."""
    import domplay.train.sft as sft
    from domplay.stages import build_stage, propose_stage, rollout_stage, train_stage

    seen: list = []
    monkeypatch.setattr(sft, "train_sft", fake_trainer(seen, "sft"))
    train = {
        "method": "sft",
        "finetune": "full",
        "precision": "bfloat16",
        "sft_learning_rate": 3e-5,
        "sft_epochs": 2.0,
        "sft_first_token_weight": 3.0,
    }
    run = Run(tmp_path / "run", load_config(write_config(tmp_path, train=train)), echo=lambda line: None)
    run.round(0)
    for stage in (propose_stage, rollout_stage, build_stage, train_stage):
        stage(run.ctx, 1)
    [(_, data, model, config, _)] = seen
    assert data.is_file() and model == "random"  # the starting model trains in round 1
    assert (
        config.precision,
        config.finetune,
        config.learning_rate,
        config.num_epochs,
        config.seed,
        config.first_token_weight,
    ) == ("bfloat16", "full", 3e-5, 2.0, 1, 3.0)
    checkpoints = {c.name: c for c in run.store.checkpoints(1)}
    assert checkpoints.keys() == {"sft", "final"} and checkpoints["sft"].config["precision"] == "bfloat16"


@pytest.mark.slow
def test_evals_and_rollouts_load_the_model_in_their_own_dtypes(tmp_path: Path) -> None:
    """Held-out evals run a local model in `eval.dtype`, training rollouts in `rollout.dtype`."""
    import torch

    from domplay.stages import propose_stage, rollout_stage

    changes = {
        "model": "embedded",
        "tasks": {"heldout_tasks": 3, "train_tasks_per_round": 1},
        "eval": {"dtype": "bfloat16"},
        "rollout": {
            "samples_per_task": 1,
            "first_model_round": 1,
            "concurrency": 3,
            "replay_reference": False,
            "dtype": "float32",
        },
    }
    run = Run(tmp_path / "run", load_config(write_config(tmp_path, **changes)), echo=lambda line: None)
    run.round(0)
    key, model = run.ctx.models.loaded
    assert key == ("embedded", "bfloat16") and next(model.model.parameters()).dtype == torch.bfloat16
    assert model.config.batch_size == 3  # every episode in flight goes into one batch
    assert {m.name: m.value for m in run.store.metrics(round=0, stage="eval")}["bfloat16"] == 1.0
    propose_stage(run.ctx, 1)
    rollout_stage(run.ctx, 1)
    key, model = run.ctx.models.loaded  # one model in memory at a time
    assert key == ("embedded", "float32") and next(model.model.parameters()).dtype == torch.float32
    assert len(run.store.episodes(round=1, policy="base")) == 1


def test_domplay_eval_with_a_runs_config_reproduces_its_round0_eval(tmp_path: Path) -> None:
    """`domplay eval --config RUN/config.yaml` builds the run's env, policy, rollout and held-out tasks
    from the same objects: the same episodes, hence the same report to the last failure reason."""
    from click.testing import CliRunner

    from domplay.agent.evaluate import summarize_episodes
    from domplay.cli import main
    from domplay.heldout import eval_episodes

    config = load_config(write_config(tmp_path, stop={"rounds": 0, "time_budget_min": None}))
    run = Run(tmp_path / "run", config, echo=lambda line: None)
    run.execute()
    tasks = run.store.tasks(split="heldout")
    expected = summarize_episodes(tasks, eval_episodes(run.store, 0, tasks)).as_dict()
    out, episodes_out = tmp_path / "eval.json", tmp_path / "episodes.jsonl"
    args = ["eval", "--config", str(run.dir / "config.yaml"), "--json", str(out), "--episodes", str(episodes_out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    got = json.loads(out.read_text())
    for report in (got, expected):
        report.pop("seconds")
    assert got == expected and expected["episodes"] == 6

    def what_happened(episode: dict) -> tuple:
        steps = [
            (s["url"], s["observation"], s["prompt"], s["completion"], s["action"], s["error"])
            for s in episode["steps"]
        ]
        return episode["task_id"], episode["sample"], steps, episode["verdict"]["success"], episode["status"]

    stored = [e.model_dump(mode="json") for e in eval_episodes(run.store, 0, tasks)]
    again = [json.loads(line) for line in episodes_out.read_text(encoding="utf-8").splitlines()]
    assert sorted(map(what_happened, again)) == sorted(map(what_happened, stored))  # step by step, the same


def test_old_config_keys_move_to_the_component_configs(tmp_path: Path) -> None:
    old = {
        "env": {"obs_tokens": 320, "steps_per_reference_step": 3.0},
        "policy": {"eval_temperature": 0.1, "rollout_temperature": 0.9, "rollout_dtype": "float32"},
        "train": {"finetune": "lora", "sft_epochs": 3.0, "dpo_beta": 0.2, "batch_size": 2},
    }
    config = load_config(write_config(tmp_path, **old))
    assert config.env.observation.max_tokens == 320 and config.rollout.steps_per_reference_step == 3.0
    assert (config.policy.temperature, config.rollout.temperature, config.rollout.dtype) == (0.1, 0.9, "float32")
    assert (config.train.sft.finetune, config.train.dpo.finetune, config.train.sft.num_epochs) == ("lora", "lora", 3.0)
    assert (config.train.dpo.beta, config.train.sft.batch_size, config.train.dpo.batch_size) == (0.2, 2, 2)
    with pytest.raises(ConfigError, match=r"keep only env\.observation\.max_tokens"):
        load_config(write_config(tmp_path, env={"obs_tokens": 320, "observation": {"max_tokens": 256}}))
    with pytest.raises(ConfigError, match=r"policy.max_new_tokens=4: .*greater than or equal to 8"):
        load_config(write_config(tmp_path, policy={"max_new_tokens": 4}))


def test_tasks_whose_reference_exceeds_max_steps_are_rejected_when_proposed(tmp_path: Path) -> None:
    """env.max_steps is a hard cap: no episode is longer, and tasks that could not be replayed within
    it are not proposed (counted in the round's yield row)."""
    from domplay.stages import build_stage, propose_stage, rollout_stage

    config = load_config(write_config(tmp_path, env={"max_steps": 8}))
    run = Run(tmp_path / "run", config, echo=lambda line: None)
    run.round(0)
    for stage in (propose_stage, rollout_stage, build_stage):
        stage(run.ctx, 1)
    episodes = run.store.episodes()
    assert episodes and max(len(e.steps) for e in episodes) <= 8
    assert all(len(t.reference or []) < 8 for t in run.store.tasks())
    assert {m.name: m.value for m in run.store.metrics(round=0, stage="heldout")}["over_max_steps"] > 0
    yield_row = next(d.yield_numbers for d in run.store.datasets(round=1) if d.name == "sft")
    assert yield_row["tasks_over_max_steps"] > 0


def fake_trainer(seen: list, method: str):
    from domplay.train.record import TrainResult

    def train(data, model, out_dir, config, **kw):  # records the call; training itself is tested in tests/train
        seen.append((method, Path(data), str(model), config, kw))
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        return TrainResult(
            method=kw.get("method", method),
            model_dir=Path(out_dir),
            adapter_dir=None,
            base_model=str(model),
            rows=1,
            examples_seen=1,
            steps=1,
            losses=(1.0,),
            final_loss=1.0,
            seconds=0.1,
            seconds_per_example=0.1,
            git_revision="unknown",
        )

    return train


@pytest.mark.parametrize("method", ["sft+spin", "sft+online-dpo"])
def test_spin_and_online_dpo_rounds_train_on_their_own_pairs(tmp_path: Path, monkeypatch, method: str) -> None:
    """SPIN: the previous round's model's own generations are the rejected answers and it is the
    reference; online DPO: the round's SFT model acts on the training tasks and its verified episodes
    make the pairs, the SFT model being the reference."""
    import pyarrow.parquet as pq

    import domplay.llm.load as load
    import domplay.train.dpo as dpo
    import domplay.train.sft as sft
    from domplay.llm.baseline import RandomModel
    from domplay.stages import build_stage, propose_stage, rollout_stage, train_stage

    seen: list = []
    monkeypatch.setattr(sft, "train_sft", fake_trainer(seen, "sft"))
    monkeypatch.setattr(dpo, "train_dpo", fake_trainer(seen, "dpo"))
    real_load = load.load_model
    monkeypatch.setattr(
        "domplay.stages.load_model",
        lambda spec, **kw: RandomModel() if spec.startswith("hf:") else real_load(spec, **kw),
    )  # the fake SFT checkpoint acts at random
    train = {"method": method, "min_pairs_for_dpo": 1}
    run = Run(tmp_path / "run", load_config(write_config(tmp_path, train=train)), echo=lambda line: None)
    run.round(0)
    for stage in (propose_stage, rollout_stage, build_stage, train_stage):
        stage(run.ctx, 1)
    (_, _, sft_base, _, _), (_, pairs, start, _, kw) = seen
    sft_model = str(tmp_path / "run" / "round1" / "sft")
    assert sft_base == "random" and start == sft_model
    rows = pq.read_table(pairs).to_pylist()
    assert rows
    if method == "sft+spin":
        assert kw == {"reference": "random", "method": "spin"}
        assert {r["pair_kind"] for r in rows} == {"spin"} and {r["rejected_policy"] for r in rows} == {"base"}
    else:
        assert kw == {"method": "dpo"} and pairs.name.startswith("pairs_online")
        assert {r["pair_kind"] for r in rows} <= {"step", "reference"}
        assert len(run.store.episodes(round=1, policy="round1-online")) == 9


@pytest.mark.parametrize("replay", [True, False])
def test_later_rounds_train_on_a_replay_buffer_of_earlier_rounds(tmp_path: Path, monkeypatch, replay: bool) -> None:
    """Round 2's SFT set holds round 1's verified steps too (deduplicated) when the buffer is on, and
    only round 2's when it is off; the starting model does not attempt training tasks in round 1
    (rollout.first_model_round = 2), the round-1 model does in round 2."""
    import domplay.llm.load as load
    import domplay.train.sft as sft
    from domplay.data.export import load_rows
    from domplay.llm.baseline import RandomModel

    monkeypatch.setattr(sft, "train_sft", fake_trainer([], "sft"))
    real_load = load.load_model
    monkeypatch.setattr(
        "domplay.stages.load_model",
        lambda spec, **kw: RandomModel() if spec.startswith("hf:") else real_load(spec, **kw),
    )  # the fake SFT checkpoint acts at random
    config = write_config(
        tmp_path,
        train={"method": "sft"},
        build={"replay_buffer": replay, "max_sft_examples": 40},
        stop={"rounds": 2, "time_budget_min": None},
    )
    run = Run(tmp_path / "run", load_config(config), echo=lambda line: None)
    summaries = run.execute()
    assert not [e for e in run.store.episodes(round=1) if e.policy == "base"]
    assert [e for e in run.store.episodes(round=2) if e.policy == "round1"]
    rows = load_rows(next(d.path for d in run.store.datasets(round=2) if d.name == "sft"))
    rounds = {row["round"] for row in rows}
    assert rounds == ({1, 2} if replay else {2})
    assert len({(row["state_key"], json.dumps(row["completion"])) for row in rows}) == len(rows) <= 40
    line = summaries[2].line()
    assert all(f"{stage} " in line for stage in ("propose", "rollout", "build", "train", "eval"))
    assert summaries[2].training_yield["model_attempts"] == 9


def test_a_run_directory_takes_its_own_config_again_but_no_other_unless_overwritten(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    Run(tmp_path / "run", config, echo=lambda line: None).store.close()
    Run(tmp_path / "run", config, echo=lambda line: None).store.close()  # the same config: it continues
    other = config.model_copy(update={"seed": config.seed + 1})
    with pytest.raises(ConfigError, match="holds a run with another config"):
        Run(tmp_path / "run", other, echo=lambda line: None)
    assert load_config(tmp_path / "run" / "config.yaml") == config
    (tmp_path / "run" / "round1").mkdir()
    Run(tmp_path / "run", other, echo=lambda line: None, overwrite=True).store.close()
    assert load_config(tmp_path / "run" / "config.yaml").seed == other.seed
    assert not (tmp_path / "run" / "round1").exists()  # the old run's files went with it


def test_a_run_that_trains_nothing_with_a_remote_or_random_model_never_imports_torch(tmp_path: Path) -> None:
    """torch (and transformers, trl) load only when training or a local model needs them."""
    path = write_config(tmp_path, stop={"rounds": 1, "time_budget_min": None})
    code = (
        "import sys; from domplay.config import load_config; from domplay.loop import Run\n"
        f"Run({str(tmp_path / 'run')!r}, load_config({str(path)!r}), echo=lambda line: None).execute()\n"
        "loaded = sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": src}
    )
    assert out.returncode == 0, out.stderr[-2000:]
