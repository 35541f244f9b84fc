"""Plan mode: batched Actor/Infer calls, score parsing and fallback, subtask tracking, replans, rollouts."""

from __future__ import annotations

import itertools
import re

import pytest

from domplay.agent.plan import (
    ACTOR_SYSTEM,
    INFER_SYSTEM,
    PlanConfig,
    Planner,
    PlanRequest,
    Scores,
    heuristic_scores,
    parse_scores,
    parse_subtasks,
)
from domplay.agent.policy import Policy
from domplay.agent.rollout import RolloutConfig, RolloutEngine
from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import ConfigError
from domplay.llm.scripted import ScriptedModel
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import UrlCheck

CART_PLAN = "1. Click the Cart link\n2. Check the cart page"
SEARCH_PLAN = (
    "1. Type socks in the search box\n2. Press Enter\n3. Open the first result\n4. Read it\n5. Go back\n6. Stop"
)


@pytest.fixture(scope="module")
def sites():
    return SitesApp(seed=0, names=["shop"])


@pytest.fixture(scope="module")
def home(sites):
    env = DomEnv(DomEnvConfig(start_url="/shop/"), sites=sites)
    obs, _ = env.reset()
    return obs


def is_actor(prompt) -> bool:
    return prompt[0]["content"].startswith(ACTOR_SYSTEM[:30])


def is_infer(prompt) -> bool:
    return prompt[0]["content"] == INFER_SYSTEM


def scripted_planner_model(plans, score_reply):
    """Actor samples cycle through `plans`; the Infer reply is `score_reply(plan_text)`."""
    samples = itertools.cycle(plans)

    def respond(prompt):
        if is_actor(prompt):
            return next(samples)
        assert is_infer(prompt), prompt[0]["content"][:60]
        return score_reply(prompt[-1]["content"].split("Plan:\n", 1)[1])

    return ScriptedModel(respond)


def cart_task(i: int) -> Task:
    return Task(
        id=f"open-cart-{i}",
        intent="Open the shopping cart.",
        site="shop",
        start_url="/shop/",
        checks=[UrlCheck(expected="/shop/cart")],
        difficulty="easy",
    )


# -- parsing ---------------------------------------------------------------------------------
def test_parse_subtasks_reads_numbered_and_bulleted_steps():
    assert parse_subtasks("Sure!\n1. Click Cart\n2) Read the total\n", 8, 100) == ("Click Cart", "Read the total")
    assert parse_subtasks("- open Knitwear\n* sort by price\nStep 3: answer", 8, 100) == (
        "open Knitwear",
        "sort by price",
        "answer",
    )
    assert parse_subtasks("1. a step\n2. b\n3. c", 2, 100) == ("a step", "b")
    assert parse_subtasks("1. **Open the cart**:\n2. **Read** the total", 8, 100) == ("Open the cart", "Read the total")
    assert parse_subtasks("Click the cart link", 8, 100) == ("Click the cart link",)
    assert parse_subtasks("1.\n2. 42\n...", 8, 100) == ()


@pytest.mark.parametrize(
    "reply,expected",
    [
        ("relevance: 4\nfeasibility: 5\nefficiency: 3\ncoverage: 2", Scores(4, 5, 3, 2)),
        ("**Relevance**: 4/5. Feasibility = 5; Efficiency - 3.5, coverage 2. Looks fine.", Scores(4, 5, 3, 2)),
        ("Relevance: 4\nFeasibility: 4\nEfficiency: 4", None),  # one missing
        ("relevance: 9 feasibility: 0 efficiency: 3 coverage: 2", None),  # out of range
        ("I think this plan is good!", None),
        ("relevance (1-5): feasibility (1-5): efficiency (1-5): coverage (1-5):", None),  # the format echoed back
    ],
)
def test_parse_scores(reply, expected):
    assert parse_scores(reply) == expected


def test_heuristic_prefers_plans_that_cover_the_intent_and_are_short(home):
    intent = "Open the shopping cart."
    good = heuristic_scores(intent, ("Click the Cart link", "Check the shopping list"), home, 4)
    off = heuristic_scores(intent, ("Think about life", "Ponder"), home, 4)
    assert good.coverage > off.coverage and good.feasibility > off.feasibility and good.relevance > off.relevance
    long = heuristic_scores(intent, tuple(f"click step {i}" for i in range(7)), home, 4)
    assert long.efficiency == 2.0 and good.efficiency == 5.0


def test_config_validation_names_the_field():
    with pytest.raises(ConfigError, match="candidates=0"):
        PlanConfig(candidates=0)
    with pytest.raises(ConfigError, match="weights"):
        PlanConfig(weights=(1.0, 1.0, 1.0))


