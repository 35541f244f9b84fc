"""Checks for a plan's subtask from the DOM: a path from the subtask's page (the model's own test
path, or an exploration walk) reaches a page the DOM relabeller describes, and that page is the one
the subtask names.

`selfplay.hindsight.DomRelabeller` gives two kinds of goal for a page a path reaches: reach it (a
URL check) and read a labelled value on it (URL and answer checks). A goal fits a subtask when the
page names enough of the subtask's subject words (`goal_match`), and the subtask asks for a value
exactly when the goal reads one, its label among the subtask's words. The best fits are verified by
replay (`selfplay.replay.verified_path`), which also shortens the path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from domplay.agent.plan_words import WORD, content_words, keywords
from domplay.autoif.config import PlansConfig
from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.errors import DomplayError
from domplay.selfplay.hindsight import DomRelabeller, Goal
from domplay.selfplay.replay import PathCheck, verified_path
from domplay.selfplay.walk import RandomWalker, Walk, record_walk, replay_walk

ASK_WORDS = frozenset({"answer", "tell", "report", "read", "note", "say", "write", "what", "how", "which"})
"""Words of a subtask that ask for a value (the task ends with answer(...))."""
GENERIC_WORDS = frozenset(
    {"page", "link", "button", "tab", "item", "items", "result", "results", "site", "website", "section", "details"}
)
"""Words of a subtask that name no particular page."""
_URL_SEPARATORS = re.compile(r"[/_\-?=&.+]")

PathOrigin = Literal["model", "walk"]


@dataclass(frozen=True)
class DomChecks:
    """A DOM goal that fits a subtask, with its verified path."""

    goal: Goal
    path: list[str]
    match: float
    origin: PathOrigin
    """Whose path reached the page: the model's test path or an exploration walk."""


def asks(subtask: str) -> bool:
    """Whether a subtask asks for a value (`Tell me its price`, `What is ...?`)."""
    return "?" in subtask or bool(set(WORD.findall(subtask.lower())) & ASK_WORDS)


def subject_words(subtask: str) -> set[str]:
    """What a subtask is about: its content words, without generic page words and asking words."""
    return content_words(subtask) - GENERIC_WORDS - ASK_WORDS


def goal_match(subtask: str, goal: Goal) -> float:
    """The share of the subtask's subject words that the goal's page names (its heading, URL and
    label); 0 when one of the two asks for a value and the other does not, or the label is not
    among the subtask's words."""
    wanted = subject_words(subtask)
    label = goal.params.get("label")
    if not wanted or asks(subtask) != (label is not None):
        return 0.0
    if label is not None and not keywords(label) <= keywords(subtask):
        return 0.0
    named = keywords(goal.intent) | keywords(" ".join(_URL_SEPARATORS.split(goal.params.get("url", ""))))
    return len(wanted & named) / len(wanted)


def dom_checks(
    env: WebEnv,
    subtask: str,
    start_url: str,
    model_paths: Sequence[Sequence[str]],
    walker: RandomWalker,
    relabeller: DomRelabeller,
    config: PlansConfig,
) -> DomChecks | str:
    """The best DOM goal for `subtask` reached from `start_url` by one of `model_paths` or by
    `config.walks_per_subtask` walks of `walker`, verified by replay; else why there is none."""
    walks: list[tuple[PathOrigin, Walk]] = []
    try:
        walks += [("model", replay_walk(env, start_url, path)) for path in model_paths]
        walks += [
            ("walk", record_walk(env, start_url, walker, config.walk_steps, set()))
            for _ in range(config.walks_per_subtask)
        ]
    except DomplayError:  # the start page does not open
        return "dom: the page does not open"
    found: dict[str, tuple[float, Goal, list[str], PathOrigin]] = {}
    for origin, walk in walks:
        for i in range(1, len(walk.snapshots)):
            if walk.errors[i - 1] is not None:
                continue  # the page did not change; the prefix before it already counted
            prefix = [a for a, e in zip(walk.actions[:i], walk.errors[:i], strict=True) if e is None]
            for goal in relabeller.goals(walk.snapshots[0], walk.snapshots[i]):
                score = goal_match(subtask, goal)
                best = found.get(goal.intent)
                if score >= config.min_dom_match and (best is None or len(prefix) < len(best[2])):
                    found[goal.intent] = (score, goal, prefix, origin)
    if not found:
        return f"dom: no page reached in {len(walks)} paths names the subtask"
    reason = "dom: no goal verified"
    for score, goal, prefix, origin in sorted(found.values(), key=lambda f: (-f[0], len(f[2])))[: config.dom_goals]:
        actions = prefix + ([A.format_action(A.Answer(goal.answer))] if goal.answer is not None else [])
        log = PathCheck()
        path = verified_path(env, goal.checks, start_url, actions, config.max_replays, log)
        if path is not None:
            return DomChecks(goal, path, score, origin)
        reason = f"dom: a fitting goal fails verification ({log.reason})"
    return reason
