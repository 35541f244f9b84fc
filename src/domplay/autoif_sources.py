"""The model-written task sources of a run (`tasks.sources: {autoif: ..., plans: ..., metrics: ...}`),
built from the run's config, store and sites and the model `stages` hands them.

`stages.TASK_SOURCES` calls these; the model is `tasks.<source>.model` when set (a strong
proposer, e.g. `openai:MODEL@URL`), else the run's current model (self-alignment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from domplay.autoif.config import PlanIntent, PlansConfig
from domplay.autoif.library import MetricLibrary, definition_task, few_shot_pool
from domplay.autoif.metrics import Trajectory, write_definitions
from domplay.autoif.plans import PlanProposer
from domplay.autoif.proposer import AutoIFProposer, intent_key
from domplay.config import RunConfig
from domplay.data.store import RunStore
from domplay.env.base import WebEnv, origin_of
from domplay.env.factory import EnvFactory
from domplay.errors import ConfigError
from domplay.llm.base import ChatModel, GenerationParams
from domplay.loading import load_yaml
from domplay.rundir import METRICS_DIR
from domplay.selfplay.replay import passes
from domplay.sites.app import SitesApp
from domplay.sources import site_of, start_of, with_site_accounts
from domplay.tasks.model import Task
from domplay.tasks.sources import Proposal
from domplay.verify.sandbox import Sandbox


def start_pages(start_urls: Sequence[str], sites: SitesApp) -> list[str]:
    """The pages the model writes tasks (or intents) for: `start_urls`, else every site's start page."""
    return list(start_urls) or [f"/{name}/" for name in sites.sites]


@contextmanager
def site_env(config: RunConfig, sites: SitesApp) -> Iterator[tuple[WebEnv, Callable[[str], str], Callable[[str], str]]]:
    """An env of the run, with `site_of(url)` and `start_of(url)`: a task's site and start URL for a
    URL the env reaches (`sources.site_of`, `sources.start_of`)."""
    with EnvFactory(config.env, sites) as make:
        env = make()
        local = origin_of(env.resolve_url("/"))
        yield (
            env,
            lambda u: site_of(env.resolve_url(u), sites, local),
            lambda u: start_of(env.resolve_url(u), sites, local),
        )


def autoif_source(
    config: RunConfig, store: RunStore, sites: SitesApp, model: ChatModel, r: int, n: int, seed: int
) -> Proposal:
    """Up to `n` tasks the model writes for the run's start pages, kept by the four filters."""
    with site_env(config, sites) as (env, task_site, _):
        proposer = AutoIFProposer(
            env,
            model,
            config.tasks.autoif,
            start_pages(config.tasks.autoif.start_urls, sites),
            site_of=task_site,
            explore=config.tasks.explore,
            seen={intent_key(t.intent) for t in store.tasks()},
            round=r,
        )
        try:
            return proposer.propose(n, "train", seed)
        finally:
            proposer.close()


def plan_intents(config: PlansConfig) -> list[PlanIntent]:
    """`tasks.plans.intents`, then those of `tasks.plans.intents_file` (a YAML or JSON list of
    {intent, start_url} mappings)."""
    out = list(config.intents)
    path = config.intents_file
    if path is None:
        return out
    data = load_yaml(path, ConfigError)
    if not isinstance(data, list):
        raise ConfigError(
            f"tasks.plans.intents_file {path}: must be a list of {{intent, start_url}} mappings, "
            f"got {type(data).__name__}"
        )
    for i, item in enumerate(data):
        try:
            out.append(PlanIntent.model_validate(item))
        except ConfigError as exc:
            raise ConfigError(f"tasks.plans.intents_file {path}: item {i}: {exc}") from None
    return out


def read_inputs(config: RunConfig) -> None:
    """Read the files the run's model-written sources take (the plans source's intents file), so
    that a missing or malformed one is a ConfigError when the run starts, not in round 1 after
    round 0's evaluation."""
    if config.tasks.sources.get("plans", 0) > 0:
        plan_intents(config.tasks.plans)


def plans_source(
    config: RunConfig, store: RunStore, sites: SitesApp, model: ChatModel, r: int, n: int, seed: int
) -> Proposal:
    """Up to `n` tasks from the subtasks of plans for the run's high-level intents (configured, or
    written by the model for the start pages), each with checks from autoif's filters or the DOM."""
    p = config.tasks.plans
    intents = plan_intents(p)
    with site_env(config, sites) as (env, task_site, task_start):
        proposer = PlanProposer(
            env,
            model,
            p,
            autoif=config.tasks.autoif,
            explore=with_site_accounts(config.tasks.explore, sites),  # DOM walks log in as exploration's do
            hindsight=config.tasks.hindsight,
            intents=intents,
            pages=start_pages(p.start_urls, sites),
            site_of=task_site,
            start_of=task_start,
            tasks=store.tasks(),
            round=r,
        )
        try:
            return proposer.propose(n, "train", seed)
        finally:
            proposer.close()


def _trajectories(store: RunStore, r: int, sites: SitesApp, limit: int) -> list[Trajectory]:
    """Round `r`'s verified successful training episodes on built-in sites, one per task."""
    tasks = {t.id: t for t in store.tasks(split="train", round=r)}
    out: dict[str, Trajectory] = {}
    for e in sorted(store.episodes(round=r), key=lambda e: e.id):
        task = tasks.get(e.task_id)
        if task is None or not e.success or e.snapshot is None or task.site not in sites.sites or task.id in out:
            continue
        if task.setup:  # a definition is validated by replays from the start page, which a setup changes
            continue
        actions = tuple(s.action for s in e.steps if s.action is not None and s.error is None and s.action != "stop()")
        out[task.id] = Trajectory(task.site, sites.seed, task.intent, task.start_url, actions, e.snapshot)
    return list(out.values())[:limit]


def metrics_source(
    config: RunConfig, store: RunStore, sites: SitesApp, model: ChatModel, run_dir: Path, r: int, n: int, seed: int
) -> Proposal:
    """The model writes definitions for round `r - 1`'s verified trajectories into the run's review queue
    (`RUN/metrics/queue`); up to `n` accepted definitions (built-in examples, the user's library, the
    run's library) not yet in the run become tasks, their trajectories verified by replay."""
    m = config.tasks.metrics
    run_library = MetricLibrary(run_dir / METRICS_DIR)
    libraries = [run_library] + ([MetricLibrary(m.library)] if m.library is not None else [])
    pool = [d for d in few_shot_pool(libraries) if d.site in sites.sites and d.site_seed == sites.seed]
    seen = {intent_key(t.intent) for t in store.tasks()}
    params = GenerationParams(temperature=m.temperature, max_new_tokens=m.max_new_tokens, seed=seed)
    with EnvFactory(config.env, sites) as make, Sandbox(workers=1) as sandbox:
        env = make()
        written, tally = write_definitions(
            model,
            pool[-m.shots :] if m.shots else [],
            _trajectories(store, r - 1, sites, m.trajectories_per_round),
            env,
            sandbox,
            params,
        )
        for d in written:
            run_library.put("queue", d)
        tasks: list[Task] = []
        unverified = 0
        for d in pool:
            if len(tasks) >= n or intent_key(d.intent) in seen:
                continue
            if not passes(env, d.checks, d.start_url, d.actions, sandbox):
                unverified += 1
                continue
            seen.add(intent_key(d.intent))
            tasks.append(definition_task(d, r, seed))
    stats = {**tally.as_dict(), "library": float(len(pool)), "unverified": float(unverified)}
    return Proposal(tasks=tasks, stats=stats)
