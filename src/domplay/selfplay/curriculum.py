"""Curriculum from the model's own results: tasks it failed become easier variants (start
later on their verified path), tasks it solved become harder ones (start earlier: from a page
that links to the task's start page). Each variant is verified by replay like any relabelled
goal and records its level (`provenance.extra["level"]`: the parent's level -1 or +1) and parent.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from urllib.parse import urljoin, urlsplit

from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.errors import DomplayError
from domplay.selfplay.config import CurriculumConfig, HindsightConfig
from domplay.selfplay.harvest import HarvestStats, difficulty_of, split_is_train
from domplay.selfplay.hindsight import url_path
from domplay.selfplay.replay import PathCheck, verified_path
from domplay.selfplay.walk import page_url
from domplay.tasks.model import Split, Task
from domplay.tasks.sources import Proposal


class CurriculumProposer:
    """A `tasks.sources.Proposer` (source `curriculum`) over earlier tasks and their outcomes:
    `failed` and `solved` are training tasks (with verified paths) the model failed every time or
    solved at least once; `parents_of(url)` are pages linking to `url` (from exploration)."""

    name = "curriculum"

    def __init__(
        self,
        env: WebEnv,
        failed: Sequence[Task],
        solved: Sequence[Task],
        config: CurriculumConfig,
        hindsight: HindsightConfig,
        *,
        seen: set[str],
        round: int,
        start_of: Callable[[str], str],
    ):
        self.env = env
        # a task that starts after setup (a plan's later subtask) is not varied: its start is a state, not a page
        self.failed = [
            t for t in failed if t.reference and not t.setup and len(t.reference) >= config.min_reference_steps
        ]
        self.solved = [t for t in solved if t.reference and not t.setup]
        self.config = config
        self.hindsight = hindsight
        self.seen = seen
        self.round = round
        self.start_of = start_of
        self.stats = HarvestStats()

    def propose(self, n: int, split: Split, seed: int) -> Proposal:
        split_is_train(split)
        rng = random.Random(seed)
        easier = round(n * self.config.easier_share)
        tasks = self._variants(rng.sample(self.failed, len(self.failed)), easier, self._easier)
        tasks += self._variants(rng.sample(self.solved, len(self.solved)), n - len(tasks), self._harder)
        if len(tasks) < n:  # too few solved tasks: more easier variants
            tasks += self._variants(
                [t for t in self.failed if t.id not in {x.id for x in tasks}], n - len(tasks), self._easier
            )
        stats = self.stats.as_dict()
        stats.update({"failed_parents": float(len(self.failed)), "solved_parents": float(len(self.solved))})
        return Proposal(tasks=tasks, stats=stats)

    def close(self) -> None:
        self.env.close()

    def _variants(self, parents: list[Task], n: int, make: Callable[[Task], Task | None]) -> list[Task]:
        out: list[Task] = []
        for parent in parents:
            if len(out) >= n:
                break
            task = make(parent)
            if task is not None:
                out.append(task)
        return out

    def _easier(self, parent: Task) -> Task | None:
        """The same goal from the page the parent's path reaches after its first action."""
        assert parent.reference is not None
        try:
            self.env.reset(options={"start_url": parent.start_url})
            obs, *_ = self.env.step(parent.reference[0])
        except DomplayError:
            return None
        if obs.error is not None or A.parse_action(parent.reference[0]).name in ("answer", "stop"):
            return None
        return self._verified(parent, page_url(obs.url), parent.reference[1:], -1)

    def _harder(self, parent: Task) -> Task | None:
        """The same goal from a page one link before the parent's start page (a page on the same
        site whose link leads there), found by looking at the site's root and its links."""
        assert parent.reference is not None
        absolute = self.env.resolve_url(parent.start_url)
        target = url_path(absolute)
        if urlsplit(parent.start_url).scheme:  # an external site: start at its home page
            root = urljoin(absolute, "/")
        else:  # a built-in site: its mount point (/shop)
            root = "/" + target.strip("/").split("/")[0]
        try:
            obs, _ = self.env.reset(options={"start_url": root})
        except DomplayError:
            return None
        for e in obs.elements:
            if e.role == "link" and e.href and url_path(self.env.resolve_url(e.href)) == target:
                path = [A.format_action(A.Click(e.id)), *parent.reference]
                return self._verified(parent, page_url(obs.url), path, +1)
        return None

    def _verified(self, parent: Task, start: str, path: list[str], step: int) -> Task | None:
        self.stats.candidates += 1
        log = PathCheck()
        found = verified_path(self.env, parent.checks, start, path, self.hindsight.max_replays_per_goal, log)
        self.stats.replays += log.replays
        if found is None:
            self.stats.rejected[log.reason or "rejected"] += 1
            return None
        key = f"{self.start_of(start)}\n{parent.intent}"
        if key in self.seen:
            return None
        self.seen.add(key)
        self.stats.verified += 1
        level = int(parent.provenance.extra.get("level", 0)) + step
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        return parent.model_copy(
            update={
                "id": f"{parent.site if '/' not in parent.site else 'web'}.curriculum.r{self.round}.{digest}",
                "start_url": self.start_of(start),
                "reference": found,
                "difficulty": difficulty_of(found),
                "provenance": parent.provenance.model_copy(
                    update={
                        "proposer": "curriculum",
                        "extra": {**parent.provenance.extra, "level": level, "parent": parent.id},
                    }
                ),
            }
        )
