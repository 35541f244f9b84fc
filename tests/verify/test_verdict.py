"""Verdicts: all-required success, weighted partial credit, error verdicts, code checks in the sandbox."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import ValidationError

from domplay.errors import CheckError
from domplay.verify.base import CheckBase, CheckContext, CheckResult
from domplay.verify.checks import CHECK_ADAPTER
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import VERIFIER_VERSION, Verdict, verify
from tests.verify.pages import make_snapshot


def checks(*specs: dict):
    return [CHECK_ADAPTER.validate_python(s) for s in specs]


PASSES = {"kind": "element_present", "css": "p.msg"}
FAILS = {"kind": "element_present", "css": "p.error"}


class Crashing(CheckBase):
    """A check with a bug in it (stands for any check kind that raises)."""

    kind: Literal["crashing"] = "crashing"

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        return {}["missing"]


def test_success_needs_every_required_check():
    v = verify(checks(PASSES, {"kind": "url", "expected": "/shop/?page=1"}), make_snapshot())
    assert v.success and v.score == 1.0 and v.error is None and v.verifier_version == VERIFIER_VERSION
    v = verify(checks(PASSES, FAILS), make_snapshot())
    assert not v.success and v.score == 0.5 and [r.passed for r in v.results] == [True, False]


def test_optional_checks_give_partial_credit_only():
    v = verify(checks(PASSES, {**FAILS, "required": False, "weight": 3.0}), make_snapshot())
    assert v.success and v.score == pytest.approx(1 / 4)


def test_weighted_mean_uses_graded_scores():
    graded = {"kind": "content", "css": "p.msg", "expected": "added blue shirt", "mode": "token_f1", "weight": 2.0}
    v = verify(checks(graded, FAILS), make_snapshot())
    f1 = v.results[0].score
    assert 0 < f1 < 1 and v.score == pytest.approx(2 * f1 / 3)


def test_crashed_check_gives_error_verdict_never_a_pass():
    v = verify([*checks(PASSES), Crashing(required=False)], make_snapshot())
    assert not v.success and v.error is not None
    assert "check #1 (crashing)" in v.error and "KeyError" in v.error
    assert v.results[1].error is not None and not v.results[1].passed and v.results[0].passed


def test_checks_built_without_validation_still_error_cleanly():
    bad = CHECK_ADAPTER.validate_python(PASSES).model_copy(update={"css": "p[[["})
    v = verify([bad], make_snapshot())
    assert not v.success and "invalid CSS selector" in (v.error or "")


def test_no_checks_is_a_caller_error():
    with pytest.raises(CheckError, match="at least one check"):
        verify([], make_snapshot())


def test_verdict_round_trips_and_is_frozen():
    v = verify(checks(PASSES, FAILS), make_snapshot())
    assert Verdict.model_validate_json(v.model_dump_json()) == v
    with pytest.raises(ValidationError):
        v.success = True  # type: ignore[misc]


def test_selector_results_are_shared_between_checks():
    snap = make_snapshot()
    ctx = CheckContext(snap)
    assert ctx.select("li") is ctx.select("li") and len(ctx.select("li")) == 2
    assert ctx.final_page is ctx.final_page


# --- code checks (real sandbox) -------------------------------------------------------------

CODE_OK = """
def check(snapshot):
    items = query(snapshot["html"], "li.product")
    return len(items) == 2, f"{len(items)} products"
"""
CODE_PARTIAL = """
def check(snapshot):
    return 0.5
"""
CODE_CRASH = """
def check(snapshot):
    return snapshot["nope"]
"""


@pytest.fixture(scope="module")
def sandbox():
    from domplay.verify.sandbox import Sandbox

    with Sandbox(workers=1) as sb:
        yield sb


def test_code_checks_run_in_the_sandbox(sandbox):
    v = verify(
        checks({"kind": "code", "code": CODE_OK}, {"kind": "code", "code": CODE_PARTIAL, "required": False}),
        make_snapshot(),
        sandbox=sandbox,
    )
    assert v.success and v.results[0].reason.startswith("2 products") and v.results[1].score == 0.5
    assert v.score == pytest.approx(0.75)


def test_crashing_code_gives_error_verdict(sandbox):
    v = verify(checks(PASSES, {"kind": "code", "code": CODE_CRASH}), make_snapshot(), sandbox=sandbox)
    assert not v.success and v.error is not None and "KeyError" in v.results[1].reason


CODE_SEGFAULT = """
def check(snapshot):
    it = iter([])
    for _ in range(10 ** 6):
        it = map(len, it)
    return next(it, True)
"""


def test_a_worker_crash_gives_an_error_verdict(sandbox):
    # The nested iterators overflow the C stack: the worker dies of SIGSEGV (CPython 3.11).
    v = verify(checks(PASSES, {"kind": "code", "code": CODE_SEGFAULT}), make_snapshot(), sandbox=sandbox)
    assert not v.success and v.results[1].score == 0.0, v
    assert v.error is not None and "worker_died" in v.error and "SIGSEGV" in v.error, v
    assert verify(checks({"kind": "code", "code": CODE_OK}), make_snapshot(), sandbox=sandbox).success


def test_code_is_validated_when_the_check_is_built():
    with pytest.raises(ValidationError):
        CHECK_ADAPTER.validate_python({"kind": "code", "code": "import os\ndef check(s):\n    return True\n"})


def test_verify_starts_a_sandbox_when_none_is_given():
    v = verify(checks({"kind": "code", "code": CODE_OK}), make_snapshot())
    assert v.success, v
