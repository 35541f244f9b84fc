"""Gymnasium registration: `gym.make("domplay/DomEnv-v0", ...)` builds a DomEnv over the built-in sites.

    import gymnasium as gym
    import domplay.env  # registers the ids

    env = gym.make("domplay/DomEnv-v0", sites=["shop"], site_seed=0, start_url="/shop/")
    obs, info = env.reset(seed=0)                       # or options={"task": task}
    obs, reward, terminated, truncated, info = env.step('click("Cart (0)")')

`gym.make("domplay.env:domplay/DomEnv-v0")` works without the import. Keyword arguments other than
`sites`, `site_seed` and `render_mode` are `DomEnvConfig` fields (`max_steps`, `start_url`,
`observation`, ...). The sites run in-process: no server, no socket. BrowserEnv needs its sites served
over HTTP and Chromium started, so it is built with `env.factory.EnvFactory` rather than `gym.make`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.sites import BUILTIN_SITES
from domplay.sites.app import SitesApp


def make_dom_env(
    sites: Sequence[str] = tuple(BUILTIN_SITES), site_seed: int = 0, render_mode: str | None = None, **config: Any
) -> DomEnv:
    """A DomEnv over the built-in `sites` generated from `site_seed`; `config`: DomEnvConfig fields."""
    return DomEnv(DomEnvConfig(**config), sites=SitesApp(seed=site_seed, names=list(sites)), render_mode=render_mode)
