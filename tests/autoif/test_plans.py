"""The plans source: plans for a high-level intent, merged, become verified subtasks with checks
from autoif or the DOM; a subtask without checks makes the Planner replan (written model replies)."""

from __future__ import annotations

import pytest

from domplay.agent.plan import PlanConfig
from domplay.autoif.config import AutoIFConfig, PlanIntent, PlansConfig
from domplay.autoif.plans import PlanProposer, page_of
from domplay.env.base import origin_of
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.selfplay.config import ExploreConfig, HindsightConfig
from domplay.selfplay.replay import passes
from domplay.sites.app import SitesApp
from domplay.sources import site_of, start_of
from domplay.tasks.sources import Proposal
from domplay.verify.sandbox import Sandbox
from tests.autoif.plan_writer import FIVES, PlanWriter
from tests.autoif.writer import code_block, draft

INTENT = "Find the Rustic Cast Iron French Press in the Kitchen category and tell me its price."
BEST = "1. Open the Kitchen category\n2. Open the Rustic Cast Iron French Press"
PRICE_PLAN = "1. Click Kitchen\n2. Read the price"
KITCHEN = "def check(snapshot):\n    return snapshot['url'].rstrip('/').endswith('/shop/category/kitchen')"
PRICE = "def check(snapshot):\n    return '111.95' in (snapshot['answer'] or '')"
ALWAYS = "def check(snapshot):\n    return True"
DRAFTS = {
    "Open the Kitchen category": draft("-", KITCHEN, ['click("Kitchen")'], [""]),
    # a check that is always true fails autoif's filters; its PASS path still reaches the page (DOM checks)
    "Open the Rustic Cast Iron French Press": draft("-", ALWAYS, ['click("Rustic Cast Iron French Press")'], [""]),
    "Read the price": draft("-", PRICE, ['answer("$111.95")'], [""]),
}
CHECKS = {
    "Open the Kitchen category": code_block("def check(snapshot):\n    return '/category/kitchen' in snapshot['url']"),
    "Read the price": code_block("def check(snapshot):\n    return '111.95' in str(snapshot['answer'])"),
}


def scores(plan: str) -> str:
    if "Rustic" in plan:
        return FIVES
    if "price" in plan:
        return "relevance: 5 feasibility: 5 efficiency: 5 coverage: 4"
    return "relevance: 1 feasibility: 1 efficiency: 1 coverage: 1"


@pytest.fixture(scope="module")
def world():
    sites = SitesApp(seed=0, names=("shop",))
    with EnvFactory(EnvSettings(), sites) as make, Sandbox(workers=1) as sandbox:
        yield sites, make(), sandbox


def proposer(world, writer: PlanWriter, intents=(INTENT,), tasks=(), **config) -> PlanProposer:
    sites, env, sandbox = world
    local = origin_of(env.resolve_url("/"))
    cfg = PlansConfig(**{"walks_per_subtask": 2, **config})
    return PlanProposer(
        env,
        writer.model(),
        cfg,
        autoif=AutoIFConfig(random_walks=2),
        explore=ExploreConfig(),
        hindsight=HindsightConfig(),
        intents=[PlanIntent(intent=i, start_url="/shop/") for i in intents],
        pages=["/shop/"],
        site_of=lambda u: site_of(env.resolve_url(u), sites, local),
        start_of=lambda u: start_of(env.resolve_url(u), sites, local),
        tasks=tasks,
        sandbox=sandbox,
    )


def verified(world, proposal: Proposal) -> bool:
    """Every task's reference passes its checks in a fresh episode, and the start page fails them."""
    _, env, sandbox = world
    return all(
        passes(env, t.checks, t.start_url, t.reference or [], sandbox, t.setup or ())
        and not passes(env, t.checks, t.start_url, [], sandbox, t.setup or ())
        for t in proposal.tasks
    )


