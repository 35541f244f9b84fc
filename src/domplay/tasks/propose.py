"""Template proposer: seeded tasks with exact ground truth and verified reference solutions.

Train and held-out tasks never share a task seed (`task_seed` puts them in disjoint
ranges), and `heldout_only` templates never produce training tasks. Every proposed task's
reference solution has been run in a DomEnv (or BrowserEnv for JavaScript sites) and passes
its own checks; tasks whose reference fails are returned as failures, not silently dropped.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence

from domplay.env.base import WebEnv
from domplay.errors import ConfigError, DomplayError
from domplay.sites.app import SitesApp
from domplay.tasks.model import Difficulty, Provenance, Split, Task, steps_needed
from domplay.tasks.sources import OVER_MAX_STEPS, Proposal, ProposalFailure
from domplay.tasks.templates import all_templates
from domplay.tasks.templates.base import Template
from domplay.tasks.templates.materialize import materialize
from domplay.verify.verdict import verify

HELDOUT_SEED_BASE = 1_000_000_000
"""Held-out task seeds fill [HELDOUT_SEED_BASE, 2 * HELDOUT_SEED_BASE); training task seeds never do."""
SEEDS_PER_RUN_SEED = 1_000_000
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")


def task_seed(split: Split, seed: int, index: int) -> int:
    """The seed of the `index`-th task of `split` for proposer seed `seed` (disjoint ranges).

    Held-out seeds are `HELDOUT_SEED_BASE + seed * SEEDS_PER_RUN_SEED + index` (proposer seeds
    below 1000); training seeds are `seed * SEEDS_PER_RUN_SEED + index`, shifted past the held-out
    range when they would fall in it, so any run seed can propose training tasks."""
    if not 0 <= index < SEEDS_PER_RUN_SEED:
        raise ConfigError(f"task index {index} out of range [0, {SEEDS_PER_RUN_SEED})")
    if seed < 0:
        raise ConfigError(f"proposer seed {seed} must be >= 0")
    value = seed * SEEDS_PER_RUN_SEED + index
    if split == "heldout":
        if value >= HELDOUT_SEED_BASE:
            raise ConfigError(f"held-out proposer seed {seed} is too large: it must be below 1000 (the run's seed)")
        return HELDOUT_SEED_BASE + value
    return value if value < HELDOUT_SEED_BASE else value + HELDOUT_SEED_BASE


class TemplateProposer:
    """A `Proposer` (source `template`): draws tasks from templates over built-in sites and verifies their references.

    `env_factory(needs_js)` returns a fresh env for materializing a plan; by default a
    DomEnv over `sites` in-process (JavaScript templates are skipped unless the factory
    can make a BrowserEnv). With `max_steps`, a task whose reference needs more steps
    (`steps_needed`) is a failure: an episode could not replay it within the cap.
    """

    name = "template"

    def __init__(
        self,
        sites: SitesApp,
        templates: Sequence[Template] | None = None,
        env_factory: Callable[[bool], WebEnv | None] | None = None,
        max_steps: int | None = None,
    ):
        self.sites = sites
        self.max_steps = max_steps
        self.templates = list(templates) if templates is not None else all_templates()
        self.templates = [t for t in self.templates if t.site in sites.sites]
        self.env_factory = env_factory or self._dom_env
        self._envs: dict[bool, WebEnv | None] = {}

    def _dom_env(self, needs_js: bool) -> WebEnv | None:
        if needs_js:
            return None
        from domplay.env.dom import DomEnv, DomEnvConfig

        return DomEnv(DomEnvConfig(max_steps=100), sites=self.sites)

    def eligible(self, split: Split, difficulty: Difficulty | None = None) -> list[Template]:
        out = [
            t
            for t in self.templates
            if (split == "heldout" or not t.heldout_only) and (difficulty is None or t.difficulty == difficulty)
        ]
        return [t for t in out if self._env(t.needs_js) is not None]

    def propose(
        self,
        n: int,
        split: Split,
        seed: int = 0,
        difficulties: Sequence[Difficulty] = DIFFICULTIES,
        max_tries_per_task: int = 5,
    ) -> Proposal:
        """`n` tasks of `split`, spread evenly over `difficulties` and, within one, over templates."""
        pools = {d: self.eligible(split, d) for d in difficulties}
        pools = {d: ts for d, ts in pools.items() if ts}
        if not pools:
            raise ConfigError(
                f"no templates for split={split!r} difficulties={list(difficulties)} "
                f"on sites {sorted(self.sites.sites)}"
            )
        result = Proposal()
        seen: set[tuple[str, str]] = set()
        counters: dict[str, int] = defaultdict(int)
        order = [d for d in DIFFICULTIES if d in pools]
        index = 0
        while len(result.tasks) < n and index < n * max_tries_per_task:
            difficulty = order[len(result.tasks) % len(order)]
            pool = pools[difficulty]
            template = pool[counters[difficulty] % len(pool)]
            counters[difficulty] += 1
            ts = task_seed(split, seed, index)
            index += 1
            task = self.make_task(template, ts, split, result)
            if task is None:
                continue
            key = (template.name, task.intent)
            if key in seen:
                continue
            seen.add(key)
            result.tasks.append(task)
        return result

    def make_task(self, template: Template, seed: int, split: Split, result: Proposal | None = None) -> Task | None:
        """One task from `template` with task seed `seed`, reference materialized and verified."""
        site = self.sites.sites[template.site]
        try:
            draft = template.draft(site, random.Random(seed))
            if draft is None:
                return None
            env = self._env(template.needs_js)
            if env is None:
                raise ConfigError(
                    f"template {template.name} needs JavaScript; pass an env_factory that makes a BrowserEnv"
                )
            env.reset(options={"start_url": draft.start_url})
            reference = materialize(draft.plan, env)
            verdict = verify(draft.checks, env.snapshot())
            if not verdict.success:
                reasons = "; ".join(r.reason for r in verdict.results if not r.passed)
                raise _ReferenceFailed(f"reference solution fails its checks: {reasons or verdict.error}")
            if self.max_steps is not None and steps_needed(reference) > self.max_steps:
                raise _ReferenceFailed(
                    f"{OVER_MAX_STEPS}: its reference needs {steps_needed(reference)} steps, "
                    f"env.max_steps is {self.max_steps}"
                )
        except DomplayError as exc:
            if result is not None:
                result.failures.append(ProposalFailure(template.name, seed, f"{type(exc).__name__}: {exc}"))
            return None
        return Task(
            id=f"{template.site}.{template.name}.{split}.{seed}",
            intent=draft.intent,
            site=template.site,
            start_url=draft.start_url,
            checks=draft.checks,
            difficulty=template.difficulty,
            reference=reference,
            provenance=Provenance(
                proposer="template",
                template=template.name,
                seed=seed,
                split=split,
                extra={"site_seed": self.sites.seed, "params": draft.params, "heldout_template": template.heldout_only},
            ),
        )

    def _env(self, needs_js: bool) -> WebEnv | None:
        if needs_js not in self._envs:
            self._envs[needs_js] = self.env_factory(needs_js)
        return self._envs[needs_js]

    def close(self) -> None:
        for env in self._envs.values():
            if env is not None:
                env.close()
        self._envs.clear()


class _ReferenceFailed(DomplayError):
    pass