# -- planning --------------------------------------------------------------------------------
def test_plan_samples_k_candidates_in_one_call_and_picks_the_best_scored(home):
    def scores(plan_text):
        return (
            "relevance: 5\nfeasibility: 5\nefficiency: 5\ncoverage: 5"
            if "Cart" in plan_text
            else "relevance: 2\nfeasibility: 3\nefficiency: 1\ncoverage: 2"
        )

    model = scripted_planner_model([SEARCH_PLAN, CART_PLAN, SEARCH_PLAN], scores)
    planner = Planner(model, PlanConfig(candidates=3, temperature=0.8))
    states = planner.plan(
        [PlanRequest("Open the shopping cart.", home, seed=7), PlanRequest("Open the shopping cart.", home, seed=8)]
    )
    # One Actor call (2 prompts x n=3) and one Infer call for the distinct candidates.
    assert [(p.n, p.temperature) for p in model.params_seen] == [(3, 0.8), (1, 0.0)]
    assert sum(map(is_actor, model.prompts)) == 2 and sum(map(is_infer, model.prompts)) == 4
    for state in states:
        attempt = state.attempts[0]
        assert attempt.reason == "initial" and len(attempt.candidates) == 2  # duplicate sample scored once
        assert all(c.source == "model" for c in attempt.candidates)
        assert attempt.subtasks == ("Click the Cart link", "Check the cart page")
        assert attempt.candidates[attempt.chosen].total == 5.0
    assert "Open the shopping cart." in model.prompts[0][-1]["content"]
    assert '"Cart (0)"' in model.prompts[0][-1]["content"]


def test_garbage_scores_fall_back_to_the_heuristic_and_say_so(home):
    model = scripted_planner_model(["1. Ponder deeply\n2. Wait", CART_PLAN], lambda plan: "great plan!!")
    planner = Planner(model, PlanConfig(candidates=2))
    state = planner.plan([PlanRequest("Open the shopping cart.", home)])[0]
    attempt = state.attempts[0]
    assert [c.source for c in attempt.candidates] == ["heuristic", "heuristic"]
    assert all(c.score_reply == "great plan!!" for c in attempt.candidates)
    assert attempt.subtasks == ("Click the Cart link", "Check the cart page")
    assert planner.record(state)["heuristic_fallbacks"] == 2


def test_heuristic_infer_makes_no_scoring_call_and_empty_plans_fall_back_to_the_intent(home):
    model = scripted_planner_model(["no idea", "???"], lambda plan: pytest.fail("no Infer call expected"))
    state = Planner(model, PlanConfig(candidates=2, infer="heuristic")).plan(
        [PlanRequest("Open the shopping cart.", home)]
    )[0]
    assert len(model.params_seen) == 1
    attempt = state.attempts[0]
    assert attempt.chosen is not None and attempt.candidates[attempt.chosen].source == "heuristic"
    empty = Planner(scripted_planner_model(["1.", "..."], str), PlanConfig(candidates=2)).plan(
        [PlanRequest("Open the shopping cart.", home)]
    )[0]
    assert empty.attempts[0].chosen is None and empty.subtasks == ("Open the shopping cart.",)
    assert {c.source for c in empty.attempts[0].candidates} == {"empty"}


def test_merge_mode_adds_the_step_a_well_scored_candidate_covers_and_records_who_gave_it(home):
    intent = "Open the Kitchen category and tell me the price of its first product."
    best = "1. Click the Kitchen category\n2. Open its first product"
    other = "1. Open Kitchen\n2. Read the price"
    poor = "1. Go to the cart\n2. Read the total price"

    def scores(plan_text):
        if "Click the Kitchen" in plan_text:
            return "relevance: 5\nfeasibility: 5\nefficiency: 5\ncoverage: 5"
        if "Read the price" in plan_text:
            return "relevance: 5\nfeasibility: 5\nefficiency: 5\ncoverage: 4"
        return "relevance: 1\nfeasibility: 1\nefficiency: 1\ncoverage: 1"

    def plan(merge: bool):
        model = scripted_planner_model([best, poor, other], scores)
        return Planner(model, PlanConfig(candidates=3, merge=merge)).plan([PlanRequest(intent, home)])[0]

    merged, alone = plan(True).attempts[0], plan(False).attempts[0]
    assert merged.subtasks == ("Click the Kitchen category", "Open its first product", "Read the price")
    assert merged.chosen == 0 and merged.merged_from == (0, 2)  # the poor plan (total 1) gives nothing
    assert alone.subtasks == ("Click the Kitchen category", "Open its first product") and alone.merged_from == ()


# -- following and replanning ----------------------------------------------------------------
def planned(home, config: PlanConfig | None = None):
    model = scripted_planner_model([CART_PLAN], lambda plan: "relevance: 5 feasibility: 5 efficiency: 5 coverage: 5")
    planner = Planner(model, config or PlanConfig(candidates=1))
    return planner, planner.plan([PlanRequest("Open the shopping cart.", home)])[0]


def test_prompt_text_marks_the_current_subtask_and_navigation_advances_it(home, sites):
    planner, state = planned(home)
    assert planner.prompt_text(state).splitlines() == ["[now]  1. Click the Cart link", "       2. Check the cart page"]
    env = DomEnv(DomEnvConfig(start_url="/shop/"), sites=sites)
    before, _ = env.reset()
    after, *_ = env.step(A.Click(3))
    state = planner.after_step(state, before, after, None)
    assert state.current == 1 and state.advances == ((0, 0),)
    assert planner.prompt_text(state).splitlines()[0].startswith("[done] 1.")
    assert planner.step_extra(state) == {"plan_attempt": 0, "subtask_index": 1, "subtask": "Check the cart page"}