def test_merged_plan_becomes_verified_subtasks_each_starting_where_the_last_ends(world):
    writer = PlanWriter(
        plans={INTENT: [BEST, PRICE_PLAN, "I would just browse."]}, scores=scores, drafts=DRAFTS, checks=CHECKS
    )
    proposal = proposer(world, writer).propose(5, "train", seed=3)
    plan = ["Open the Kitchen category", "Open the Rustic Cast Iron French Press", "Read the price"]
    assert [t.intent for t in proposal.tasks] == plan  # the best plan, merged with the price step
    # each opens where the intent starts and replays the subtasks done, so it begins where the last ended
    assert [page_of(t) for t in proposal.tasks] == ["/shop", "/shop/category/kitchen", "/shop/product/158"]
    assert {t.start_url for t in proposal.tasks} == {"/shop"}
    assert [t.setup for t in proposal.tasks] == [
        None,
        ['click("Kitchen")'],
        ['click("Kitchen")', 'click("Rustic Cast Iron French Press")'],
    ]
    assert [t.provenance.extra["checks_from"] for t in proposal.tasks] == ["autoif", "dom", "autoif"]
    assert [[c.kind for c in t.checks] for t in proposal.tasks] == [["code"], ["url"], ["code"]]
    assert [t.reference for t in proposal.tasks] == [
        ['click("Kitchen")'],
        ['click("Rustic Cast Iron French Press")'],
        ['answer("$111.95")'],
    ]
    assert verified(world, proposal)
    last = proposal.tasks[2].provenance
    assert last.proposer == "plans" and last.extra["intent"] == INTENT and last.extra["plan"] == plan
    assert last.extra["subtask_index"] == 2 and last.extra["merged_from"] == [0, 1]
    assert last.extra["prefix"] == ['click("Kitchen")', 'click("Rustic Cast Iron French Press")']
    assert proposal.tasks[1].provenance.extra["path_from"] == "model"  # the model's PASS path, kept by the DOM
    s = proposal.stats
    assert (s["candidates"], s["merged"], s["subtasks"], s["with_checks"], s["replans"], s["kept"]) == (
        3,
        1,
        3,
        3,
        0,
        3,
    )
    assert s["checks_dom"] == 1 and s["autoif_execution_rejected"] == 1 and s["intents_done"] == 1
    assert not proposal.failures


CART_INTENT = "Put the Rustic Cast Iron French Press in the cart, then tell me the cart's total."
CART_PLAN = "1. Add the French press to the cart\n2. Read the cart total"
IN_CART = "def check(snapshot):\n    return any(i['product_id'] == 158 for i in snapshot['state']['shop']['cart'])"
CART_TOTAL = (
    "def check(snapshot):\n    return snapshot['url'].endswith('/shop/cart') and '111.95' in (snapshot['answer'] or '')"
)


def test_a_subtask_is_checked_and_proposed_in_the_state_the_earlier_ones_left(world):
    """The cart total can only be read once the first subtask has put the press in the cart: the
    second subtask's checks are found by replaying the first one's path, which its task keeps as
    setup (without it, the cart is empty and its PASS path cannot even find the cart link)."""
    writer = PlanWriter(
        plans={CART_INTENT: [CART_PLAN]},
        drafts={
            "Add the French press to the cart": draft("-", IN_CART, ['click("Add to cart")'], [""]),
            "Read the cart total": draft("-", CART_TOTAL, ['click("Cart (1)"); answer("$111.95")'], [""]),
        },
        checks={
            "Add the French press to the cart": code_block(IN_CART),
            "Read the cart total": code_block(CART_TOTAL),
        },
    )
    _, env, sandbox = world
    p = proposer(world, writer, intents=(CART_INTENT,), plan=PlanConfig(candidates=1, max_replans=0))
    p.intents = [PlanIntent(intent=CART_INTENT, start_url="/shop/product/158")]
    proposal = p.propose(5, "train", seed=3)
    _, total = proposal.tasks
    assert total.intent == "Read the cart total" and total.start_url == "/shop/product/158"
    assert total.setup == ['click("Add to cart")'] and total.reference == ['click("Cart (1)")', 'answer("$111.95")']
    assert verified(world, proposal)
    assert not passes(env, total.checks, total.start_url, total.reference, sandbox)  # not without its setup
    obs, _ = env.reset(options={"task": total})
    assert "Cart (1)" in obs.text and env.snapshot().actions == ()


