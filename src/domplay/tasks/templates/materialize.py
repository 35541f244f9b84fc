"""Turn a template's semantic plan into concrete actions by running it in an env."""

from __future__ import annotations

from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.env.observation import Element, Observation
from domplay.errors import TemplateError
from domplay.tasks.templates.base import Step


def resolve_step(step: Step, obs: Observation) -> A.Action:
    """The concrete action for `step` on the page `obs` shows."""
    if step.kind == "goto":
        return A.Goto(step.value or "/")
    if step.kind == "back":
        return A.Back()
    if step.kind == "answer":
        return A.Answer(step.value or "")
    if step.kind == "stop":
        return A.Stop()
    el = find_element(obs, step)
    if step.kind == "click":
        return A.Click(el.id)
    if step.kind == "fill":
        return A.Fill(el.id, step.value or "")
    if step.kind == "select":
        return A.Select(el.id, step.value or "")
    if step.kind == "press":
        return A.Press(el.id, step.value or "Enter")
    raise TemplateError(f"unknown step kind {step.kind!r}")


def find_element(obs: Observation, step: Step) -> Element:
    """The `step.nth` element whose role and name match `step` (name exact or contained)."""

    def matches(e: Element) -> bool:
        if step.role is not None and e.role != step.role:
            return False
        if step.name is None:
            return True
        return step.name in e.name if step.contains else e.name == step.name

    found = [e for e in obs.elements if matches(e)]
    if len(found) <= step.nth:
        near = [f"{e.role} {e.name!r}" for e in obs.elements if e.interactive][:25]
        raise TemplateError(
            f"no {step.role or 'element'} named {step.name!r} (match #{step.nth}) on "
            f"{obs.url}; interactive elements there: {near}"
        )
    return found[step.nth]


def materialize(plan: list[Step], env: WebEnv) -> list[str]:
    """Run `plan` from the env's current page; return the canonical action strings, by id
    (`ReferencePolicy` writes them in the policy's action form when it replays them).

    Raises TemplateError when a step cannot be resolved or its action errors: a reference
    solution must run cleanly.
    """
    out: list[str] = []
    for i, step in enumerate(plan):
        obs = env.observation
        assert obs is not None, "reset the env before materializing"
        action = resolve_step(step, obs)
        obs, _, terminated, truncated, _ = env.step(action)
        out.append(A.format_action(action))
        if obs.error is not None:
            raise TemplateError(
                f"step {i} {A.format_action(action)} ({step.kind} {step.name!r}) failed on {obs.url}: {obs.error}"
            )
        if (terminated or truncated) and i < len(plan) - 1:
            raise TemplateError(f"the episode ended at step {i} of {len(plan)}")
    return out
