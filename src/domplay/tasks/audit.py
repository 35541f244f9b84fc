"""Audit a task set: do reference solutions pass, and do wrong solutions fail?

Checks are only worth their verdicts if they discriminate. `audit` replays each task's
reference in an env (it must pass) and replays *mutants* of it (they must fail):

- `wrong_item`: one click or select acts on a different element of the same role;
- `skipped_step`: one state-changing step (click, fill, select, press) is left out;
- `wrong_value`: one fill text, select option or answer is changed.

A mutant that still passes is reported with the task, so a weak check can be found and fixed.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.env.observation import Observation
from domplay.env.targets import in_form
from domplay.errors import ActionError
from domplay.tasks.model import Task
from domplay.verify.verdict import Verdict, verify

MutationKind = Literal["wrong_item", "skipped_step", "wrong_value"]
MUTATION_KINDS: tuple[MutationKind, ...] = ("wrong_item", "skipped_step", "wrong_value")


def replay(task: Task, actions: list[str], env: WebEnv) -> Verdict:
    """Run `actions` from the task's start page and verify the final state."""
    env.reset(options={"start_url": task.start_url, "setup": task.setup})
    for action in actions:
        env.step(action)
    return verify(task.checks, env.snapshot())


def mutate(task: Task, kind: MutationKind, env: WebEnv, rng: random.Random) -> list[str] | None:
    """A mutant of the task's reference of `kind`, built against the real pages; None if none applies."""
    ref = [A.parse_action(a) for a in task.reference or []]
    if kind == "skipped_step":
        steps = [i for i, a in enumerate(ref) if isinstance(a, (A.Click, A.Fill, A.Select, A.Press))]
        if not steps:
            return None
        drop = rng.choice(steps)
        return [A.format_action(a) for i, a in enumerate(ref) if i != drop]
    candidates = [i for i, a in enumerate(ref) if _mutable(a, kind)]
    if not candidates:
        return None
    at = rng.choice(candidates)
    env.reset(options={"start_url": task.start_url, "setup": task.setup})
    for a in ref[:at]:
        env.step(a)
    obs = env.observation
    assert obs is not None
    changed = _change(ref[at], kind, obs, rng)
    if changed is None:
        return None
    return (
        [A.format_action(a) for a in ref[:at]]
        + [A.format_action(changed)]
        + [A.format_action(a) for a in ref[at + 1 :]]
    )


def _mutable(action: A.Action, kind: MutationKind) -> bool:
    if kind == "wrong_item":
        return isinstance(action, (A.Click, A.Select))
    return isinstance(action, (A.Fill, A.Select, A.Answer))


def _change(action: A.Action, kind: MutationKind, obs: Observation, rng: random.Random) -> A.Action | None:
    try:
        action = in_form(action, obs.elements, "id")  # mutants pick other elements by id
    except ActionError:
        return None
    # in_form(..., "id") names elements by id, so the int checks below only narrow the type.
    if isinstance(action, A.Select) and isinstance(action.target, int):
        el = obs.element(action.target)
        others = [o for o in (el.options if el is not None else ()) if o != action.option]
        if kind == "wrong_value":
            return A.Select(action.target, rng.choice(others)) if others else None
        selects = [e for e in obs.elements if e.tag == "select" and e.id != action.target]
        return None if not selects else A.Select(rng.choice(selects).id, action.option)
    if isinstance(action, A.Click) and isinstance(action.target, int):
        el = obs.element(action.target)
        if el is None:
            return None
        same = [e for e in obs.elements if e.role == el.role and e.id != el.id and e.name != el.name]
        return A.Click(rng.choice(same).id) if same else None
    if isinstance(action, A.Fill):
        return A.Fill(action.target, _perturb(action.text, rng))
    if isinstance(action, A.Answer):
        return A.Answer(_perturb(action.text, rng))
    return None


def _perturb(text: str, rng: random.Random) -> str:
    """A different but plausible value: numbers shift, words change."""
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if digits:
        i = rng.choice(digits)
        return text[:i] + str((int(text[i]) + rng.randint(1, 8)) % 10) + text[i + 1 :]
    words = text.split()
    if len(words) > 1:
        return " ".join(words[:-1])
    return (text + "zz") if text else "unknown"


@dataclass
class AuditReport:
    """Outcome of `audit`: reference pass rate and mutant kill rates, with the offenders."""

    tasks: int = 0
    reference_passed: int = 0
    reference_failures: list[tuple[str, str]] = field(default_factory=list)
    mutants: Counter = field(default_factory=Counter)
    killed: Counter = field(default_factory=Counter)
    survivors: list[tuple[str, str, list[str]]] = field(default_factory=list)

    @property
    def reference_pass_rate(self) -> float:
        return self.reference_passed / self.tasks if self.tasks else 0.0

    def kill_rate(self, kind: MutationKind | None = None) -> float:
        made = sum(self.mutants.values()) if kind is None else self.mutants[kind]
        dead = sum(self.killed.values()) if kind is None else self.killed[kind]
        return dead / made if made else 1.0

    def summary(self) -> dict:
        return {
            "tasks": self.tasks,
            "reference_pass_rate": round(self.reference_pass_rate, 4),
            "mutant_kill_rate": {k: round(self.kill_rate(k), 4) for k in MUTATION_KINDS if self.mutants[k]},
            "mutants": dict(self.mutants),
        }


def audit(
    tasks: list[Task], env: WebEnv, seed: int = 0, kinds: tuple[MutationKind, ...] = MUTATION_KINDS
) -> AuditReport:
    """Replay references (must pass) and one mutant of each kind per task (must fail)."""
    report = AuditReport()
    rng = random.Random(seed)
    for task in tasks:
        if task.reference is None:
            continue
        report.tasks += 1
        verdict = replay(task, task.reference, env)
        if verdict.success:
            report.reference_passed += 1
        else:
            reasons = "; ".join(r.reason for r in verdict.results if not r.passed) or str(verdict.error)
            report.reference_failures.append((task.id, reasons))
            continue
        for kind in kinds:
            mutant = mutate(task, kind, env, rng)
            if mutant is None:
                continue
            report.mutants[kind] += 1
            if replay(task, mutant, env).success:
                report.survivors.append((task.id, kind, mutant))
            else:
                report.killed[kind] += 1
    return report
