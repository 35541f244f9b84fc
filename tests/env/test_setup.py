"""A task's `setup`: actions the env runs at reset before the first observation (the state an earlier
subtask left), which are not the agent's steps."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import PageError
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import StateCheck

SITES = SitesApp(0, names=["shop"])
ADD_FRENCH_PRESS = ['click("Kitchen")', 'click("Rustic Cast Iron French Press")', 'click("Add to cart")']


@pytest.fixture
def env():
    e = DomEnv(DomEnvConfig(max_steps=5), sites=SITES)
    yield e
    e.close()


def cart_task(**kw) -> Task:
    args = {
        "id": "shop.setup.t1",
        "intent": "Open the cart.",
        "site": "shop",
        "start_url": "/shop",
        "difficulty": "easy",
        "checks": [StateCheck(path="shop.cart", op="length_eq", expected=1)],
    }
    return Task(**{**args, **kw})


def test_setup_runs_before_the_first_observation_and_is_not_the_agents(env):
    obs, _ = env.reset(options={"task": cart_task(setup=ADD_FRENCH_PRESS)})
    assert "Cart (1)" in obs.text  # the state the setup left
    assert env.snapshot().actions == () and env.snapshot().answer is None
    assert env.snapshot().state["shop"]["cart"][0]["qty"] == 1
    for _ in range(4):  # max_steps counts the agent's steps only
        _, _, terminated, truncated, _ = env.step("noop()")
        assert not (terminated or truncated)
    assert env.step("noop()")[3]  # the fifth is the last


def test_the_agents_steps_start_after_setup(env):
    env.reset(options={"task": cart_task(setup=ADD_FRENCH_PRESS)})
    _, reward, terminated, _, info = env.step("stop()")
    assert terminated and reward == 1.0 and info["verdict"].success
    assert [a.action for a in env.snapshot().actions] == ["stop()"]


def test_setup_as_a_reset_option_and_a_fresh_state_without_it(env):
    obs, _ = env.reset(options={"start_url": "/shop", "setup": ADD_FRENCH_PRESS})
    assert "Cart (1)" in obs.text
    obs, _ = env.reset(options={"start_url": "/shop"})
    assert "Cart (0)" in obs.text  # a new episode, a new state


def test_a_setup_action_that_fails_is_a_page_error_naming_it(env):
    with pytest.raises(PageError, match=r'setup action #1 .click\("No such link"\). failed: no clickable'):
        env.reset(options={"start_url": "/shop", "setup": ['click("Kitchen")', 'click("No such link")']})


def test_a_setup_that_ends_the_episode_is_refused_by_the_task():
    with pytest.raises(ValidationError, match="setup only prepares the start"):
        cart_task(setup=['click("Kitchen")', 'answer("done")'])
    with pytest.raises(ValidationError, match="setup action #0"):
        cart_task(setup=["click("])
