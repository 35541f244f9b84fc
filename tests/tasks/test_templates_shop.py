"""Shop templates: references pass, tasks are seeded and varied, held-out templates stay held out,
and wrong solutions (wrong item, skipped step, wrong value) fail their checks."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import TemplateError
from domplay.sites.app import SitesApp
from domplay.sites.shop import (
    Product,
    SearchQuery,
    ShopData,
    format_price,
    listing,
    search_products,
)
from domplay.tasks.audit import audit, replay
from domplay.tasks.propose import Proposal, TemplateProposer
from domplay.tasks.templates import all_templates
from domplay.tasks.templates import shop as S
from domplay.tasks.templates.base import Draft, Step, Template
from domplay.tasks.templates.materialize import resolve_step
from domplay.verify.verdict import Verdict, verify
from tests.tasks import template_suite as suite

MUTATION_SEEDS = (0, 1)
SITE_SEED = 0


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(seed=SITE_SEED, names=["shop"])


@pytest.fixture(scope="module")
def env(sites: SitesApp):
    e = DomEnv(DomEnvConfig(max_steps=100), sites=sites)
    yield e
    e.close()


@pytest.fixture(scope="module")
def data(sites: SitesApp) -> ShopData:
    return sites.sites["shop"].data


@pytest.fixture(scope="module")
def proposals(sites: SitesApp) -> dict[str, Proposal]:
    """SEEDS_PER_TEMPLATE tasks attempted per template (the proposer's own materialize + verify)."""
    return suite.propose_all(sites, S.TEMPLATES)


def test_template_set_shape():
    names = [c.name for c in S.TEMPLATES]
    assert len(names) >= 10 and len(set(names)) == len(names)
    assert all(c.site == "shop" and not c.needs_js for c in S.TEMPLATES)
    assert Counter(c.difficulty for c in S.TEMPLATES if c.heldout_only) == {"easy": 1, "medium": 1, "hard": 1}
    assert {c.difficulty for c in S.TEMPLATES if not c.heldout_only} == {"easy", "medium", "hard"}
    assert {c.name for c in S.TEMPLATES} <= {t.name for t in all_templates()}


@pytest.mark.parametrize("cls", S.TEMPLATES, ids=lambda c: c.name)
def test_references_pass_their_checks(cls: type[Template], proposals, sites, env):
    result = proposals[cls.name]
    for f in result.failures:
        print(f"FAIL {f.template} seed={f.seed}: {f.reason}")
    assert len(result.tasks) >= suite.MIN_SUCCESS_RATE * suite.SEEDS_PER_TEMPLATE, result.failures
    for task in result.tasks[:3]:  # the stored, id-based reference replays in a fresh episode
        assert task.site == "shop" and task.difficulty == cls.difficulty
        assert task.provenance.template == cls.name and task.reference
        assert replay(task, task.reference, env).success


@pytest.mark.parametrize("cls", S.TEMPLATES, ids=lambda c: c.name)
def test_seeded_and_varied(cls: type[Template], proposals, sites):
    tasks = proposals[cls.name].tasks
    again = TemplateProposer(SitesApp(seed=SITE_SEED, names=["shop"]), templates=[cls()])
    first = tasks[0]
    assert again.make_task(cls(), first.provenance.seed, first.provenance.split) == first
    assert len({t.intent for t in tasks}) >= 5, [t.intent for t in tasks]
    assert len({repr(t.provenance.extra["params"]) for t in tasks}) >= 3


@pytest.mark.parametrize("cls", S.TEMPLATES, ids=lambda c: c.name)
def test_at_least_three_phrasings(cls: type[Template], sites, monkeypatch):
    used, offered = suite.phrasings_used(cls, sites, "shop", monkeypatch)
    assert offered and min(offered) >= suite.MIN_PHRASINGS
    assert len(used) >= suite.MIN_PHRASINGS


def test_heldout_templates_never_in_train(sites):
    proposer = TemplateProposer(sites, templates=[c() for c in S.TEMPLATES])
    held = {c.name for c in S.TEMPLATES if c.heldout_only}
    train = proposer.propose(24, "train", seed=3)
    assert len(train.tasks) == 24 and not train.failures
    assert not held & {t.provenance.template for t in train.tasks}
    heldout = proposer.propose(24, "heldout", seed=3)
    assert held <= {t.provenance.template for t in heldout.tasks}
    assert not {t.provenance.seed for t in train.tasks} & {t.provenance.seed for t in heldout.tasks}
    proposer.close()


# -- mutated solutions fail ------------------------------------------------------------------


def run_plan(env: DomEnv, draft: Draft, plan: list[Step]) -> Verdict:
    """Play `plan` like an agent would: a step whose element is not on the page does nothing."""
    env.reset(options={"start_url": draft.start_url})
    for step in plan:
        try:
            action = resolve_step(step, env.observation)
        except TemplateError:
            continue
        env.step(action)
    return verify(draft.checks, env.snapshot())


def at(plan: list[Step], pred: Callable[[Step], bool]) -> int:
    return next(i for i, s in enumerate(plan) if pred(s))


def swap(plan: list[Step], i: int, *new: Step) -> list[Step]:
    return [*plan[:i], *new, *plan[i + 1 :]]


def answer_at(plan: list[Step]) -> int:
    return at(plan, lambda s: s.kind == "answer")


def other(items, key, value):
    """An item whose `key` differs from `value` (so a wrong choice really is wrong)."""
    return next(x for x in items if key(x) != value)


def bump(text: str, by: float) -> str:
    return str(round(float(text.replace("$", "").replace(",", "").split("/")[0]) + by, 2))


Mutations = dict[str, list[Step]]


def _product_answer_mutations(d: Draft, data: ShopData, value: Callable[[Product], str]) -> Mutations:
    p = data.product(d.params["product_id"])
    page = listing(data, _start_query(d)).items
    q = other(page, value, value(p))
    a = answer_at(d.plan)
    return {
        "wrong_item": swap(swap(d.plan, 0, Step.click(q.name)), a, Step.answer(value(q))),
        "skipped_step": d.plan[1:],
        "wrong_value": swap(d.plan, a, Step.answer(bump(d.plan[a].value, 1))),
    }


def _start_query(d: Draft) -> SearchQuery:
    if "/category/" in d.start_url:
        return SearchQuery(category=d.start_url.rsplit("/", 1)[1])
    return SearchQuery(brand=d.start_url.split("brand=", 1)[1])


def m_price(d, data):
    return _product_answer_mutations(d, data, lambda p: format_price(p.price_cents))


def m_stock(d, data):
    return _product_answer_mutations(d, data, lambda p: str(p.stock))


def m_reviews(d, data):
    return _product_answer_mutations(d, data, lambda p: str(len(p.reviews)))


def m_rating(d, data):
    p = data.product(d.params["product_id"])
    q = other(data.in_category(p.category), lambda x: x.rating, p.rating)
    cat = data.category(p.category).name
    return {
        "wrong_item": [Step.click(cat), Step.click(q.name), Step.answer(str(q.rating))],
        "skipped_step": [],
        "wrong_value": [Step.answer(bump(d.plan[0].value, 0.1))],
    }


def m_category(d, data):
    cat = other(data.categories, lambda c: c.slug, d.params["category"])
    return {"wrong_item": [Step.click(cat.name)], "skipped_step": []}


def m_search_count(d, data):
    a, n = answer_at(d.plan), int(d.plan[answer_at(d.plan)].value)
    return {
        "skipped_step": [s for s in d.plan if s.kind != "press"],
        "wrong_value": swap(d.plan, a, Step.answer(str(n + 1))),
        "wrong_item": swap(swap(d.plan, 0, Step.fill("Search products", "zzz")), a, Step.answer("0")),
    }


def m_extreme(d, data):
    flipped = "price_desc" if d.params["sort"] == "price_asc" else "price_asc"
    wrong = search_products(data, SearchQuery(category=d.params["category"], sort=flipped))[0]
    label = "Price: high to low" if flipped == "price_desc" else "Price: low to high"
    second = search_products(data, SearchQuery(category=d.params["category"], sort=d.params["sort"]))[1]
    a = answer_at(d.plan)
    return {
        "wrong_item": swap(swap(d.plan, 1, Step.select("Sort by", label)), a, Step.answer(wrong.name)),
        "skipped_step": swap(d.plan, 1),
        "wrong_value": swap(d.plan, a, Step.answer(second.name)),
    }


def m_add_variant(d, data):
    p = data.product(d.params["product_id"])
    page = listing(data, SearchQuery(category=p.category)).items
    q = other([x for x in page if x.stock >= 2], lambda x: x.id, p.id)
    qty_i = at(d.plan, lambda s: s.name == "Quantity")
    out = {
        "wrong_item": swap(d.plan, 0, Step.click(q.name)),
        "skipped_step": d.plan[:-1],
        "wrong_value": swap(d.plan, qty_i, Step.fill("Quantity", str(d.params["qty"] - 1))),
    }
    if len(p.colors) > 1 or p.sizes:
        out["wrong_option"] = _wrong_variant(d.plan, p, d.params["color"], d.params["size"])
    return out


def _wrong_variant(plan: list[Step], p: Product, color: str, size: str | None) -> list[Step]:
    if len(p.colors) > 1:
        new = Step.select("Colour", other(p.colors, str, color))
        i = next((i for i, s in enumerate(plan) if s.name == "Colour"), None)
    else:
        assert size is not None
        new = Step.select("Size", other(p.sizes, str, size))
        i = next((i for i, s in enumerate(plan) if s.name == "Size"), None)
    add = at(plan, lambda s: s.name == "Add to cart")
    return swap(plan, i, new) if i is not None else swap(plan, add, new, plan[add])


def m_top_rated(d, data):
    ranked = search_products(data, SearchQuery(q=d.params["q"], sort="rating"))
    cheap = search_products(data, SearchQuery(q=d.params["q"], sort="price_asc"))[0]
    a = answer_at(d.plan)
    wrong_brand = other(ranked, lambda p: p.brand, ranked[0].brand).brand
    return {
        "wrong_item": swap(swap(d.plan, 2, Step.select("Sort by", "Price: low to high")), a, Step.answer(cheap.brand)),
        "skipped_step": [s for s in d.plan if s.name != "Apply"],
        "wrong_value": swap(d.plan, a, Step.answer(wrong_brand)),
    }


def m_price_range(d, data):
    cat = other(data.categories, lambda c: c.slug, d.params["category"])
    a = answer_at(d.plan)
    return {
        "wrong_item": swap(d.plan, 0, Step.click(cat.name)),
        "skipped_step": [s for s in d.plan if s.name != "Max price ($)"],
        "wrong_value": swap(d.plan, a, Step.answer(bump(d.plan[a].value, 1))),
    }


def m_buy(d, data):
    p = data.product(d.params["product_id"])
    city = at(d.plan, lambda s: s.name == "City")
    if len(p.colors) == 1 and not p.sizes:  # no variant to get wrong: order another product instead
        wrong = [
            Step.click(data.category(p.category).name),
            Step.click(other(listing(data, SearchQuery(category=p.category)).items, lambda x: x.id, p.id).name),
            *d.plan,
        ]
    else:
        wrong = _wrong_variant(d.plan, p, d.params["color"], d.params["size"])
    return {
        "wrong_item": wrong,
        "skipped_step": [s for s in d.plan if s.name != "I accept the terms and conditions"],
        "wrong_value": swap(d.plan, city, Step.fill("City", d.plan[city].value + "ville")),
    }


def m_cheapest(d, data):
    best = data.product(d.params["cheapest_id"])
    worse = other([data.product(i) for i in d.params["product_ids"]], lambda p: p.id, best.id)
    click = at(d.plan, lambda s: s.name == best.name and s.kind == "click")
    redo = [Step.fill("Search", worse.name), Step.enter("Search"), Step.click(worse.name)]
    return {
        "wrong_item": swap(d.plan, click, *redo),
        "skipped_step": d.plan[:-1],
        "wrong_value": swap(d.plan, click - 2, Step.fill("Search", worse.name)),
    }


def m_two_products(d, data):
    update = at(d.plan, lambda s: s.name == "Update")
    fill = update - 1
    b = data.product(d.params["product_ids"][1])
    qty = str(d.params["qty"])
    b_line = Step("fill", role="textbox", name=f"Quantity of {b.name} (", value=qty, contains=True)
    return {
        "wrong_item": swap(swap(d.plan, update, Step.button("Update", nth=1)), fill, b_line),
        "skipped_step": swap(d.plan, update),
        "wrong_value": swap(d.plan, fill, replace(d.plan[fill], value=str(d.params["qty"] + 1))),
    }


def m_past_order(d, data):
    target = data.past_order(d.params["order_id"])
    wrong = other(data.past_orders, lambda o: o.total_cents, target.total_cents)
    a = answer_at(d.plan)
    return {
        "wrong_item": swap(swap(d.plan, a - 1, Step.click(wrong.id)), a, Step.answer(format_price(wrong.total_cents))),
        "skipped_step": swap(d.plan, a - 1),
        "wrong_value": swap(d.plan, a, Step.answer(bump(d.plan[a].value, 1))),
    }


MUTATORS: dict[str, Callable[[Draft, ShopData], Mutations]] = {
    "product_price": m_price,
    "product_stock": m_stock,
    "product_rating": m_rating,
    "open_category": m_category,
    "review_count": m_reviews,
    "search_count": m_search_count,
    "extreme_price_in_category": m_extreme,
    "add_variant_to_cart": m_add_variant,
    "top_rated_brand": m_top_rated,
    "price_range_count": m_price_range,
    "buy_variant": m_buy,
    "cheapest_of_three": m_cheapest,
    "two_products_change_qty": m_two_products,
    "past_order_total": m_past_order,
}


@pytest.mark.parametrize("cls", S.TEMPLATES, ids=lambda c: c.name)
def test_mutated_solutions_fail(cls: type[Template], sites, env, data):
    for seed in MUTATION_SEEDS:
        d = cls().draft(sites.sites["shop"], random.Random(seed))
        assert d is not None
        assert run_plan(env, d, d.plan).success  # the runner itself lets a right plan pass
        mutants = MUTATORS[cls.name](d, data)
        assert "wrong_item" in mutants and len(mutants) >= 2
        for kind, plan in mutants.items():
            verdict = run_plan(env, d, plan)
            assert not verdict.success, f"{cls.name} seed {seed}: {kind} mutant passed: {plan}"


# Templates where every reference step is needed (no exploration steps an agent may vary):
# the shared audit's random mutants must all fail there.
EVERY_STEP_NEEDED = (
    "product_price",
    "product_stock",
    "product_rating",
    "open_category",
    "review_count",
    "search_count",
    "extreme_price_in_category",
    "add_variant_to_cart",
    "top_rated_brand",
    "price_range_count",
    "buy_variant",
)


def test_audit_mutants_are_killed(proposals, env):
    tasks = [t for name in EVERY_STEP_NEEDED for t in proposals[name].tasks[:3]]
    report = audit(tasks, env, seed=1)
    assert report.reference_pass_rate == 1.0, report.reference_failures
    assert not report.survivors, report.survivors
    assert sum(report.mutants.values()) >= 2 * len(tasks)


SEARCH_BOXES = frozenset({"Search products", "Search"})
EXPLORING = ("cheapest_of_three", "two_products_change_qty", "past_order_total")
EXPLORING_UNTIL_LAST_LINK = ("cheapest_of_three", "past_order_total")
"""Every step before the final link click only looks around (the click picks the target)."""


def test_audit_survivors_only_change_exploration(proposals, sites, env):
    """Where a plan explores (searches to compare prices, opens orders to look inside), a mutant
    of an exploring step may still succeed; a mutant of the decisive steps must not."""
    tasks = [t for name in EXPLORING for t in proposals[name].tasks[:4]]
    report = audit(tasks, env, seed=1)
    assert report.reference_pass_rate == 1.0, report.reference_failures
    by_name = {c.name: c for c in S.TEMPLATES}
    for task_id, kind, mutant in report.survivors:
        task = next(t for t in tasks if t.id == task_id)
        draft = by_name[task.provenance.template]().draft(sites.sites["shop"], random.Random(task.provenance.seed))
        i = suite.mutated_index(task.reference, mutant)
        step = draft.plan[i]
        decisive = max(j for j, s in enumerate(draft.plan) if s.kind == "click" and s.role == "link")
        exploring = (task.provenance.template in EXPLORING_UNTIL_LAST_LINK and i < decisive) or (
            step.kind in ("fill", "press") and step.name in SEARCH_BOXES
        )
        assert exploring, f"{task_id}: {kind} mutant of step {i} {step} passed: {mutant}"
