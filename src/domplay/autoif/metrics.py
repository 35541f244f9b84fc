"""Metric definitions written few-shot for new verified trajectories, validated automatically.

The model sees library definitions (trajectory, checks) as examples and writes the checks of a
new trajectory as a YAML list. A definition is queued for review only if it parses into domplay
checks, computes on the trajectory's final snapshot without error, passes there, and fails on a
mutated trajectory (the start page, the trajectory without its last action, or a near miss).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml
from pydantic import ValidationError

from domplay.autoif.draft import describe_state
from domplay.autoif.library import MetricDefinition
from domplay.autoif.mutate import mutants
from domplay.env.base import WebEnv
from domplay.errors import DomplayError
from domplay.llm.base import ChatModel, GenerationParams, Message
from domplay.selfplay.replay import run_path
from domplay.verify.checks import CHECK_ADAPTER, Check
from domplay.verify.sandbox import Sandbox
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import verify

METRIC_SYSTEM = (
    "You define how to score a web agent's trajectory: a YAML list of checks over the final page and the "
    "sites' backend state. Kinds: state (path, op, expected), url (expected), answer (expected, mode), "
    "element_present (css), content (css, expected). Each check has a weight; required: false gives "
    "partial credit. Reply with only the YAML list."
)
_FENCE = re.compile(r"```(?:ya?ml)?\s*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Trajectory:
    """A verified trajectory that needs a definition: where it started, what it did, what it reached."""

    site: str
    site_seed: int
    intent: str
    start_url: str
    actions: tuple[str, ...]
    snapshot: Snapshot


def trajectory_text(intent: str, start_url: str, actions: Sequence[str], snapshot: Snapshot | None) -> str:
    lines = [f"Task: {intent}", f"Start: {start_url}", "Actions: " + "; ".join(actions)]
    if snapshot is not None:
        lines += [f"Final URL: {snapshot.url}", f"Answer: {snapshot.answer}", describe_state(snapshot.state)]
    return "\n".join(lines)


def metric_prompt(shots: Sequence[MetricDefinition], t: Trajectory) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": METRIC_SYSTEM}]
    for d in shots:
        checks = [c.model_dump(mode="json", exclude_defaults=True) | {"kind": c.kind} for c in d.checks]
        messages.append({"role": "user", "content": trajectory_text(d.intent, d.start_url, d.actions, None)})
        messages.append({"role": "assistant", "content": yaml.safe_dump(checks, sort_keys=False)})
    messages.append({"role": "user", "content": trajectory_text(t.intent, t.start_url, t.actions, t.snapshot)})
    return messages


def read_checks(text: str) -> list[Check] | str:
    """The checks of a reply (a YAML list, fenced or not), or why it cannot be read."""
    m = _FENCE.search(text)
    try:
        data = yaml.safe_load(m.group(1) if m is not None else text)
    except yaml.YAMLError:
        return "not YAML"
    if not isinstance(data, list) or not data:
        return "not a list of checks"
    try:
        return [CHECK_ADAPTER.validate_python(item) for item in data]
    except ValidationError as exc:
        return f"not a domplay check: {exc.errors()[0]['msg']}"


def validate(env: WebEnv, sandbox: Sandbox, checks: list[Check], t: Trajectory) -> str | None:
    """Why the checks are not a usable definition of `t`, or None: they must compute and pass on
    its final snapshot and fail on at least one mutated trajectory."""
    verdict = verify(checks, t.snapshot, sandbox)
    if verdict.error is not None:
        return "does not compute on the trajectory"
    if not verdict.success:
        return "fails on its own trajectory"
    for path in [(), t.actions[:-1], *mutants(t.actions)]:
        try:
            mutated = run_path(env, t.start_url, path)
        except DomplayError:
            mutated = None
        if mutated is not None and not verify(checks, mutated, sandbox).success:
            return None
    return "passes every mutated trajectory"


@dataclass
class MetricYield:
    written: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    queued: int = 0

    def as_dict(self) -> dict[str, float]:
        out = {"written": float(self.written), "queued": float(self.queued)}
        out.update({"rejected_" + "_".join(k.split()): float(v) for k, v in self.rejected.items()})
        return out


def write_definitions(
    model: ChatModel,
    shots: Sequence[MetricDefinition],
    trajectories: Sequence[Trajectory],
    env: WebEnv,
    sandbox: Sandbox,
    params: GenerationParams,
) -> tuple[list[MetricDefinition], MetricYield]:
    """Definitions the model writes for `trajectories` that pass validation (for the review queue)."""
    tally = MetricYield(written=len(trajectories))
    if not trajectories:
        return [], tally
    replies = model.generate([metric_prompt(shots, t) for t in trajectories], params)
    out = []
    for t, reply in zip(trajectories, replies, strict=True):
        checks = read_checks(reply[0].text)
        reason = checks if isinstance(checks, str) else validate(env, sandbox, checks, t)
        if reason is not None or isinstance(checks, str):
            tally.rejected[reason or "unreadable"] += 1
            continue
        digest = hashlib.sha1(f"{t.start_url}\n{t.intent}\n{t.actions}".encode()).hexdigest()[:10]
        out.append(
            MetricDefinition(
                id=f"{t.site}-{digest}",
                site=t.site,
                site_seed=t.site_seed,
                intent=t.intent,
                start_url=t.start_url,
                actions=list(t.actions),
                checks=checks,
                source="model",
                note=f"written by {model.name}",
            )
        )
        tally.queued += 1
    return out, tally
