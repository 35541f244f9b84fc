"""Each filter's accept and reject cases, with written model outputs replayed (tests/autoif/writer.py)."""

from __future__ import annotations

import pytest

from domplay.autoif.config import AutoIFConfig
from domplay.autoif.filters import majority_agreement
from domplay.autoif.proposer import AutoIFProposer
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.sites.app import SitesApp
from domplay.tasks.sources import Proposal
from domplay.verify.sandbox import Sandbox
from tests.autoif.writer import Writer, code_block, draft

PAGE = "/shop/category/kitchen"
INTENT = "Open the Rustic Cast Iron French Press and tell me its price."
PRICE_CHECK = """
def check(snapshot):
    on_page = snapshot["url"].endswith("/shop/product/158")
    return on_page and (snapshot["answer"] or "").replace("$", "").strip() == "111.95"
"""
OTHER_PRICE_CHECK = """
def check(snapshot):
    return "111.95" in (snapshot.get("answer") or "") and "/product/158" in snapshot["url"]
"""
PASS = 'click("Rustic Cast Iron French Press"); answer("$111.95")'
FAIL = 'click("Rustic Cast Iron French Press")'


@pytest.fixture(scope="module")
def world():
    sites = SitesApp(seed=0, names=("shop",))
    with EnvFactory(EnvSettings(), sites) as make, Sandbox(workers=1) as sandbox:
        yield make(), sandbox


def propose(world, writer: Writer, **config) -> tuple[Proposal, AutoIFProposer]:
    env, sandbox = world
    cfg = AutoIFConfig(drafts_per_page=1, random_walks=2, **config)
    proposer = AutoIFProposer(env, writer.model(), cfg, [PAGE], site_of=lambda u: "shop", sandbox=sandbox)
    return proposer.propose(3, "train", seed=1), proposer


def rejected(proposal: Proposal) -> list[str]:
    return [k.removeprefix("rejected_") for k, v in proposal.stats.items() if k.startswith("rejected_") and v]


def good(**kw) -> Writer:
    args = {"draft": draft(INTENT, PRICE_CHECK, [PASS], [FAIL, ""]), "checks": [code_block(OTHER_PRICE_CHECK)]}
    return Writer(**{**args, **kw})


def test_a_good_draft_passes_all_four_filters_and_becomes_a_task(world):
    writer = good()
    proposal, _ = propose(world, writer)
    assert [t.intent for t in proposal.tasks] == [INTENT]
    task = proposal.tasks[0]
    assert task.reference == ['click("Rustic Cast Iron French Press")', 'answer("$111.95")']
    assert task.checks[0].kind == "code" and task.provenance.proposer == "autoif"
    assert task.provenance.extra["agreement"] == 1.0 and task.provenance.extra["backtranslation"] == 0.9
    for name in ("execution", "cross_validation", "backtranslation", "feasibility"):
        assert proposal.stats[f"{name}_passed"] == 1
    assert proposal.stats["kept"] == 1 and not proposal.failures
    assert writer.asked.count("check") == AutoIFConfig().independent_checks  # independent checks, one call


@pytest.mark.parametrize(
    "code, reason",
    [
        ("def check(snapshot)\n    return True", "execution_code_refused_by_the_sandbox's_validation"),
        (
            "import os\ndef check(snapshot):\n    return os.system('ls') == 0",
            "execution_code_refused_by_the_sandbox's_validation",
        ),
        (
            "def check(snapshot):\n    return ().__class__.__bases__[0]",
            "execution_code_refused_by_the_sandbox's_validation",
        ),
        (
            "def check(snapshot):\n    return open('/etc/passwd').read() != ''",
            "execution_code_refused_by_the_sandbox's_validation",
        ),
        ("def check(snapshot):\n    return 1 / 0", "execution_the_check_errors"),
        ("def check(snapshot):\n    while True:\n        pass", "execution_the_check_errors"),
        ("def check(snapshot):\n    return snapshot['answer'] == '42'", "execution_a_PASS_path_fails_the_check"),
        (
            "def check(snapshot):\n    return '/product/158' in snapshot['url']",
            "execution_a_FAIL_path_passes_the_check",
        ),
    ],
    ids=["syntax", "import-os", "dunder-escape", "open-file", "crash", "endless", "pass-fails", "fail-passes"],
)
def test_execution_rejects_bad_code_and_failed_tests(world, code, reason):
    proposal, _ = propose(world, good(draft=draft(INTENT, code, [PASS], [FAIL])))
    assert not proposal.tasks
    assert rejected(proposal) == [reason]
    assert proposal.stats["execution_rejected"] == 1 and proposal.stats["execution_passed"] == 0


def test_a_pass_path_that_does_not_run_rejects_the_draft(world):
    proposal, _ = propose(world, good(draft=draft(INTENT, PRICE_CHECK, ['click("No such product")'])))
    assert rejected(proposal) == ["execution_a_PASS_path_does_not_run"]


