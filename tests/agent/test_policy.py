"""The policy's page constraint, read off real pages of the built-in shop."""

from __future__ import annotations

import pytest

from domplay.agent.policy import page_constraint
from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.observation import ObservationConfig
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import UrlCheck


@pytest.fixture(scope="module")
def env():
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(max_tokens=320)), SitesApp(seed=0, names=["shop"]))
    yield env
    env.close()


def _reset(env, url: str):
    task = Task(id="look", intent="Look around.", site="shop", start_url=url, checks=[UrlCheck(expected=url)], difficulty="easy")
    obs, _ = env.reset(seed=0, options={"task": task})
    return obs


def test_each_element_action_names_only_elements_it_works_on(env):
    obs = _reset(env, "/shop/product/13")
    c = page_constraint(obs)
    shown = {e.id: e for e in obs.elements[obs.offset:obs.offset + obs.shown]}
    assert c.ids == frozenset(shown)
    assert c.ids_for("select") == {i for i, e in shown.items() if e.tag == "select"} != set()
    assert c.ids_for("fill") == {i for i, e in shown.items() if e.role == "textbox"}
    assert all(shown[i].interactive for i in c.ids_for("click"))
    assert not any(shown[i].role == "text" for i in c.ids_for("click") | c.ids_for("press"))
    assert dict(c.select_options) == {i: shown[i].options for i in c.ids_for("select")}


def test_elements_below_the_budget_and_useless_scrolls_are_excluded(env):
    obs = _reset(env, "/shop/category/outerwear")
    assert obs.cut_note is not None and obs.offset == 0
    c = page_constraint(obs)
    assert max(c.ids) == obs.shown < len(obs.elements)  # the agent cannot see the rest
    assert c.scroll_directions == ("down",)
    obs, *_ = env.step(A.Scroll("down"))
    assert page_constraint(obs).scroll_directions == ("up", "down")
    assert min(page_constraint(obs).ids) == obs.offset + 1


def test_a_page_that_fits_cannot_be_scrolled(env):
    obs = _reset(env, "/shop/cart")
    assert obs.cut_note is None and obs.offset == 0
    assert not page_constraint(obs).allows("scroll")
