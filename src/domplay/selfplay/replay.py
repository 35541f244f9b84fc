"""Verification by replay: a candidate goal (checks) with a path (actions) is kept only if

1. replaying the path in a fresh env passes the checks;
2. the empty path fails them: the goal is not true of the start page already;
3. the path is shortened until dropping any one step (or a run of up to `MAX_DROP`) fails, so
   every kept step matters (the "mutated replay fails" test) and SFT data has no detours. It is
   shortened in name form (`click("Log in")`, not `click(4)`) when that replays too: ids shift
   when a page changes (an error message above a form after a premature submit), so a dropped
   detour would leave the later ids pointing at other elements and the detour would stay;
4. an altered path fails: the answer changed, or the last click moved to another element.

Every replay starts a fresh episode (a new state namespace), so state changes of one replay
never leak into the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.env.targets import in_form, resolve
from domplay.errors import DomplayError
from domplay.verify.checks import Check
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import verify

if TYPE_CHECKING:
    from domplay.verify.sandbox import Sandbox

ALTERED_ANSWER = "__not the answer__"
MAX_DROP = 3
"""Widest run of consecutive steps the shortening tries to drop at once."""


@dataclass
class PathCheck:
    """Replays spent and why a candidate was dropped (for the yield table)."""

    replays: int = 0
    reason: str | None = None


def run_path(env: WebEnv, start_url: str, actions: Sequence[str], setup: Sequence[str] = ()) -> Snapshot | None:
    """The snapshot after running `actions` from `start_url` (after `setup`, a Task's) in a fresh
    episode; None when an action errors, the episode ends before the last one, or a page fails to load."""
    ran = _run(env, start_url, actions, setup, named=False)
    return ran[0] if ran is not None else None


def named_path(env: WebEnv, start_url: str, actions: Sequence[str]) -> list[str] | None:
    """`actions` with each element named as the page it acts on shows it (`click("Log in")`;
    an element without a name keeps its id), or None when the path does not run."""
    ran = _run(env, start_url, actions, (), named=True)
    return ran[1] if ran is not None else None


def _run(
    env: WebEnv, start_url: str, actions: Sequence[str], setup: Sequence[str], named: bool
) -> tuple[Snapshot, list[str]] | None:
    """Run `actions` in a fresh episode: the final snapshot and, when `named`, the actions in name form."""
    try:
        obs, _ = env.reset(options={"start_url": start_url, **({"setup": list(setup)} if setup else {})})
        names = []
        for i, action in enumerate(actions):
            if named:
                names.append(A.format_action(in_form(A.parse_action(action), obs.elements, "name")))
            obs, _, terminated, truncated, _ = env.step(action)
            if obs.error is not None or ((terminated or truncated) and i < len(actions) - 1):
                return None
        return env.snapshot(), names
    except DomplayError:
        return None


def passes(
    env: WebEnv,
    checks: Sequence[Check],
    start_url: str,
    actions: Sequence[str],
    sandbox: Sandbox | None = None,
    setup: Sequence[str] = (),
) -> bool:
    """True if running `actions` from `start_url` (after `setup`) in a fresh episode passes `checks`
    (see `run_path`); `code` checks run in `sandbox` (else in one started for the call)."""
    snapshot = run_path(env, start_url, actions, setup)
    if snapshot is None:
        return False
    verdict = verify(list(checks), snapshot, sandbox)
    return verdict.success and verdict.error is None


def verified_path(
    env: WebEnv,
    checks: Sequence[Check],
    start_url: str,
    actions: Sequence[str],
    max_replays: int,
    log: PathCheck,
    sandbox: Sandbox | None = None,
) -> list[str] | None:
    """The shortest path the replays found for `checks` from `start_url`, or None (with
    `log.reason`) when the candidate fails any of the module's four tests. `code` checks run in
    `sandbox` when one is given (model-written checks: one worker for every replay)."""

    def ok(path: Sequence[str]) -> bool:
        log.replays += 1
        return passes(env, checks, start_url, path, sandbox)

    path = list(actions)
    if not ok(path):
        log.reason = "replay fails"
        return None
    if ok([]):
        log.reason = "trivially true"
        return None
    named = named_path(env, start_url, path)
    if named is not None and named != path and ok(named):
        path = named
    answer = [a for a in path[-1:] if A.parse_action(a).name == "answer"]
    changed = True
    while changed and log.replays < max_replays:
        changed = False
        for width in range(min(MAX_DROP, len(path) - len(answer)), 0, -1):  # a detour (click, back) goes whole
            for j in range(len(path) - len(answer) - width, -1, -1):
                if log.replays >= max_replays:
                    break
                shorter = path[:j] + path[j + width :]
                if ok(shorter):
                    path, changed = shorter, True
                    break
            if changed:
                break
    if log.replays >= max_replays:
        log.reason = "replay budget spent"
        return None
    for altered in _alterations(env, start_url, path):
        if ok(altered):
            log.reason = "an altered path passes too"
            return None
    return path


def _alterations(env: WebEnv, start_url: str, path: list[str]) -> list[list[str]]:
    """The path with a wrong answer, and with its last click on another element of that page."""
    out = []
    last = A.parse_action(path[-1]) if path else None
    if isinstance(last, A.Answer):
        out.append(path[:-1] + [A.format_action(A.Answer(ALTERED_ANSWER))])
    clicks = [i for i, a in enumerate(path) if isinstance(A.parse_action(a), A.Click)]
    if clicks:
        i = clicks[-1]
        target = A.parse_action(path[i])
        assert isinstance(target, A.Click)
        other = _other_clickable(env, start_url, path[:i], target)
        if other is not None:
            out.append(path[:i] + [A.format_action(A.Click(other))] + path[i + 1 :])
    return out


def _other_clickable(env: WebEnv, start_url: str, prefix: list[str], click: A.Click) -> int | None:
    """Another clickable element's id on the page where `click` was taken."""
    try:
        obs, _ = env.reset(options={"start_url": start_url})
        for action in prefix:
            obs, *_ = env.step(action)
    except DomplayError:
        return None
    clicked = resolve(click, obs.elements)  # a click by name names no id
    same = {click.target, clicked.id if clicked is not None else None}
    for e in obs.elements:
        if e.role in ("link", "button") and not e.disabled and e.id not in same and e.name:
            return e.id
    return None
