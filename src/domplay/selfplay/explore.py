"""The exploration proposer: a frontier of discovered pages, walks from them, every walk
relabelled with the goals it achieved (`harvest.Harvester`). Works on any allowlisted site.

Walks start from the frontier's least-used pages (the start pages of the relabellers' goals
and the sites' roots at first, then every page a walk reached), so exploration spreads over
the site instead of circling its home page. The chooser is a `RandomWalker` (no model needed)
or any `walk.Chooser`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

from domplay.env.base import WebEnv
from domplay.errors import ConfigError, DomplayError
from domplay.selfplay.config import ExploreConfig
from domplay.selfplay.harvest import Harvester, split_is_train
from domplay.selfplay.walk import Chooser, RandomWalker, page_url, record_walk
from domplay.tasks.model import Split, Task
from domplay.tasks.sources import Proposal


class ExplorationProposer:
    """A `tasks.sources.Proposer` (source `explore`) that needs no templates and no model."""

    name = "explore"

    def __init__(
        self,
        env: WebEnv,
        harvester: Harvester,
        config: ExploreConfig,
        starts: Sequence[str],
        *,
        goal_starts: Sequence[str] = (),
        chooser: Callable[[random.Random], Chooser] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not starts:
            raise ConfigError("exploration needs at least one start URL (tasks.explore.start_urls or built-in sites)")
        self.env = env
        self.harvester = harvester
        self.config = config
        self.starts = list(dict.fromkeys(starts))
        self.goal_starts = list(dict.fromkeys(goal_starts))
        self.chooser = chooser or (lambda rng: RandomWalker(config, rng, env.resolve_url))
        self.clock = clock

    def propose(self, n: int, split: Split, seed: int) -> Proposal:
        split_is_train(split)
        c = self.config
        rng = random.Random(seed)
        choose = self.chooser(rng)
        frontier: dict[str, int] = {page_url(self.env.resolve_url(u)): 0 for u in self.starts}
        goal_starts: dict[str, int] = {page_url(self.env.resolve_url(u)): 0 for u in self.goal_starts}
        visited: set[str] = set()
        tasks: list[Task] = []
        began = self.clock()
        walks = unopenable = 0
        pool = max(n, round(n * c.pool_factor))  # verified tasks to choose `n` from, family by family
        while len(tasks) < pool and walks < c.max_walks and self.clock() - began < c.max_seconds:
            starts = goal_starts if goal_starts and rng.random() < c.goal_start_share else frontier
            least = min(starts.values())
            start = rng.choice(sorted(u for u, k in starts.items() if k == least))
            starts[start] += 1
            try:
                walk = record_walk(self.env, start, choose, c.walk_steps, visited)
            except DomplayError:
                del starts[start]  # reached by a form post, it cannot be opened by its URL
                unopenable += 1
                if not frontier:
                    break
                continue
            walks += 1
            for url in walk.pages:
                if self.env.allowed(url):
                    frontier.setdefault(page_url(url), 0)
            origin = "random" if isinstance(choose, RandomWalker) else "model"
            tasks += self.harvester.harvest(walk, rng, origin, pool - len(tasks))
        seconds = max(self.clock() - began, 1e-9)
        verified = len(tasks)
        tasks = by_family(tasks, n, rng)
        stats = self.harvester.stats.as_dict()
        stats.update(
            {
                "pages_discovered": float(len(visited)),
                "frontier_pages": float(len(frontier)),
                "unopenable_pages": float(unopenable),
                "seconds": seconds,
                "pages_per_min": 60.0 * len(visited) / seconds,
                "goals_per_min": 60.0 * verified / seconds,
                "families": float(len({t.provenance.extra.get("family") for t in tasks})),
            }
        )
        return Proposal(tasks=tasks, stats=stats)

    def close(self) -> None:
        self.env.close()


def by_family(tasks: Sequence[Task], n: int, rng: random.Random) -> list[Task]:
    """`n` of `tasks`, taken one family at a time in turn (shuffled within a family), so a round
    trains on every goal family exploration reached, not on the ones it reaches most often."""
    families: dict[str, list[Task]] = {}
    for task in tasks:
        families.setdefault(str(task.provenance.extra.get("family")), []).append(task)
    queues = [rng.sample(members, len(members)) for _, members in sorted(families.items())]
    out: list[Task] = []
    while len(out) < n and any(queues):
        for queue in queues:
            if queue and len(out) < n:
                out.append(queue.pop())
    return out
