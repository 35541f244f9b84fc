"""The self-play task sources of a run (`tasks.sources: {explore: ..., curriculum: ...}`) and
hindsight on the model's own episodes, built from the run's config, store and sites.

`stages.TASK_SOURCES` calls `explore_source` and `curriculum_source`; `stages.rollout_stage`
calls `hindsight_tasks` after the model's attempts. None of them reads a template's reference:
the template relabeller uses a template's intents and checks only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from domplay.agent.episode import Episode
from domplay.config import RunConfig
from domplay.data.store import RunStore
from domplay.env.actions import parse_action
from domplay.env.base import WebEnv, origin_of
from domplay.env.factory import EnvFactory
from domplay.errors import DomplayError
from domplay.selfplay.config import Account, ExploreConfig
from domplay.selfplay.curriculum import CurriculumProposer
from domplay.selfplay.explore import ExplorationProposer
from domplay.selfplay.harvest import Harvester
from domplay.selfplay.hindsight import DomRelabeller, Relabeller, TemplateRelabeller, url_path
from domplay.selfplay.walk import replay_walk
from domplay.sites.app import SitesApp
from domplay.tasks.model import ENDING_ACTIONS, Task
from domplay.tasks.sources import Proposal
from domplay.tasks.templates import all_templates


def site_of(url: str, sites: SitesApp, local_origin: str) -> str:
    """A task's `site` for an absolute URL: the built-in site mounted at its first path segment
    when the URL is on the env's own origin (`local_origin`), else the URL's origin."""
    first = url_path(url).split("/")[1]
    if origin_of(url) == local_origin and first in sites.sites:
        return first
    return origin_of(url)


def start_of(url: str, sites: SitesApp, local_origin: str) -> str:
    """A task's `start_url`: a path on a built-in site, else the absolute URL."""
    return url_path(url) if site_of(url, sites, local_origin) in sites.sites else url


_TEMPLATE_RELABELLERS: dict[tuple[int, tuple[str, ...], str, int], TemplateRelabeller] = {}
"""Template relabellers by (site seed, sites, hindsight config, run seed): drawing every family's
goals takes seconds, and each round's exploration and hindsight use the same ones."""


def _relabellers(config: RunConfig, sites: SitesApp) -> list[Relabeller]:
    h = config.tasks.hindsight
    out: list[Relabeller] = []
    if "template" in h.relabellers and sites.sites:
        key = (sites.seed, tuple(sorted(sites.sites)), h.model_dump_json(), config.seed)
        if key not in _TEMPLATE_RELABELLERS:
            _TEMPLATE_RELABELLERS.clear()  # one run at a time: keep only the latest
            _TEMPLATE_RELABELLERS[key] = TemplateRelabeller(sites, all_templates(), h, config.seed)
        out.append(_TEMPLATE_RELABELLERS[key])
    if "dom" in h.relabellers:
        out.append(DomRelabeller(h))
    return out


def _known_intents(store: RunStore) -> set[str]:
    """Intents already in the run (held-out ones included): never proposed again."""
    return {t.intent for t in store.tasks()}


def _harvester(
    config: RunConfig,
    store: RunStore,
    sites: SitesApp,
    env: WebEnv,
    relabellers: Sequence[Relabeller],
    proposer: str,
    r: int,
) -> Harvester:
    local = origin_of(env.resolve_url("/"))
    return Harvester(
        env,
        relabellers,
        config.tasks.hindsight,
        site_of=lambda u: site_of(env.resolve_url(u), sites, local),
        start_of=lambda u: start_of(env.resolve_url(u), sites, local),
        seen=_known_intents(store),
        max_per_family=config.tasks.explore.max_per_family,
        proposer=proposer,
        round=r,
    )


def with_site_accounts(e: ExploreConfig, sites: SitesApp) -> ExploreConfig:
    """`e` with the built-in sites' test accounts added to its own (`explore.site_accounts`)."""
    if not e.site_accounts:
        return e
    lent = [
        Account(url_prefix=f"/{name}/", username=user, password=password)
        for name, site in sites.sites.items()
        for user, password in site.accounts()
    ]
    return e.model_copy(update={"accounts": (*e.accounts, *lent)})


