"""Speed of DomEnv and BrowserEnv on small built-in pages: reset and step medians.

    PYTHONPATH=src python bench/env_speed.py [--episodes 20]

Targets (issue 2): BrowserEnv step (action + observation) <= 25 ms median and reset
<= 50 ms on a small page. Prints figures; asserts nothing. The DomEnv half runs first
(its in-process transport cannot share a thread with Playwright's event loop).
"""

from __future__ import annotations

import statistics
import time

import click

from domplay.env.browser import BrowserEnv, BrowserEnvConfig
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.sites.app import SitesApp
from domplay.sites.server import SiteServer

START = "/shop/"


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=10) if len(samples) > 1 else samples
    return f"median {statistics.median(samples) * 1000:6.1f} ms   p90 {q[-1] * 1000:6.1f} ms   (n={len(samples)})"


def _first(obs, role: str, href_prefix: str | None = None) -> int:
    for e in obs.elements:
        if e.role == role and (href_prefix is None or (e.href or "").startswith(href_prefix)
                               and e.href != href_prefix):
            return e.id
    raise SystemExit(f"no {role} on {obs.url}; the bench page changed")


def run_env(env, episodes: int) -> dict[str, list[float]]:
    """Time reset, a fill (no navigation), a link click (navigation) and back()."""
    times: dict[str, list[float]] = {"reset": [], "fill": [], "click link": [], "back": []}
    env.reset(options={"start_url": START})  # warm-up
    for _ in range(episodes):
        t = time.perf_counter()
        obs, _ = env.reset(options={"start_url": START})
        times["reset"].append(time.perf_counter() - t)
        for name, action in (("fill", f'fill({_first(obs, "textbox")}, "wool")'),
                             ("click link", f'click({_first(obs, "link", "/shop/")})'),
                             ("back", "back()")):
            t = time.perf_counter()
            obs, *_ = env.step(action)
            times[name].append(time.perf_counter() - t)
            assert obs.error is None, (action, obs.error)
    return times


def bench_dom(sites: SitesApp, episodes: int) -> dict[str, list[float]]:
    env = DomEnv(DomEnvConfig(), sites=sites)
    try:
        return run_env(env, episodes)
    finally:
        env.close()


def bench_browser(sites: SitesApp, episodes: int) -> dict[str, list[float]]:
    with SiteServer(sites) as server:
        env = BrowserEnv(BrowserEnvConfig(base_url=server.base_url), sites=sites)
        try:
            times = run_env(env, episodes)
            env.reset(options={"start_url": "/widgets/tabs"})
            times["click (JS tab)"] = []
            for i in range(episodes):
                obs = env.observation
                tab = [e.id for e in obs.elements if e.name in ("Reviews", "Shipping")][i % 2]
                t = time.perf_counter()
                env.step(f"click({tab})")
                times["click (JS tab)"].append(time.perf_counter() - t)
            return times
        finally:
            env.close()
            env.pool.close()


@click.command()
@click.option("--episodes", default=20, show_default=True)
@click.option("--seed", default=0, show_default=True)
def main(episodes: int, seed: int) -> None:
    sites = SitesApp(seed=seed, names=["shop", "widgets"])
    for label, fn in (("dom", bench_dom), ("browser", bench_browser)):
        print(f"== {label} ({START})")
        for name, samples in fn(sites, episodes).items():
            print(f"  {name:15s} {_ms(samples)}")


if __name__ == "__main__":
    main()
