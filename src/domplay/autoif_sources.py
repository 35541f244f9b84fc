"""The model-written task sources of a run (`tasks.sources: {autoif: ..., plans: ..., metrics: ...}`),
built from the run's config, store and sites and the model `stages` hands them.

`stages.TASK_SOURCES` calls these; the model is `tasks.<source>.model` when set (a strong
proposer, e.g. `openai:MODEL@URL`), else the run's current model (self-alignment).
"""

from __future__ import annotations

from domplay.autoif.proposer import AutoIFProposer, intent_key
from domplay.config import RunConfig
from domplay.data.store import RunStore
from domplay.env.base import origin_of
from domplay.env.factory import EnvFactory
from domplay.llm.base import ChatModel
from domplay.sites.app import SitesApp
from domplay.sources import site_of
from domplay.tasks.sources import Proposal


def start_pages(config: RunConfig, sites: SitesApp) -> list[str]:
    """The pages the model writes tasks for: `tasks.autoif.start_urls`, else every site's start page."""
    return list(config.tasks.autoif.start_urls) or [f"/{name}/" for name in sites.sites]


def autoif_source(
    config: RunConfig, store: RunStore, sites: SitesApp, model: ChatModel, r: int, n: int, seed: int
) -> Proposal:
    """Up to `n` tasks the model writes for the run's start pages, kept by the four filters."""
    with EnvFactory(config.env, sites) as make:
        env = make()
        local = origin_of(env.resolve_url("/"))
        proposer = AutoIFProposer(
            env,
            model,
            config.tasks.autoif,
            start_pages(config, sites),
            site_of=lambda u: site_of(env.resolve_url(u), sites, local),
            explore=config.tasks.explore,
            seen={intent_key(t.intent) for t in store.tasks()},
            round=r,
        )
        try:
            return proposer.propose(n, "train", seed)
        finally:
            proposer.close()
