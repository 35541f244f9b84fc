"""The policy's page constraint, read off real pages of the built-in shop; any reply is a decision."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domplay.agent.policy import Policy, Query, page_constraint
from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.observation import ObservationConfig
from domplay.llm.scripted import ScriptedModel
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import UrlCheck
from tests.fuzz import FUZZ, replies


@pytest.fixture(scope="module")
def env():
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(max_tokens=320)), SitesApp(seed=0, names=["shop"]))
    yield env
    env.close()


def _reset(env, url: str):
    task = Task(
        id="look", intent="Look around.", site="shop", start_url=url, checks=[UrlCheck(expected=url)], difficulty="easy"
    )
    obs, _ = env.reset(seed=0, options={"task": task})
    return obs


def _ids(refs) -> set[int]:
    return {t for t, _ in refs}


def test_each_element_action_names_only_elements_it_works_on(env):
    obs = _reset(env, "/shop/product/13")
    c = page_constraint(obs, "id")
    shown = {e.id: e for e in obs.elements[obs.offset : obs.offset + obs.shown]}
    assert _ids(c.targets) == {i for i, e in shown.items() if e.interactive}
    assert _ids(c.targets_for("select")) == {i for i, e in shown.items() if e.tag == "select"} != set()
    assert _ids(c.targets_for("fill")) == {i for i, e in shown.items() if e.role == "textbox"}
    assert all(shown[i].interactive for i in _ids(c.targets_for("click")))
    assert not any(shown[i].role == "text" for i in _ids(c.targets_for("click") | c.targets_for("press")))
    assert {t: o for (t, _), o in c.select_options} == {i: shown[i].options for i in _ids(c.targets_for("select"))}


def test_in_the_name_form_the_constraint_holds_the_pages_names(env):
    obs = _reset(env, "/shop/product/13")
    c = page_constraint(obs, "name")
    shown = obs.elements[obs.offset : obs.offset + obs.shown]
    selects = [e for e in shown if e.tag == "select"]
    assert {(e.name, None) for e in selects} == c.targets_for("select")
    assert {t: o for (t, _), o in c.select_options} == {e.name: e.options for e in selects}
    links = [e for e in shown if e.role == "link"]
    assert links and all((e.name, None) in c.targets_for("click") for e in links)  # each unique here
    assert not any(isinstance(t, int) for t, _ in c.targets_for("click"))  # every one has a name


def test_repeated_names_carry_their_ordinal_unless_they_are_one_link():
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(max_tokens=8192)), SitesApp(seed=0, names=["forum"]))
    home, _ = env.reset(options={"start_url": "/forum/"})
    board, *_ = env.step('goto("/forum/b/gardening")')
    env.close()
    tags = [e for e in home.elements if e.name == "#beginner"]
    assert len(tags) == 3 and len({e.href for e in tags}) == 1 and home.cut_note is None
    clicks = page_constraint(home, "name").targets_for("click")
    assert ("#beginner", None) in clicks and ("#beginner", 1) not in clicks  # any of them does the same
    threads = [e for e in board.elements if e.name == "Beginner guide to compost"]
    assert len(threads) == 2 and threads[0].href != threads[1].href and board.cut_note is None
    clicks = page_constraint(board, "name").targets_for("click")
    assert {("Beginner guide to compost", n) for n in (1, 2)} <= clicks
    assert ("Beginner guide to compost", None) not in clicks


def test_elements_below_the_budget_and_useless_scrolls_are_excluded(env):
    obs = _reset(env, "/shop/category/outerwear")
    assert obs.cut_note is not None and obs.offset == 0
    c = page_constraint(obs, "id")
    assert max(_ids(c.targets)) <= obs.shown < len(obs.elements)  # the agent cannot see the rest
    assert c.scroll_directions == ("down",)
    obs, *_ = env.step(A.Scroll("down"))
    assert page_constraint(obs).scroll_directions == ("up", "down")
    assert min(_ids(page_constraint(obs, "id").targets)) > obs.offset


def test_a_page_that_fits_cannot_be_scrolled(env):
    obs = _reset(env, "/shop/cart")
    assert obs.cut_note is None and obs.offset == 0
    assert not page_constraint(obs).allows("scroll")


@pytest.mark.parametrize("form", ["name", "id"])
def test_the_reference_policy_replays_in_either_form_and_succeeds(form):
    from domplay.agent.policy import PolicyConfig, ReferencePolicy
    from domplay.agent.rollout import RolloutConfig, RolloutEngine
    from domplay.tasks.propose import TemplateProposer
    from domplay.tasks.templates import forum, shop

    sites = SitesApp(seed=0, names=["shop", "forum"])
    proposer = TemplateProposer(
        sites, templates=[shop.BuyVariant(), shop.TwoProductsChangeQty(), shop.PastOrderTotal(), forum.ReplyToThread()]
    )
    tasks = [
        t
        for t in (proposer.make_task(tpl, seed, "train") for tpl in proposer.templates for seed in (0, 1))
        if t is not None
    ]
    proposer.close()
    assert len(tasks) >= 6 and all(A.parse_action(a) for t in tasks for a in t.reference)  # stored by id
    engine = RolloutEngine(
        ReferencePolicy(PolicyConfig(action_form=form)),
        lambda: DomEnv(DomEnvConfig(max_steps=40), sites),
        RolloutConfig(),
    )
    episodes = engine.run(tasks)
    assert all(e.success for e in episodes), [(e.task_id, e.verdict) for e in episodes if not e.success]
    acted = [A.parse_action(s.action) for e in episodes for s in e.steps if s.action is not None]
    targets = [a.target for a in acted if isinstance(a, A.ELEMENT_ACTIONS)]
    assert len(targets) > 10
    assert all(isinstance(t, str if form == "name" else int) for t in targets), targets
    assert all(s.error is None for e in episodes for s in e.steps)


@FUZZ
@given(st.one_of(replies, replies.map(lambda r: f"Sure! Action: {r} and then more prose (")))
def test_any_reply_becomes_an_action_or_an_error_decision(env, reply):
    """Whatever a model replies (prose, broken calls, lone surrogates), `act` returns a decision."""
    obs = _reset(env, "/shop/")
    decision = Policy(ScriptedModel(lambda prompt: reply)).act([Query("Look around.", obs)])[0]
    decision.completion.encode("utf-8")  # stored with the episode
    assert (decision.action is None) != (decision.error is None)
    if decision.action is not None:
        A.format_action(decision.action).encode("utf-8")
