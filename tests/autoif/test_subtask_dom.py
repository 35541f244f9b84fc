"""Checks for a subtask from the DOM: which relabelled goal fits a subtask, and its verified path."""

from __future__ import annotations

import random

import pytest

from domplay.autoif.config import PlansConfig
from domplay.autoif.subtask_dom import DomChecks, asks, dom_checks, goal_match
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.selfplay.config import ExploreConfig, HindsightConfig
from domplay.selfplay.hindsight import DomRelabeller
from domplay.selfplay.replay import run_path
from domplay.selfplay.walk import RandomWalker
from domplay.sites.app import SitesApp

KITCHEN = "/shop/category/kitchen"
PRESS = 'click("Rustic Cast Iron French Press")'


@pytest.fixture(scope="module")
def env():
    with EnvFactory(EnvSettings(), SitesApp(seed=0, names=("shop",))) as make:
        yield make()


@pytest.fixture(scope="module")
def goals(env):
    """The DOM relabeller's goals for going from the Kitchen category to the French Press, by family."""
    start, now = run_path(env, KITCHEN, []), run_path(env, KITCHEN, [PRESS])
    assert start is not None and now is not None
    found = DomRelabeller(HindsightConfig()).goals(start, now)
    return {(g.family, g.params.get("label")): g for g in found}


def test_a_goal_fits_a_subtask_that_names_its_page_and_asks_for_its_value(goals):
    # the price is shown on the category page already, so the relabeller offers the rating only
    page, rating = goals[("dom.page", None)], goals[("dom.value", "Rating")]
    assert goal_match("Open the Rustic Cast Iron French Press", page) == 1.0
    assert goal_match("Open the Rustic Ceramic Kettle", page) == pytest.approx(1 / 3)  # only "rustic"
    assert goal_match("Tell me the rating of the Rustic Cast Iron French Press", page) == 0.0  # asks; the goal not
    assert goal_match("Tell me the rating of the Rustic Cast Iron French Press", rating) == 1.0
    assert goal_match("Open the Rustic Cast Iron French Press", rating) == 0.0  # asks nothing
    assert goal_match("What is the price of the French Press?", rating) == 0.0  # another label
    assert goal_match("Open the first result", page) == 0.0  # names no page
    assert asks("What is its rating?") and asks("Read the price") and not asks("Open the Kitchen category")


def test_the_models_path_to_the_page_becomes_a_verified_url_check(env):
    config = PlansConfig(walks_per_subtask=0)
    walker = RandomWalker(ExploreConfig(), random.Random(0), env.resolve_url)
    relabeller = DomRelabeller(HindsightConfig())
    subtask = "Open the Rustic Cast Iron French Press"
    found = dom_checks(env, subtask, KITCHEN, [('click("Kitchen")',), (PRESS,)], walker, relabeller, config)
    assert isinstance(found, DomChecks) and found.origin == "model" and found.path == [PRESS]
    assert [c.kind for c in found.goal.checks] == ["url"] and found.match == 1.0
    asked = "Tell me the rating of the Rustic Cast Iron French Press"
    value = dom_checks(env, asked, KITCHEN, [(PRESS,)], walker, relabeller, config)
    assert isinstance(value, DomChecks) and value.path == [PRESS, 'answer("4.4/5 from 5 reviews")']
    assert [c.kind for c in value.goal.checks] == ["url", "answer"]
    missed = dom_checks(env, "Open the Rustic Ceramic Kettle", KITCHEN, [(PRESS,)], walker, relabeller, config)
    assert missed == "dom: no page reached in 1 paths names the subtask"
