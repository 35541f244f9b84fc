"""A task's verdict: all required checks pass (success) plus partial credit (score).

A check that crashes or cannot be evaluated makes an *error verdict*: `success` is False
and `error` says which check and why, so callers never mistake a broken check for a
failed (or passed) episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from domplay.errors import CheckError, DomplayError
from domplay.verify.base import CheckBase, CheckContext, CheckResult
from domplay.verify.snapshot import Snapshot

if TYPE_CHECKING:
    from domplay.verify.sandbox import Sandbox

VERIFIER_VERSION = 1
"""Bumped whenever a check's semantics change, so stored verdicts can be recomputed."""


class Verdict(BaseModel):
    """The outcome of verifying one snapshot against a task's checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    success: bool
    """All required checks passed and none errored."""
    score: float = Field(ge=0.0, le=1.0)
    """Weighted mean of the check scores (errored checks count 0)."""
    results: tuple[CheckResult, ...]
    error: str | None = None
    """Set when any check errored; such a verdict is neither a success nor a plain failure."""
    verifier_version: int = VERIFIER_VERSION


def verify(checks: Sequence[CheckBase], snapshot: Snapshot, sandbox: Sandbox | None = None) -> Verdict:
    """Evaluate every check on `snapshot` (final page parsed once, selector results shared).

    `code` checks need a sandbox; when none is given and the task has code checks, a
    temporary one is started and shut down here (pass one to reuse its workers).
    """
    if not checks:
        raise CheckError("no checks to verify; a task needs at least one check")
    owned = None
    if sandbox is None and any(getattr(c, "kind", None) == "code" for c in checks):
        from domplay.verify.sandbox import Sandbox  # lazy: only code checks need it

        owned = sandbox = Sandbox()
    try:
        ctx = CheckContext(snapshot, sandbox)
        results = tuple(_evaluate(check, snapshot, ctx) for check in checks)
    finally:
        if owned is not None:
            owned.close()
    return combine(checks, results)


def _evaluate(check: CheckBase, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
    kind = getattr(check, "kind", type(check).__name__)
    try:
        return check.evaluate(snapshot, ctx)
    except DomplayError as exc:
        return CheckResult(
            kind=kind, score=0.0, passed=False, reason=f"{kind} check errored", error=f"{type(exc).__name__}: {exc}"
        )
    except Exception as exc:  # noqa: BLE001 — a crashed check must become an error verdict, never a pass
        return CheckResult(
            kind=kind, score=0.0, passed=False, reason=f"{kind} check crashed", error=f"{type(exc).__name__}: {exc}"
        )


def combine(checks: Sequence[CheckBase], results: Sequence[CheckResult]) -> Verdict:
    """The verdict of `results` (one per check, in order)."""
    errors = [f"check #{i} ({r.kind}): {r.error}" for i, r in enumerate(results) if r.error is not None]
    success = not errors and all(r.passed for c, r in zip(checks, results, strict=True) if c.required)
    total = sum(c.weight for c in checks)
    if total > 0:
        score = sum(c.weight * r.score for c, r in zip(checks, results, strict=True)) / total
    else:  # all weights 0: plain mean
        score = sum(r.score for r in results) / len(results)
    return Verdict(
        success=success,
        score=min(1.0, max(0.0, score)),
        results=tuple(results),
        error="; ".join(errors) if errors else None,
    )
