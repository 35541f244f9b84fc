"""DomEnv speed on the built-in sites (imported by bench/env_speed.py; runnable alone).

A step is an action plus the observation of the resulting page; reset is a fresh episode
(new namespace, cookie jar) plus the start page's observation. Medians over many steps.
"""

from __future__ import annotations

import json
import statistics
import time

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.sites.app import SitesApp

# Realistic walks by element name: (start URL, [(role, name or None for "first", action)]).
WALKS = [
    (
        "/shop/",
        [
            ("link", "Knitwear", "click"),
            ("link", None, "click"),
            ("button", "Add to cart", "click"),
            ("link", "Cart (1)", "click"),
            ("link", "Shop home", "click"),
        ],
    ),
    (
        "/shop/",
        [
            ("textbox", "Search products", "fill:wool"),
            ("button", "Search", "click"),
            ("link", None, "click"),
            ("link", "All products", "click"),
        ],
    ),
    ("/forum/", [("link", None, "click"), ("link", None, "click"), ("link", None, "click")]),
    (
        "/admin/login",
        [("textbox", "Username", "fill:admin"), ("textbox", "Password", "fill:x"), ("button", "Log in", "click")],
    ),
]


def _action(obs, role: str, name: str | None, what: str) -> str:
    candidates = [e for e in obs.elements if e.role == role and (name is None or e.name == name)]
    if not candidates:
        return 'scroll("down")'
    el = candidates[min(len(candidates) - 1, 8)] if name is None else candidates[0]
    if what.startswith("fill:"):
        return f'fill({el.id}, "{what[5:]}")'
    return f"click({el.id})"


def measure_dom(episodes: int = 60, seed: int = 0) -> dict:
    sites = SitesApp(seed=seed, names=["shop", "forum", "admin"])
    env = DomEnv(DomEnvConfig(max_steps=100), sites=sites)
    for start, walk in WALKS:  # warm-up: compile templates, fill caches
        obs, _ = env.reset(options={"start_url": start})
        for role, name, what in walk:
            obs, *_ = env.step(_action(obs, role, name, what))
    step_s: list[float] = []
    reset_s: list[float] = []
    steps = 0
    total = 0.0
    for i in range(episodes):
        start, walk = WALKS[i % len(WALKS)]
        t0 = time.perf_counter()
        obs, _ = env.reset(options={"start_url": start})
        reset_s.append(time.perf_counter() - t0)
        for role, name, what in walk:
            action = _action(obs, role, name, what)
            t0 = time.perf_counter()
            obs, *_ = env.step(action)
            dt = time.perf_counter() - t0
            step_s.append(dt)
            total += dt
            steps += 1
    env.close()
    return {
        "dom_steps_per_s": round(steps / total, 1),
        "dom_step_ms": round(statistics.median(step_s) * 1000, 3),
        "dom_reset_ms": round(statistics.median(reset_s) * 1000, 3),
    }


if __name__ == "__main__":
    print(json.dumps(measure_dom()))
