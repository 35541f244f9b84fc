"""Admin templates: references pass, tasks are seeded and varied, held-out templates stay held
out, and wrong solutions (wrong item, skipped step, wrong value) fail their checks."""

from __future__ import annotations

from collections import Counter

import pytest

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.sites.admin import rules
from domplay.sites.app import SitesApp
from domplay.tasks.audit import replay
from domplay.tasks.propose import Proposal, TemplateProposer
from domplay.tasks.templates import admin as A
from domplay.tasks.templates import all_templates
from domplay.tasks.templates.base import Template
from domplay.verify.verdict import verify
from tests.tasks import template_suite as suite

SITE = "admin"
SITE_SEED = 0
SEARCH_BOXES = frozenset({"Search"})
NAV_LINKS = frozenset({"Tickets", "Customers"})
MIN_KILL_RATE = 0.85
"""Per mutation kind over all admin tasks. Below 1.0 only because of harmless survivors: a
shortened customer name still finds the customer, and a dashboard figure links to the same
ticket list as the "Tickets" nav link."""


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(seed=SITE_SEED, names=[SITE])


@pytest.fixture(scope="module")
def env(sites: SitesApp):
    e = DomEnv(DomEnvConfig(max_steps=100), sites=sites)
    yield e
    e.close()


@pytest.fixture(scope="module")
def proposals(sites: SitesApp) -> dict[str, Proposal]:
    return suite.propose_all(sites, A.TEMPLATES)


def test_template_set_shape():
    names = [c.name for c in A.TEMPLATES]
    assert len(names) >= 7 and len(set(names)) == len(names)
    assert all(c.site == SITE and not c.needs_js for c in A.TEMPLATES)
    held = [c.difficulty for c in A.TEMPLATES if c.heldout_only]
    assert len(held) == 2 and len(set(held)) == 2
    assert {c.difficulty for c in A.TEMPLATES if not c.heldout_only} == {"easy", "medium", "hard"}
    assert {c.name for c in A.TEMPLATES} <= {t.name for t in all_templates()}


@pytest.mark.parametrize("cls", A.TEMPLATES, ids=lambda c: c.name)
def test_references_pass_their_checks(cls: type[Template], proposals, env, sites):
    result = proposals[cls.name]
    assert not result.failures, [f.reason for f in result.failures]
    assert len(result.tasks) >= suite.MIN_SUCCESS_RATE * suite.SEEDS_PER_TEMPLATE
    password = sites.sites[SITE].data.admin.password
    for task in result.tasks[:2]:  # the stored id-based reference replays in a fresh episode
        assert task.site == SITE and task.difficulty == cls.difficulty and task.reference
        assert task.provenance.template == cls.name and password in task.intent
        assert replay(task, task.reference, env).success


@pytest.mark.parametrize("cls", A.TEMPLATES, ids=lambda c: c.name)
def test_seeded_and_varied(cls: type[Template], proposals):
    tasks = proposals[cls.name].tasks
    again = TemplateProposer(SitesApp(seed=SITE_SEED, names=[SITE]), templates=[cls()])
    first = tasks[0]
    assert again.make_task(cls(), first.provenance.seed, first.provenance.split) == first
    distinct = len({t.intent for t in tasks})
    assert distinct >= suite.MIN_DISTINCT_INTENT_SHARE * len(tasks), [t.intent for t in tasks]


@pytest.mark.parametrize("cls", A.TEMPLATES, ids=lambda c: c.name)
def test_at_least_three_phrasings(cls: type[Template], sites, monkeypatch):
    used, offered = suite.phrasings_used(cls, sites, SITE, monkeypatch)
    assert offered and min(offered) >= suite.MIN_PHRASINGS
    assert len(used) >= suite.MIN_PHRASINGS


def test_ground_truth_follows_the_site_rules(proposals, sites):
    data = sites.sites[SITE].data
    for task in proposals["admin_ticket_count"].tasks:
        p = task.provenance.extra["params"]
        flt = rules.TicketFilter(status=p["status"], priority=p["priority"], assignee=p["assignee"])
        assert p["count"] == len(rules.filter_tickets(data, flt))
    for task in proposals["admin_bulk_close"].tasks:
        p = task.provenance.extra["params"]
        flt = rules.TicketFilter(status="open", priority=p["priority"], assignee=p["assignee"])
        assert p["ticket_ids"] == [t.id for t in rules.filter_tickets(data, flt)]


def test_edit_is_checked_exactly(proposals, env):
    """Saving the customer form without the requested changes, or with one more, fails."""
    task = proposals["admin_edit_customer"].tasks[0]
    assert task.reference is not None
    save = task.reference[-1]
    login_find_open = 8  # 3 login steps, 3 to search the customer, open the record, open the form
    assert not replay(task, task.reference[:login_find_open] + [save], env).success
    assert replay(task, task.reference, env).success
    env.reset(options={"start_url": task.start_url})
    for action in task.reference[:-1]:
        env.step(action)
    name = next(e for e in env.observation.elements if e.role == "textbox" and e.name == "Name")
    env.step(f'fill({name.id}, "Someone Else")')
    env.step(save)
    assert not verify(task.checks, env.snapshot()).success


def test_heldout_templates_never_in_train(sites):
    proposer = TemplateProposer(sites, templates=[c() for c in A.TEMPLATES])
    held = {c.name for c in A.TEMPLATES if c.heldout_only}
    train = proposer.propose(12, "train", seed=2)
    assert len(train.tasks) == 12 and not train.failures
    assert not held & {t.provenance.template for t in train.tasks}
    heldout = proposer.propose(12, "heldout", seed=2)
    assert held <= {t.provenance.template for t in heldout.tasks}
    proposer.close()


def test_mutated_solutions_fail(proposals, sites, env):
    tasks = [t for r in proposals.values() for t in r.tasks]
    judged = suite.judge_audit(tasks, env, sites, A.TEMPLATES, SEARCH_BOXES, NAV_LINKS)
    report = judged.report
    assert report.reference_pass_rate == 1.0, report.reference_failures
    assert not judged.harmful, judged.harmful
    for kind in ("wrong_item", "skipped_step", "wrong_value"):
        assert report.mutants[kind] >= len(tasks) // 2, report.summary()
        assert report.kill_rate(kind) >= MIN_KILL_RATE, (kind, report.summary(), judged.harmless)
    print(report.summary(), Counter(k for _, k, _ in judged.harmless))
