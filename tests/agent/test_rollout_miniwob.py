"""The rollout engine with an env that defines its task at reset (MiniWoB++, on the protocol fixture page):
no special case in the loop, the stated instruction in the prompt, the page's reward as the verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domplay.agent.evaluate import run_episodes
from domplay.agent.policy import Policy, PolicyConfig
from domplay.agent.rollout import RolloutConfig, RolloutEngine
from domplay.env.factory import EnvSettings
from domplay.env.miniwob import MiniWoBConfig
from domplay.llm.scripted import ScriptedModel
from domplay.sites.app import SitesApp
from domplay.tasks.miniwob import miniwob_task
from tests.env.browser_support import needs_chromium

ROOT = Path(__file__).parents[1] / "env" / "fixtures" / "miniwob"


def click_the_named_button(prompt) -> str:
    """Reads the instruction the prompt carries and clicks what it names."""
    wanted = re.search(r'Click on the "(\w+)" button', prompt[-1]["content"])
    return f'click("{wanted.group(1)}")' if wanted else "stop()"


@pytest.mark.browser
@needs_chromium
def test_episodes_take_their_instruction_and_verdict_from_the_page():
    tasks = [miniwob_task("click-test", seed, "heldout", success_threshold=1.0) for seed in (1, 2, 3)]
    env = EnvSettings(kind="browser", max_steps=3, miniwob=MiniWoBConfig(html_root=str(ROOT)))
    episodes = run_episodes(
        Policy(ScriptedModel(click_the_named_button), PolicyConfig()),
        tasks,
        SitesApp(seed=0, names=()),
        env=env,
        rollout=RolloutConfig(samples_per_task=2, concurrency=2),
        seed=0,
        show_progress=False,
    )
    assert len(episodes) == 6 and all(e.success for e in episodes)
    for e in episodes:
        assert re.fullmatch(r'Click on the "\w+" button\.', e.intent)
        assert e.intent in e.steps[0].prompt[-1]["content"]
        assert "instruction MiniWoB++" not in e.steps[0].prompt[-1]["content"]  # not the placeholder intent
        assert e.snapshot.state["miniwob"]["raw_reward"] == 1.0


def test_every_sample_gets_its_own_reset_seed():
    engine = RolloutEngine(Policy(ScriptedModel()), env_factory=list, seed=5)
    task = miniwob_task("click-test", 1, "train", success_threshold=1.0)
    seeds = {engine.reset_seed(task, sample, round) for sample in range(4) for round in range(3)}
    assert len(seeds) == 12
    assert engine.reset_seed(task, 0, 0) == RolloutEngine(Policy(ScriptedModel()), env_factory=list, seed=5).reset_seed(
        task, 0, 0
    )