def test_replan_triggers_errors_stall_and_early_stop(home):
    planner, state = planned(
        home, PlanConfig(candidates=1, replan_after_error_steps=2, replan_after_stalled_steps=3, max_replans=1)
    )
    once = planner.after_step(state, home, home, "no element with id 999")
    assert not planner.needs_plan(once)
    twice = planner.after_step(once, home, home, "no element with id 999")
    assert planner.needs_plan(twice) and twice.pending_replan == "2 failed actions in a row"
    stalled = state
    for _ in range(3):
        stalled = planner.after_step(stalled, home, home, None)
    assert stalled.pending_replan == "page unchanged for 3 steps"
    stopped, refusal = planner.before_step(state, A.Stop())
    assert refusal is not None and "stop() refused" in refusal and stopped.pending_replan.startswith("stop()")
    assert planner.before_step(state, A.Click(3)) == (state, None)
    # The replan gets the failure in its prompt, resets the counters and is recorded.
    replanned = planner.plan([PlanRequest("Open the shopping cart.", home, previous=twice)])[0]
    assert "The previous plan failed (2 failed actions in a row)" in planner.model.prompts[-2][-1]["content"]
    assert replanned.replans == 1 and replanned.error_streak == 0 and not planner.needs_plan(replanned)
    # max_replans=1 is used up: no more triggers, and stop() goes through.
    assert planner.after_step(planner.after_step(replanned, home, home, "x"), home, home, "x").pending_replan is None
    assert planner.before_step(replanned, A.Stop())[1] is None


# -- rollouts on the real shop ----------------------------------------------------------------
def agent_model(first_action: str):
    """Plans 'Click the Cart link'; acts `first_action` until a replan happened, then clicks the cart."""

    def respond(prompt):
        if is_actor(prompt):
            return CART_PLAN if "previous plan failed" not in prompt[-1]["content"] else "1. Click Cart (0)"
        if is_infer(prompt):
            return "relevance: 5\nfeasibility: 4\nefficiency: 5\ncoverage: 4"
        page = prompt[-1]["content"]
        if "Click Cart (0)" not in page:
            return first_action
        if "/shop/cart" in page.split("Page:\n", 1)[1].splitlines()[0]:
            return "stop()"
        cart = re.search(r'"(Cart \(\d+\))"', page)
        return f'click("{cart.group(1)}")'

    return ScriptedModel(respond)


@pytest.mark.parametrize(
    "first_action,reason", [("click(999)", "2 failed actions in a row"), ("stop()", "stop() with 2 subtask(s) left")]
)
def test_plan_mode_rollout_replans_and_records_everything(sites, first_action, reason):
    model = agent_model(first_action)
    engine = RolloutEngine(
        Policy(model),
        lambda: DomEnv(DomEnvConfig(), sites=sites),
        RolloutConfig(concurrency=3),
        planner=Planner(model, PlanConfig(candidates=2)),
    )
    episodes = engine.run([cart_task(i) for i in range(3)])
    assert all(e.success for e in episodes), [(e.verdict, [s.action for s in e.steps]) for e in episodes]
    # Initial plans for the 3 episodes: one Actor call; replans for all 3: one more.
    actor_calls = [p for p in model.params_seen if p.n == 2]
    assert len(actor_calls) == 2
    plan = episodes[0].plan
    assert [a["reason"] for a in plan["attempts"]] == ["initial", reason]
    assert plan["replans"] == [{"step": plan["attempts"][1]["step"], "reason": reason}]
    first = plan["attempts"][0]
    assert first["chosen"] == 0 and first["candidates"][0]["scores"] == {
        "relevance": 5.0,
        "feasibility": 4.0,
        "efficiency": 5.0,
        "coverage": 4.0,
    }
    assert first["candidates"][0]["source"] == "model" and plan["config"]["candidates"] == 2
    steps = episodes[0].steps
    assert "Plan:\n[now]  1. Click the Cart link" in steps[0].prompt[-1]["content"]
    assert steps[0].extra == {"plan_attempt": 0, "subtask_index": 0, "subtask": "Click the Cart link"}
    assert steps[-2].extra["plan_attempt"] == 1 and steps[-2].action.startswith("click(")
    if first_action == "stop()":
        assert steps[0].action == "stop()" and "stop() refused" in steps[0].error
    assert plan["completed"] and plan["advances"][0]["subtask_index"] == 0


def test_rollout_without_planner_is_unchanged(sites):
    model = ScriptedModel(["click(3)", "stop()"])
    engine = RolloutEngine(Policy(model), lambda: DomEnv(DomEnvConfig(), sites=sites), RolloutConfig(concurrency=1))
    (episode,) = engine.run([cart_task(0)])
    assert episode.success and episode.plan is None and "Plan:" not in episode.steps[0].prompt[-1]["content"]
