"""A round's held-out result, computed one way for the loop's summary and for the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domplay.agent.episode import Episode
from domplay.agent.evaluate import summarize_episodes
from domplay.data.store import RunStore
from domplay.rundir import policy_name
from domplay.tasks.model import Task


@dataclass(frozen=True)
class RoundEval:
    """Held-out success of one round's policy, from its stored eval episodes."""

    round: int
    policy: str
    episodes: int
    tasks: int
    """Held-out tasks of the run (an unfinished eval has fewer episodes than tasks)."""
    success_rate: float
    by: dict[str, dict[str, float]]
    """axis (difficulty, site, template, heldout kind) -> value -> success rate."""
    mean_steps: float
    step_error_rate: float
    failure_reasons: dict[str, int]


def eval_episodes(store: RunStore, r: int, heldout: Sequence[Task]) -> list[Episode]:
    """Round `r`'s eval episodes: its policy's episodes of the held-out tasks, by task id."""
    ids = {t.id for t in heldout}
    return [e for e in store.episodes(round=r, policy=policy_name(r)) if e.task_id in ids]


def heldout_eval(store: RunStore, r: int, heldout: Sequence[Task] | None = None) -> RoundEval | None:
    """Round `r`'s held-out result (None before any of its eval episodes is stored)."""
    tasks = list(heldout) if heldout is not None else store.tasks(split="heldout")
    episodes = eval_episodes(store, r, tasks)
    if not episodes:
        return None
    report = summarize_episodes(tasks, episodes).as_dict()
    return RoundEval(
        round=r,
        policy=policy_name(r),
        episodes=report["episodes"],
        tasks=len(tasks),
        success_rate=report["success_rate"],
        by={axis: {k: v["rate"] for k, v in d.items()} for axis, d in report["by"].items()},
        mean_steps=report["mean_steps"],
        step_error_rate=report["step_error_rate"],
        failure_reasons=report["failure_reasons"],
    )
