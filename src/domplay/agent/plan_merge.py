"""Merging plans: the best-scored plan, plus the steps of other well-scored plans that cover
what the task asks and the best one leaves out.

A step joins only if it mentions a word of the task (`keywords`) that no step of the merged plan
mentions yet, so nothing is said twice; it goes where its own plan had it (after the merged steps
that share words with the steps before it in its plan, before those sharing words with the steps
after it; sharing none, at the place its plan's end has it), and the plan stays within `max_subtasks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domplay.agent.plan_words import content_words, keywords


@dataclass(frozen=True)
class Merged:
    subtasks: tuple[str, ...]
    contributors: tuple[int, ...]
    """Indices of the plans whose steps are in `subtasks`: the best one first, then the others that added a step."""


def merge_subtasks(
    intent: str, plans: Sequence[tuple[tuple[str, ...], float]], best: int, margin: float, max_subtasks: int
) -> Merged:
    """Merge `plans` (steps, total score) into the steps of `plans[best]`: every other plan whose total
    is within `margin` of the best one's, best first, may add the steps that cover task words the
    merged plan lacks."""
    merged = list(plans[best][0])
    covered = set().union(*(keywords(s) for s in merged)) if merged else set()
    wanted = keywords(intent)
    seen = {s.lower() for s in merged}
    contributors = [best]
    others = [i for i, (steps, total) in enumerate(plans) if i != best and steps and total >= plans[best][1] - margin]
    for i in sorted(others, key=lambda i: (-plans[i][1], i)):
        steps = plans[i][0]
        for j, step in enumerate(steps):
            if len(merged) >= max_subtasks:
                break
            if step.lower() in seen or not (keywords(step) & wanted) - covered:
                continue
            merged.insert(_position(merged, steps, j), step)
            covered |= keywords(step)
            seen.add(step.lower())
            if i not in contributors:
                contributors.append(i)
    return Merged(tuple(merged), tuple(contributors))


def _position(merged: Sequence[str], steps: Sequence[str], j: int) -> int:
    """Where `steps[j]` goes in `merged`: after every merged step that shares a content word with a
    step before it in its own plan, and before the first later one that shares a word with a step
    after it (else at the end); with no word shared at all, where its plan has it relative to that
    plan's end (a last step last)."""
    before = set().union(*(content_words(s) for s in steps[:j])) if j else set()
    after = set().union(*(content_words(s) for s in steps[j + 1 :])) if j + 1 < len(steps) else set()
    anchors = [k for k, s in enumerate(merged) if content_words(s) & before]
    low = anchors[-1] + 1 if anchors else 0
    later = [k for k, s in enumerate(merged) if k >= low and content_words(s) & after]
    if later:
        return later[0]
    if anchors:
        return len(merged)
    return round((j + 1) * len(merged) / len(steps))
