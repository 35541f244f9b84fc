"""The MiniWoB++ task source: (task, seed) pairs on disjoint seed ranges, verified by the page's raw reward."""

from __future__ import annotations

from pathlib import Path

import pytest

from domplay.config import RunConfig
from domplay.env.miniwob import MiniWoBConfig
from domplay.errors import ConfigError
from domplay.stages import TASK_SOURCES
from domplay.tasks.miniwob import (
    HELDOUT_SEED_START,
    MiniWoBProposer,
    MiniWoBTasks,
    eval_tasks,
    miniwob_task,
)
from domplay.tasks.presets import resolve_tasks
from domplay.tasks.sources import Proposer
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import verify

ROOT = Path(__file__).parents[1] / "env" / "fixtures" / "miniwob"
ENV = MiniWoBConfig(html_root=str(ROOT))
FIXTURE_TASKS = MiniWoBTasks(names=("click-test",), eval_seeds_per_task=3)


def test_is_a_proposer_and_a_run_source():
    proposer: Proposer = MiniWoBProposer(FIXTURE_TASKS, ENV)  # mypy checks the protocol
    assert proposer.name == "miniwob"
    assert "miniwob" in TASK_SOURCES


def test_train_and_heldout_seeds_are_disjoint_and_seeded():
    proposer = MiniWoBProposer(FIXTURE_TASKS, ENV)
    train = proposer.propose(50, "train", seed=3).tasks
    again = proposer.propose(50, "train", seed=3).tasks
    other = proposer.propose(50, "train", seed=4).tasks
    heldout = proposer.propose(5, "heldout", seed=3).tasks
    assert [t.id for t in train] == [t.id for t in again] != [t.id for t in other]
    assert all(t.provenance.seed < HELDOUT_SEED_START for t in train)
    assert len({t.provenance.seed for t in train}) == 50
    assert [t.provenance.seed for t in heldout] == [HELDOUT_SEED_START + k for k in range(5)]
    assert heldout == proposer.propose(5, "heldout", seed=99).tasks  # every run seed: the same held-out set


def test_names_are_spread_round_robin():
    proposer = MiniWoBProposer(FIXTURE_TASKS, ENV)
    proposer.names = ["a-task", "b-task", "c-task"]
    tasks = proposer.propose(7, "heldout", seed=0).tasks
    assert [t.provenance.template for t in tasks] == ["a-task", "b-task", "c-task"] * 2 + ["a-task"]


def test_unknown_names_are_refused_with_close_matches():
    with pytest.raises(ConfigError, match=r"click-tset.*click-test"):
        MiniWoBProposer(MiniWoBTasks(names=("click-tset",)), ENV)


def test_all_lists_the_html_folder():
    assert MiniWoBProposer(MiniWoBTasks(names=("all",)), ENV).names == ["click-test"]


def snapshot(raw: float, done: bool = True) -> Snapshot:
    state = {"miniwob": {"task": "click-test", "seed": 1, "raw_reward": raw, "done": done}}
    return Snapshot(url="http://127.0.0.1/miniwob/click-test.html", html="", title="", state=state)


@pytest.mark.parametrize(
    "raw, done, threshold, success",
    [(1.0, True, 1.0, True), (0.2, True, 1.0, False), (0.2, True, 0.2, True), (-1.0, True, 1.0, False)]
    + [(0.0, False, 0.0, False)],
)
def test_verdict_is_the_raw_reward_against_the_threshold(raw, done, threshold, success):
    task = miniwob_task("click-test", 1, "heldout", success_threshold=threshold)
    verdict = verify(task.checks, snapshot(raw, done))
    assert verdict.success is success
    done_check, reward_check = verdict.results
    assert (done_check.passed, reward_check.passed) == (done, raw >= threshold)
    assert str(raw) in reward_check.reason  # the raw reward is recorded with the verdict


def test_eval_spec_gives_heldout_seeds_per_task():
    tasks = resolve_tasks("miniwob:click-test", miniwob=FIXTURE_TASKS, env=ENV)
    assert [t.id for t in tasks] == [f"miniwob:click-test:{HELDOUT_SEED_START + k}" for k in range(3)]
    assert all(t.provenance.split == "heldout" and t.site == "miniwob" for t in tasks)
    with pytest.raises(ConfigError, match="names no MiniWoB"):
        eval_tasks("miniwob:", FIXTURE_TASKS, ENV)


def test_miniwob_tasks_need_the_browser_env():
    with pytest.raises(ConfigError, match=r"env\.kind: browser"):
        RunConfig.model_validate({"tasks": {"sources": {"miniwob": 1.0}}})
    with pytest.raises(ConfigError, match=r"env\.kind: browser"):
        RunConfig.model_validate({"tasks": {"heldout_source": "miniwob"}})
    config = RunConfig.model_validate({"tasks": {"heldout_source": "miniwob"}, "env": {"kind": "browser"}})
    assert config.env.miniwob.success_threshold == 1.0