def explore_source(config: RunConfig, store: RunStore, sites: SitesApp, r: int, n: int, seed: int) -> Proposal:
    """`n` tasks from exploration walks (random walker) relabelled in hindsight."""
    e = config.tasks.explore
    with EnvFactory(config.env, sites) as make:
        env = make()
        relabellers = _relabellers(config, sites)
        goal_starts = [u for rl in relabellers if isinstance(rl, TemplateRelabeller) for u in rl.start_urls()]
        starts = list(e.start_urls) or [f"/{name}" for name in sites.sites]
        proposer = ExplorationProposer(
            env,
            _harvester(config, store, sites, env, relabellers, "explore", r),
            with_site_accounts(e, sites),
            starts,
            goal_starts=goal_starts if not e.start_urls else (),
        )
        try:
            return proposer.propose(n, "train", seed)
        finally:
            proposer.close()


def model_outcomes(store: RunStore, r: int, reference_policy: str) -> tuple[list[Task], list[Task]]:
    """Round `r`'s training tasks the model failed in every attempt, and those it solved."""
    tasks = {t.id: t for t in store.tasks(split="train", round=r)}
    attempts: dict[str, list[bool]] = {}
    for e in store.episodes(round=r):
        if e.policy != reference_policy and e.task_id in tasks and e.verdict is not None:
            attempts.setdefault(e.task_id, []).append(e.success)
    failed = [tasks[i] for i, wins in sorted(attempts.items()) if not any(wins)]
    solved = [tasks[i] for i, wins in sorted(attempts.items()) if any(wins)]
    return failed, solved


def curriculum_source(config: RunConfig, store: RunStore, sites: SitesApp, r: int, n: int, seed: int) -> Proposal:
    """`n` variants of round `r - 1`'s training tasks by how the model did on them."""
    failed, solved = model_outcomes(store, r - 1, config.build.reference_policy)
    with EnvFactory(config.env, sites) as make:
        env = make()
        proposer = CurriculumProposer(
            env,
            failed,
            solved,
            config.tasks.curriculum,
            config.tasks.hindsight,
            seen={f"{t.start_url}\n{t.intent}" for t in store.tasks()},
            round=r,
            start_of=lambda u: start_of(env.resolve_url(u), sites, origin_of(env.resolve_url("/"))),
        )
        try:
            return proposer.propose(n, "train", seed)
        finally:
            proposer.close()


def hindsight_tasks(
    config: RunConfig, store: RunStore, sites: SitesApp, r: int, episodes: Sequence[Episode], tasks: dict[str, Task]
) -> Proposal:
    """Tasks relabelled from the model's failed `episodes` (their actions replayed as walks)."""
    h = config.tasks.hindsight
    failed = [e for e in episodes if not e.success and e.task_id in tasks]
    with EnvFactory(config.env, sites) as make:
        env = make()
        harvester = _harvester(config, store, sites, env, _relabellers(config, sites), "hindsight", r)
        rng = random.Random(config.seed * 1000 + r)
        out: list[Task] = []
        try:
            for e in failed:
                actions = [
                    s.action
                    for s in e.steps
                    if s.error is None and s.action is not None and parse_action(s.action).name not in ENDING_ACTIONS
                ]
                if not actions:
                    continue
                if tasks[e.task_id].setup:  # walks start on a page, not in the state a setup leaves
                    continue
                try:
                    walk = replay_walk(env, tasks[e.task_id].start_url, actions)
                except DomplayError:  # the start page no longer opens
                    continue
                out += harvester.harvest(walk, rng, "model", h.max_goals_per_episode)
        finally:
            env.close()
    stats = harvester.stats.as_dict()
    stats["episodes"] = float(len(failed))
    return Proposal(tasks=out, stats=stats)
