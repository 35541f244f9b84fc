"""From walks to training tasks: relabel every prefix of a walk, verify each goal by replay,
and keep it as a `Task` whose reference is the verified (shortest found) path.

`Harvester` is shared by the exploration proposer (random or model walks) and the rollout
stage (the model's own failed episodes); its `stats` are the yield table's per-source counts.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.errors import ConfigError
from domplay.selfplay.config import HindsightConfig
from domplay.selfplay.hindsight import Goal, Relabeller
from domplay.selfplay.replay import PathCheck, verified_path
from domplay.selfplay.walk import Walk
from domplay.tasks.model import Difficulty, Provenance, Split, Task

EASY_MAX_STEPS = 2
MEDIUM_MAX_STEPS = 5
"""Path lengths (actions, the answer included) of easy and medium relabelled goals without a template."""


def difficulty_of(path: Sequence[str]) -> Difficulty:
    if len(path) <= EASY_MAX_STEPS:
        return "easy"
    return "medium" if len(path) <= MEDIUM_MAX_STEPS else "hard"


@dataclass
class HarvestStats:
    walks: int = 0
    candidates: int = 0
    verified: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    replays: int = 0

    def as_dict(self) -> dict[str, float]:
        out = {
            "walks": float(self.walks),
            "goal_candidates": float(self.candidates),
            "goals_verified": float(self.verified),
            "replays": float(self.replays),
        }
        out.update({f"rejected_{k.replace(' ', '_')}": float(v) for k, v in self.rejected.items()})
        return out


class Harvester:
    """Turns walks into verified tasks. `seen` (intents already kept, held-out intents) is never
    proposed again; `max_per_family` caps each goal family; `site_of(url)` names a task's site."""

    def __init__(
        self,
        env: WebEnv,
        relabellers: Sequence[Relabeller],
        config: HindsightConfig,
        *,
        site_of: Callable[[str], str],
        start_of: Callable[[str], str],
        seen: set[str],
        max_per_family: int,
        proposer: str,
        round: int,
    ):
        self.env = env
        self.relabellers = list(relabellers)
        self.config = config
        self.site_of = site_of
        self.start_of = start_of
        self.seen = seen
        self.max_per_family = max_per_family
        self.proposer = proposer
        self.round = round
        self.families: Counter[str] = Counter()
        self.stats = HarvestStats()

    def harvest(self, walk: Walk, rng: random.Random, origin: str, limit: int) -> list[Task]:
        """Up to `limit` verified tasks from the prefixes of `walk` (`origin` says where the walk
        came from: random, model, ...)."""
        self.stats.walks += 1
        candidates: list[tuple[Goal, list[str]]] = []
        intents: set[str] = set()
        for i in range(len(walk.snapshots)):  # 0: what the start page alone answers
            if i and walk.errors[i - 1] is not None:
                continue  # the page did not change; the prefix before it already counted
            prefix = [a for a, e in zip(walk.actions[:i], walk.errors[:i], strict=True) if e is None]
            for relabeller in self.relabellers:
                for goal in relabeller.goals(walk.snapshots[0], walk.snapshots[i], walk.start_url):
                    if goal.intent in intents or goal.intent in self.seen:
                        continue
                    intents.add(goal.intent)  # the shortest prefix that achieved it
                    candidates.append((goal, prefix))
        rng.shuffle(candidates)
        # goals phrased as the site's own tasks first, then by how rare their family is so far
        order = {r.name: k for k, r in enumerate(self.relabellers)}
        candidates.sort(key=lambda c: (order[c[0].relabeller], self.families[c[0].family]))
        kept: list[Task] = []
        for goal, prefix in candidates:
            if len(kept) >= min(limit, self.config.max_goals_per_episode):
                break
            if self.families[goal.family] >= self.max_per_family:
                continue
            self.stats.candidates += 1
            task = self._verify(walk.start_url, goal, prefix, origin)
            if task is not None:
                kept.append(task)
        return kept

    def _verify(self, start_url: str, goal: Goal, prefix: list[str], origin: str) -> Task | None:
        actions = prefix + ([A.format_action(A.Answer(goal.answer))] if goal.answer is not None else [])
        log = PathCheck()
        path = verified_path(self.env, goal.checks, start_url, actions, self.config.max_replays_per_goal, log)
        self.stats.replays += log.replays
        if path is None:
            self.stats.rejected[log.reason or "rejected"] += 1
            return None
        self.stats.verified += 1
        self.families[goal.family] += 1
        self.seen.add(goal.intent)
        start = self.start_of(start_url)
        digest = hashlib.sha1(f"{start}\n{goal.intent}".encode()).hexdigest()[:12]
        site = self.site_of(start_url)
        return Task(
            id=f"{site if '/' not in site else 'web'}.{self.proposer}.{goal.family}.r{self.round}.{digest}",
            intent=goal.intent,
            site=site,
            start_url=start,
            difficulty=goal.difficulty or difficulty_of(path),
            checks=list(goal.checks),
            reference=path,
            provenance=Provenance(
                proposer=self.proposer,
                template=None,
                split="train",
                extra={
                    "relabeller": goal.relabeller,
                    "family": goal.family,
                    "walk": origin,
                    "walk_steps": len(prefix),
                    "path_steps": len(path),
                    "level": 0,
                    "params": goal.params,
                },
            ),
        )


def split_is_train(split: Split) -> None:
    """Hindsight and exploration make training tasks only: held-out tasks come from templates
    or files, fixed in round 0."""
    if split != "train":
        raise ConfigError(f"self-play sources propose training tasks only, not {split!r}")