def test_a_subtask_without_checks_makes_the_planner_replan_from_its_page(world):
    vague = "1. Open the Kitchen category\n2. Open the best thing there"
    writer = PlanWriter(
        plans={INTENT: [vague]},
        replans={INTENT: ["1. Open the Rustic Cast Iron French Press"]},
        drafts=DRAFTS,
        checks=CHECKS,
    )
    p = proposer(world, writer, plan=PlanConfig(candidates=1, merge=True))
    proposal = p.propose(5, "train", seed=3)
    assert [t.intent for t in proposal.tasks] == ["Open the Kitchen category", "Open the Rustic Cast Iron French Press"]
    assert verified(world, proposal)
    replan = next(u for u in writer.prompts if "The previous plan failed" in u)
    assert "subtask 2 ('Open the best thing there') got no checks" in replan
    assert "Subtasks done:\n1. Open the Kitchen category" in replan
    assert "URL: /shop/category/kitchen" in replan  # the new plan starts where the failed subtask did
    second = proposal.tasks[1].provenance.extra
    assert second["plan_attempt"] == 1 and second["subtask_index"] == 0 and second["prefix"] == ['click("Kitchen")']
    assert proposal.stats["replans"] == 1 and proposal.stats["without_checks"] == 1
    assert [f.reason.split(":")[0] for f in proposal.failures] == [
        "subtask 2 ('Open the best thing there') got no checks"
    ]


def test_replans_are_bounded_and_an_intent_without_checks_is_given_up(world):
    writer = PlanWriter(plans={INTENT: ["1. Open the best thing"]}, replans={INTENT: ["1. Do the thing"]})
    p = proposer(world, writer, plan=PlanConfig(candidates=1, max_replans=2))
    proposal = p.propose(5, "train", seed=3)
    assert proposal.tasks == [] and writer.asked.count("replan") == 2
    s = proposal.stats
    assert (s["subtasks"], s["without_checks"], s["replans"], s["intents_abandoned"]) == (3, 3, 2, 1)
    assert len(proposal.failures) == 3 and all("got no checks" in f.reason for f in proposal.failures)


@pytest.mark.parametrize(
    "plan, score, counted",
    [
        ("```\n42\n```", "great plan", "candidates_empty"),  # no steps: the intent itself is the plan
        ("Sure! Here is my plan", "ok", "candidates_heuristic"),  # a plain line is a step; no scores: heuristic
    ],
)
def test_garbage_replies_are_counted_never_raised(world, plan, score, counted):
    writer = PlanWriter(plans={INTENT: [plan]}, replans={INTENT: [plan]}, scores=lambda _: score)
    proposal = proposer(world, writer, plan=PlanConfig(candidates=2, max_replans=1)).propose(5, "train", seed=3)
    s = proposal.stats
    assert proposal.tasks == [] and s["intents_abandoned"] == 1 and s["without_checks"] == 2
    # two samples per attempt, two attempts; equal plans with steps are scored once
    assert (
        s[counted] == (4 if counted == "candidates_empty" else 2)
        and s["candidates"] == (counted != "candidates_empty") * 2
    )
    assert s["autoif_unreadable"] == 2  # "I cannot write that." has no INTENT/CHECK/PASS


def test_the_model_writes_intents_when_none_are_given(world):
    writer = PlanWriter(
        plans={INTENT: [BEST]},
        intents=f"Here are goals:\n1. {INTENT}\n2. {INTENT}\n3. Browse the shop\n4. Leave",
        drafts=DRAFTS,
        checks=CHECKS,
    )
    proposal = proposer(world, writer, intents=(), intents_per_page=2).propose(5, "train", seed=3)
    assert writer.asked[0] == "intents" and proposal.stats["intents_written"] == 2  # the same intent twice is one
    assert set(writer.planned) == {INTENT, "Browse the shop"}
    assert [t.provenance.extra["intent"] for t in proposal.tasks] == [INTENT, INTENT]


def test_subtasks_the_run_has_are_followed_not_proposed_again(world):
    writer = PlanWriter(plans={INTENT: [BEST, PRICE_PLAN]}, scores=scores, drafts=DRAFTS, checks=CHECKS)
    first = proposer(world, writer).propose(5, "train", seed=3)
    again = PlanWriter(plans={INTENT: [BEST, PRICE_PLAN]}, scores=scores, drafts=DRAFTS, checks=CHECKS)
    proposal = proposer(world, again, tasks=first.tasks).propose(5, "train", seed=4)
    assert proposal.tasks == [] and proposal.stats["checks_reused"] == 3
    assert "draft" not in again.asked  # each subtask's verified path was followed, nothing was checked anew
