"""Widgets templates (JavaScript pages) in real Chromium: the proposer makes tasks through a
BrowserEnv, references pass, ground truth follows the widgets' rules, the same seed gives the
same task, the held-out template stays held out, and wrong solutions fail their checks."""

from __future__ import annotations

import random
from datetime import date

import pytest

from domplay.env.browser import BrowserEnv, BrowserEnvConfig
from domplay.sites.app import SitesApp
from domplay.sites.server import SiteServer
from domplay.sites.widgets import data as D
from domplay.tasks.audit import MUTATION_KINDS, audit, replay
from domplay.tasks.propose import Proposal, TemplateProposer
from domplay.tasks.templates import all_templates
from domplay.tasks.templates import widgets as W
from domplay.tasks.templates.base import Template
from tests.env.browser_support import needs_chromium
from tests.tasks import template_suite as suite

pytestmark = [pytest.mark.browser, needs_chromium]

SITE = "widgets"
SITE_SEED = 0
SEEDS_PER_TEMPLATE = 10
AUDITED_PER_TEMPLATE = 5
"""Tasks per template whose mutants are replayed (each costs about eight browser episodes)."""
MAX_STEPS = 100
MIN_DISTINCT_INTENTS = 5
"""The tab questions draw from 3 facts x 3 phrasings of one seeded product: small, but not one."""


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(seed=SITE_SEED, names=[SITE])


@pytest.fixture(scope="module")
def env(sites: SitesApp):
    """One BrowserEnv (one browser context) for the whole module, pages served on 127.0.0.1."""
    with SiteServer(sites) as server:
        e = BrowserEnv(BrowserEnvConfig(base_url=server.base_url, max_steps=MAX_STEPS), sites=sites)
        yield e
        e.close()


@pytest.fixture(scope="module")
def proposer(sites: SitesApp, env: BrowserEnv) -> TemplateProposer:
    """A proposer whose env_factory gives the BrowserEnv to JavaScript templates (and nothing else:
    every widgets template needs JavaScript). Not closed here: `env` owns the browser context."""
    return TemplateProposer(
        sites, templates=[c() for c in W.TEMPLATES], env_factory=lambda needs_js: env if needs_js else None
    )


@pytest.fixture(scope="module")
def proposals(proposer: TemplateProposer) -> dict[str, Proposal]:
    out = {}
    for cls in W.TEMPLATES:
        result = Proposal()
        split = "heldout" if cls.heldout_only else "train"
        for seed in range(SEEDS_PER_TEMPLATE):
            task = proposer.make_task(cls(), seed, split, result)
            if task is not None:
                result.tasks.append(task)
        out[cls.name] = result
    return out


def test_template_set_shape():
    names = [c.name for c in W.TEMPLATES]
    assert 3 <= len(names) <= 5 and len(set(names)) == len(names)
    assert all(c.site == SITE and c.needs_js for c in W.TEMPLATES)
    assert [c.name for c in W.TEMPLATES if c.heldout_only] == ["widgets_delivery_date"]
    assert set(names) <= {t.name for t in all_templates()}


def test_js_templates_are_skipped_without_a_browser(sites: SitesApp):
    """The default proposer only makes DomEnvs, which cannot run these pages."""
    default = TemplateProposer(sites, templates=[c() for c in W.TEMPLATES])
    assert default.eligible("train") == [] and default.eligible("heldout") == []
    default.close()


@pytest.mark.parametrize("cls", W.TEMPLATES, ids=lambda c: c.name)
def test_references_pass_their_checks(cls: type[Template], proposals, env):
    result = proposals[cls.name]
    assert not result.failures, [f.reason for f in result.failures]
    assert len(result.tasks) >= suite.MIN_SUCCESS_RATE * SEEDS_PER_TEMPLATE
    for task in result.tasks[:2]:  # the stored id-based reference replays in a fresh episode
        assert task.site == SITE and task.difficulty == cls.difficulty and task.reference
        assert task.provenance.template == cls.name
        assert task.provenance.extra["heldout_template"] == cls.heldout_only
        assert replay(task, task.reference, env).success


@pytest.mark.parametrize("cls", W.TEMPLATES, ids=lambda c: c.name)
def test_seeded_and_varied(cls: type[Template], proposals, proposer):
    tasks = proposals[cls.name].tasks
    first = tasks[0]
    assert proposer.make_task(cls(), first.provenance.seed, first.provenance.split) == first
    again = cls().draft(SitesApp(seed=SITE_SEED, names=[SITE]).sites[SITE], random.Random(first.provenance.seed))
    assert again is not None and again.intent == first.intent
    assert len({t.intent for t in tasks}) >= min(MIN_DISTINCT_INTENTS, len(tasks)), [t.intent for t in tasks]


@pytest.mark.parametrize("cls", W.TEMPLATES, ids=lambda c: c.name)
def test_at_least_three_phrasings(cls: type[Template], sites, monkeypatch):
    used, offered = suite.phrasings_used(cls, sites, SITE, monkeypatch)
    assert offered and min(offered) >= suite.MIN_PHRASINGS
    assert len(used) >= suite.MIN_PHRASINGS


def test_ground_truth_follows_the_site_rules(proposals, sites):
    data: D.WidgetsData = sites.sites[SITE].data
    for task in proposals["widgets_tab_fact"].tasks:
        p = task.provenance.extra["params"]
        tab = data.tab(p["tab"])
        assert tab is not None and tab.key != data.tabs[0].key and p["value"] in tab.body
    for task in proposals["widgets_pick_city"].tasks:
        p = task.provenance.extra["params"]
        found = D.suggest_cities(data.cities, p["prefix"])
        assert p["city"] in found and len(found) >= W.MIN_SUGGESTIONS and p["prefix"] != p["city"]
    for task in proposals["widgets_delivery_date"].tasks:
        assert D.date_allowed(date.fromisoformat(task.provenance.extra["params"]["date"]), data)
    assert any(t.provenance.extra["params"]["months_ahead"] > 0 for t in proposals["widgets_delivery_date"].tasks)


def test_answer_without_opening_the_tab_fails(proposals, env):
    task = proposals["widgets_tab_fact"].tasks[0]
    answer = task.reference[-1]
    assert not replay(task, [answer], env).success
    assert replay(task, task.reference, env).success


def test_heldout_template_stays_held_out(proposer):
    train = proposer.propose(6, "train", seed=3)
    assert len(train.tasks) == 6 and not train.failures, [f.reason for f in train.failures]
    assert "widgets_delivery_date" not in {t.provenance.template for t in train.tasks}
    heldout = proposer.propose(8, "heldout", seed=3)
    assert not heldout.failures, [f.reason for f in heldout.failures]
    assert "widgets_delivery_date" in {t.provenance.template for t in heldout.tasks}
    assert all(t.provenance.seed >= 1_000_000_000 for t in heldout.tasks)


def test_mutated_solutions_fail(proposals, env):
    tasks = [t for r in proposals.values() for t in r.tasks[:AUDITED_PER_TEMPLATE]]
    report = audit(tasks, env, seed=1, kinds=MUTATION_KINDS)
    assert report.reference_pass_rate == 1.0, report.reference_failures
    assert not report.survivors, report.survivors
    for kind in MUTATION_KINDS:
        assert report.mutants[kind] >= len(tasks) // 2, report.summary()
    print(report.summary())
