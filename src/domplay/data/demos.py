"""Bootstrapped few-shot demonstrations (DSPy's BootstrapFewShot, with the verifier as metric).

Prompt-level self-improvement: verified successful steps become few-shot demos in the
policy's prompt. `build_demos` selects them (per template, seeded); `DemoSet.demos_for`
picks k for a task (same template first, then intent token overlap), deterministically.
A DemoSet is JSON, recorded with the run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domplay.agent.episode import Episode, Message
from domplay.agent.prompts import Demo
from domplay.data.records import outcome, usable
from domplay.data.select import capped, dedupe, is_heldout, task_of
from domplay.settings import Settings
from domplay.tasks.model import Task

_WORD = re.compile(r"[a-z0-9]+")


class DemoConfig(Settings):
    """How demos are bootstrapped and picked. `None` for a cap means no cap."""

    seed: int = 0
    """In a run, round r's pool is drawn with seed `this + the run's seed + r`."""
    min_score: float = Field(1.0, ge=0.0, le=1.0)
    """Only steps of successful episodes scoring at least this become demos."""
    max_demos_per_template: int | None = Field(16, ge=1)
    max_demos_per_task: int | None = Field(4, ge=1)
    """Caps on the pool, so one template or task does not fill it."""
    max_demos_per_episode: int = Field(1, ge=1)
    """At most this many demos from one episode in one prompt (variety over one trajectory)."""
    selection: Literal["template", "similarity"] = "template"
    """"template": same-template demos first, then by intent overlap; "similarity": intent overlap only."""
    exclude_same_task: bool = True
    """Never show a task its own solution."""
    max_observation_chars: int | None = Field(1200, ge=1)
    """Demo observations are cut to this many characters to keep prompts small."""


class DemoStep(BaseModel):
    """One verified step: the observation the policy saw and the action that worked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str
    template: str | None
    intent: str
    observation: str
    action: str
    episode_id: str
    step_index: int
    score: float

    def as_messages(self) -> list[Message]:
        """The demo as a user turn (intent + observation) and an assistant turn (the action)."""
        return [
            {"role": "user", "content": f"Task: {self.intent}\n\n{self.observation}"},
            {"role": "assistant", "content": self.action},
        ]


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of the word sets of two intents, in [0, 1]."""
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb) if wa or wb else 0.0


class DemoSet(BaseModel):
    """The demo pool of a round and the config that chose it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: DemoConfig = DemoConfig()
    demos: tuple[DemoStep, ...] = ()

    def picker(self, k: int) -> Callable[[Task], list[Demo]]:
        """The prompt demos (user turn, action) of the `k` demos `demos_for` picks for a task."""

        def pick(task: Task) -> list[Demo]:
            return [Demo(user=d.as_messages()[0]["content"], action=d.action) for d in self.demos_for(task, k)]

        return pick

    def demos_for(self, task: Task, k: int) -> list[DemoStep]:
        """Up to k demos for `task`, best first; the same task, seed and pool give the same list."""
        cfg = self.config
        pool = [d for d in self.demos if not (cfg.exclude_same_task and d.task_id == task.id)]

        def rank(d: DemoStep) -> tuple:
            same = cfg.selection == "template" and d.template is not None and d.template == task.provenance.template
            tiebreak = hashlib.sha256(f"{cfg.seed}|{task.id}|{d.episode_id}|{d.step_index}".encode()).hexdigest()
            return (not same, -overlap(task.intent, d.intent), tiebreak)

        chosen: list[DemoStep] = []
        per_episode: dict[str, int] = {}
        for demo in sorted(pool, key=rank):
            if len(chosen) >= k:
                break
            if per_episode.get(demo.episode_id, 0) < cfg.max_demos_per_episode:
                per_episode[demo.episode_id] = per_episode.get(demo.episode_id, 0) + 1
                chosen.append(demo)
        return chosen

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> DemoSet:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def build_demos(episodes: Sequence[Episode], tasks: Mapping[str, Task], config: DemoConfig) -> DemoSet:
    """Bootstrap the pool: usable steps of verified successes of training tasks, capped per template/task."""
    tasks = dict(tasks)
    limit = config.max_observation_chars
    candidates: list[DemoStep] = []
    for ep in episodes:
        task, verdict = task_of(ep, tasks), ep.verdict
        if outcome(ep) != "success" or verdict is None or is_heldout(task) or verdict.score < config.min_score:
            continue
        for step in ep.steps:
            if usable(step):
                obs = step.observation if limit is None else step.observation[:limit]
                candidates.append(
                    DemoStep(
                        task_id=task.id,
                        template=task.provenance.template,
                        intent=task.intent,
                        observation=obs,
                        action=step.action,
                        episode_id=ep.id,
                        step_index=step.index,
                        score=verdict.score,
                    )
                )

    def order(d: DemoStep) -> tuple:
        return (d.task_id, d.episode_id, d.step_index)

    unique, _ = dedupe(candidates, order, lambda d: (d.task_id, d.observation, d.action))
    kept, _ = capped(
        unique,
        order,
        [(lambda d: d.template, config.max_demos_per_template), (lambda d: d.task_id, config.max_demos_per_task)],
        config.seed,
    )
    return DemoSet(config=config, demos=tuple(kept))
