"""Speed of DomEnv and BrowserEnv: reset and step medians, observation included.

    python bench/env_speed.py [--episodes 20]

Measured on the shop's home page (~75 elements, a large page), on the widgets tabs page
(small) and on the MiniWoB-protocol test page. The last line is one JSON object with
`dom_steps_per_s`, `dom_reset_ms`, `browser_step_ms`, `browser_reset_ms` (small pages) and the
per-page figures.

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
        if e.role == role and (
            href_prefix is None or ((e.href or "").startswith(href_prefix) and e.href != href_prefix)
        ):
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
        for name, action in (
            ("fill", f'fill({_first(obs, "textbox")}, "wool")'),
            ("click link", f"click({_first(obs, 'link', '/shop/')})"),
            ("back", "back()"),
        ):
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
                _, _, terminated, truncated, _ = env.step(f"click({tab})")
                times["click (JS tab)"].append(time.perf_counter() - t)
                if terminated or truncated:  # env.max_steps clicks: a new episode on the page, untimed
                    env.reset(options={"start_url": "/widgets/tabs"})
            return times
        finally:
            env.close()
            env.pool.close()


def bench_miniwob(episodes: int) -> dict[str, list[float]]:
    """The MiniWoB protocol page used by the tests (click-test): reset and one click."""
    from pathlib import Path

    from domplay.env.browser import BrowserEnvConfig
    from domplay.env.miniwob import MiniWoBConfig, MiniWoBEnv

    root = Path(__file__).resolve().parents[1] / "tests" / "env" / "fixtures" / "miniwob"
    env = MiniWoBEnv(BrowserEnvConfig(), MiniWoBConfig(html_root=str(root)), task="click-test")
    times: dict[str, list[float]] = {"reset": [], "click": []}
    try:
        for i in range(episodes):
            t = time.perf_counter()
            obs, _ = env.reset(seed=i)
            times["reset"].append(time.perf_counter() - t)
            button = next(e.id for e in obs.elements if e.role == "button")
            t = time.perf_counter()
            env.step(f"click({button})")
            times["click"].append(time.perf_counter() - t)
    finally:
        env.close()
    return times


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


@click.command()
@click.option("--episodes", default=20, show_default=True)
@click.option("--seed", default=0, show_default=True)
def main(episodes: int, seed: int) -> None:
    import json
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from dom_speed import measure_dom

    dom = measure_dom(episodes=max(60, episodes), seed=seed)
    sites = SitesApp(seed=seed, names=["shop", "widgets"])
    results: dict[str, dict[str, list[float]]] = {}
    for label, fn in (("dom", bench_dom), ("browser", bench_browser)):
        print(f"== {label} ({START})")
        results[label] = fn(sites, episodes)
        for name, samples in results[label].items():
            print(f"  {name:15s} {_ms(samples)}")
    print("== browser (MiniWoB protocol test page)")
    results["miniwob"] = bench_miniwob(episodes)
    for name, samples in results["miniwob"].items():
        print(f"  {name:15s} {_ms(samples)}")
    b, m = results["browser"], results["miniwob"]
    print(
        json.dumps(
            {
                "dom_steps_per_s": dom["dom_steps_per_s"],
                "dom_reset_ms": dom["dom_reset_ms"],
                "dom_step_ms": dom["dom_step_ms"],
                "browser_step_ms": _median_ms(m["click"] + b["click (JS tab)"]),
                "browser_reset_ms": _median_ms(m["reset"]),
                "browser_shop_step_ms": _median_ms(b["fill"] + b["click link"]),
                "browser_shop_reset_ms": _median_ms(b["reset"]),
                "miniwob_step_ms": _median_ms(m["click"]),
                "miniwob_reset_ms": _median_ms(m["reset"]),
            }
        )
    )


if __name__ == "__main__":
    main()
