"""Verification: checks read a Snapshot (final page, answer, action log, backend state)."""

from domplay.verify.checks import Check, CheckResult
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import Verdict, verify

__all__ = ["Check", "CheckResult", "Snapshot", "Verdict", "verify"]
