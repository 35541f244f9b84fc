"""The `code` check: a Python function of the Snapshot, written by a person or a model.

The code never runs in this process: it is validated (AST allowlist) when the check is
built and executed by the sandbox (`domplay.verify.sandbox`), which receives the snapshot
as plain JSON data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from domplay.errors import SandboxError
from domplay.verify.base import CheckBase, CheckContext, CheckResult
from domplay.verify.snapshot import Snapshot


class CodeCheck(CheckBase):
    """`code` defines `def check(snapshot)` returning a bool, a score in [0, 1], or
    (score, reason); it passes when the score is >= `threshold`. `snapshot` is the
    Snapshot as a dict (`snapshot["html"]`, `snapshot["state"]["shop"]`, ...) and the code
    may call `query(html, css)` (see `domplay.verify.sandbox`)."""

    kind: Literal["code"] = "code"
    code: str = Field(min_length=1)
    threshold: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("code")
    @classmethod
    def _valid_code(cls, v: str) -> str:
        from domplay.verify.sandbox import validate_code  # lazy: only code checks need the sandbox

        try:
            validate_code(v)
        except SandboxError as exc:
            raise ValueError(str(exc)) from None
        return v

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        out = ctx.require_sandbox().run_check(self.code, ctx.snapshot_json())
        if not out.ok or out.score is None:
            return CheckResult(
                kind=self.kind,
                score=0.0,
                passed=False,
                reason=f"code check did not run to the end: {out.reason}",
                error=f"{out.error}: {out.reason}",
            )
        score = min(1.0, max(0.0, float(out.score)))
        reason = out.reason or f"check() returned score {score:.2f}"
        return self.result(score >= self.threshold, f"{reason} (threshold {self.threshold:.2f})", score)