def test_garbage_replies_are_counted_never_raised(world):
    proposal, _ = propose(world, good(draft="I cannot help with that."))
    assert not proposal.tasks and proposal.stats["unreadable"] == 1
    assert proposal.failures[0].reason == "unreadable: no INTENT: line"


def test_cross_validation_rejects_a_check_the_independent_ones_contradict(world):
    other_product = "def check(snapshot):\n    return '90.50' in (snapshot['answer'] or '')"  # the Bistro press
    proposal, _ = propose(world, good(checks=[code_block(other_product)]))
    assert rejected(proposal) == ["cross_validation_independent_checks_disagree"]


def test_cross_validation_needs_independent_checks_that_run(world):
    crashing = "def check(snapshot):\n    return snapshot['missing']"
    proposal, _ = propose(world, good(checks=["no code at all", code_block(crashing), code_block("import os")]))
    assert rejected(proposal) == ["cross_validation_too_few_independent_checks_run"]


def test_agreement_counts_only_episodes_some_check_passes():
    mine = {"a": True, "b": False, "c": False, "d": False, "e": False}
    loose = {"a": True, "b": True, "c": False, "d": False, "e": False}
    assert majority_agreement(mine, [loose]) == 0.5  # over a and b; plain agreement would be 0.8
    assert majority_agreement(mine, [dict(mine), dict(mine), loose]) == 1.0  # the majority says b fails
    assert majority_agreement(mine, [dict(mine), loose]) == 1.0  # a tie agrees


def test_cross_validation_runs_near_misses_of_the_pass_path(world):
    qty_check = "def check(snapshot):\n    return any(i['qty'] == 2 for i in snapshot['state']['shop']['cart'])"
    any_qty = "def check(snapshot):\n    return len(snapshot['state']['shop']['cart']) > 0"
    path = 'click("Rustic Cast Iron French Press"); fill("Quantity", "2"); click("Add to cart")'
    writer = good(draft=draft("Put 2 Rustic Cast Iron French Press in the cart.", any_qty, [path], [""]))
    writer.checks = [code_block(qty_check)]
    proposal, _ = propose(world, writer)  # the mutant with quantity 3 passes the loose draft only
    assert rejected(proposal) == ["cross_validation_independent_checks_disagree"]


def test_backtranslation_rejects_a_check_that_verifies_another_task(world):
    writer = good(backtranslation="INTENT: Add the kettle to the cart.", judge="SCORE: 2")
    proposal, _ = propose(world, writer)
    assert rejected(proposal) == ["backtranslation_the_intent_written_from_the_check_differs"]
    proposal, _ = propose(world, good(judge="they look alike"))
    assert rejected(proposal) == ["backtranslation_no_intent_or_no_score"]


def test_feasibility_rejects_an_always_true_check(world):
    always = "def check(snapshot):\n    return True"
    proposal, _ = propose(world, good(draft=draft(INTENT, always, [PASS]), checks=[code_block(always)]))
    assert rejected(proposal) == ["feasibility_true_on_the_start_page"]


def test_feasibility_rejects_a_check_that_ignores_the_answer(world):
    any_answer = "def check(snapshot):\n    return snapshot['answer'] is not None and '/product/158' in snapshot['url']"
    proposal, _ = propose(world, good(draft=draft(INTENT, any_answer, [PASS], [FAIL]), checks=[code_block(any_answer)]))
    assert rejected(proposal) == ["feasibility_an_altered_path_passes_too"]


def test_feasibility_rejects_a_blind_spot_every_check_shares(world):
    """The intent asks for a sort; neither the draft's check nor the independent one looks at it,
    so cross-validation agrees. The PASS path still passes with the sort dropped: refused."""
    intent = (
        "Sort the Kitchen category by price from high to low, then open the Rustic Cast Iron French Press: its price?"
    )
    sorted_pass = 'select("Sort by", "Price: high to low"); click("Apply"); ' + PASS
    writer = good(draft=draft(intent, PRICE_CHECK, [sorted_pass], [FAIL]))
    proposal, _ = propose(world, writer)
    assert rejected(proposal) == ["feasibility_passes_with_a_step_of_its_PASS_path_dropped"]
    assert proposal.stats["cross_validation_passed"] == 1  # the shared blind spot got through
    proposal, _ = propose(
        world, good(draft=draft(intent, PRICE_CHECK, [sorted_pass], [FAIL])), every_pass_step_matters=False
    )
    assert [t.reference for t in proposal.tasks] == [['click("Rustic Cast Iron French Press")', 'answer("$111.95")']]


def test_a_given_intent_is_kept_and_duplicates_are_skipped(world):
    proposal, proposer = propose(world, good())
    assert proposal.tasks
    again = proposer.propose(3, "train", seed=2)  # the same intent again: counted as a duplicate
    assert not again.tasks and again.stats["duplicates"] == 1
