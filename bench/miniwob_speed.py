"""MiniWoB++ env speed, side by side: domplay's MiniWoBEnv and BrowserGym's MiniWoB++ env.

Per task, every episode is a reset (open the page, seed it, start the episode, observe) and one step
(click the first control of the task's area, observe); the medians are over all tasks' episodes.
domplay runs twice: at its defaults (a reset on the loaded task page starts the next episode there,
as MiniWoB++'s own env does) and reloading the page at every reset (`reload_every: 1`, as
BrowserGym does).
BrowserGym runs twice: at its defaults (slow_mo 100 ms, pre_observation_delay 0.5 s) and without
those delays. Both serve the same `miniwob` package pages over one 127.0.0.1 server.

BrowserGym (`browsergym-miniwob` 0.14.3) pins playwright 1.44, whose browser download fails here, so it
runs in its own venv (`--bgym-python`, default /work/venvs/bgym/bin/python) with
PLAYWRIGHT_BROWSERS_PATH pointing at a folder whose `chromium-1117/chrome-linux/chrome` runs the
system Chromium (the bench makes one); without that venv it says so and times domplay alone.

    python bench/miniwob_speed.py --episodes 20

Last line: JSON with the medians (ms) and `step_ratio`, `reset_ratio` = BrowserGym without delays over
domplay at its defaults, `reset_ratio_reloading` over domplay reloading (null without BrowserGym).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import click

from domplay.env.browser import BrowserEnvConfig
from domplay.env.browser_pool import DEFAULT_CHROMIUM
from domplay.env.miniwob import MiniWoBConfig, MiniWoBEnv, MiniWoBPages

TASKS = "click-button,click-link,enter-text,click-checkboxes,navigate-tree"
WORKER = Path(__file__).with_name("browsergym_miniwob_worker.py")
BGYM_CHROMIUM_DIR = "chromium-1117/chrome-linux"
"""Where playwright 1.44 looks for its Chromium under PLAYWRIGHT_BROWSERS_PATH."""
CHROMIUM_ARGS = "--disable-gpu --no-first-run --disable-background-networking --disable-component-update"
"""Added by the wrapper script (BrowserGym passes its own launch arguments)."""
WORKER_TIMEOUT_S = 1800


def time_domplay(
    tasks: list[str], episodes: int, warmup: int, pages: MiniWoBPages, reload_every: int = 0
) -> dict[str, list[float]]:
    resets, steps = [], []
    for task in tasks:
        env = MiniWoBEnv(BrowserEnvConfig(), MiniWoBConfig(reload_every=reload_every), task=task, pages=pages)
        for seed in range(warmup + episodes):
            t0 = time.perf_counter()
            obs, _ = env.reset(seed=seed)
            t1 = time.perf_counter()
            target = next((e for e in obs.elements if e.interactive), None)
            t2 = time.perf_counter()
            env.step(f"click({target.id})" if target is not None else "noop()")
            t3 = time.perf_counter()
            if seed >= warmup:
                resets.append(t1 - t0)
                steps.append(t3 - t2)
        env.close()
    return {"reset": resets, "step": steps}


def browsers_folder(root: Path, chromium: str) -> Path:
    """A PLAYWRIGHT_BROWSERS_PATH for playwright 1.44 whose Chromium is a script that runs `chromium`."""
    folder = root / BGYM_CHROMIUM_DIR
    folder.mkdir(parents=True, exist_ok=True)
    chrome = folder / "chrome"
    chrome.write_text(f'#!/bin/sh\nexec {chromium} {CHROMIUM_ARGS} "$@"\n', encoding="utf-8")
    chrome.chmod(0o755)
    return root


def time_browsergym(
    python: str, tasks: list[str], episodes: int, warmup: int, base_url: str, delays: bool, browsers: Path
) -> dict[str, list[float]]:
    job = {"tasks": tasks, "episodes": episodes, "warmup": warmup, "delays": delays}
    env = {**os.environ, "MINIWOB_URL": f"{base_url}/miniwob/", "PLAYWRIGHT_BROWSERS_PATH": str(browsers)}
    done = subprocess.run(
        [python, str(WORKER), json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"BrowserGym worker failed ({done.returncode}):\n{done.stderr[-3000:]}")
    per_task = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: [x for t in per_task.values() for x in t[k]] for k in ("reset", "step")}


def _ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


@click.command()
@click.option("--tasks", default=TASKS, show_default=True)
@click.option("--episodes", default=20, show_default=True, help="Timed episodes per task (after the warm-up).")
@click.option("--warmup", default=2, show_default=True, help="Untimed episodes per task first.")
@click.option("--bgym-python", default="/work/venvs/bgym/bin/python", show_default=True)
@click.option("--chromium", default=DEFAULT_CHROMIUM, show_default=True)
def main(tasks: str, episodes: int, warmup: int, bgym_python: str, chromium: str) -> None:
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    pages = MiniWoBPages(MiniWoBConfig())
    results: dict[str, dict[str, list[float]]] = {}
    try:
        print(f"tasks: {', '.join(names)}; {episodes} timed episodes each (after {warmup} warm-up)")
        results["domplay"] = time_domplay(names, episodes, warmup, pages)
        results["domplay_reloading"] = time_domplay(names, episodes, warmup, pages, reload_every=1)
        if Path(bgym_python).is_file():
            with tempfile.TemporaryDirectory() as tmp:
                browsers = browsers_folder(Path(tmp), chromium)
                for label, delays in (("browsergym_defaults", True), ("browsergym_no_delays", False)):
                    results[label] = time_browsergym(
                        bgym_python, names, episodes, warmup, pages.base_url, delays, browsers
                    )
        else:
            print(f"BrowserGym: no venv at {bgym_python} (see the module docstring); timing domplay alone")
    finally:
        pages.close()
    out: dict[str, object] = {"tasks": names, "episodes_per_task": episodes}
    for label, samples in results.items():
        out[f"{label}_reset_ms"], out[f"{label}_step_ms"] = _ms(samples["reset"]), _ms(samples["step"])
        print(f"{label:<22} reset median {_ms(samples['reset']):8.1f} ms   step median {_ms(samples['step']):8.1f} ms")
    fast = results.get("browsergym_no_delays")
    out["step_ratio"] = round(_ms(fast["step"]) / _ms(results["domplay"]["step"]), 2) if fast else None
    out["reset_ratio"] = round(_ms(fast["reset"]) / _ms(results["domplay"]["reset"]), 2) if fast else None
    reloading = results["domplay_reloading"]
    out["reset_ratio_reloading"] = round(_ms(fast["reset"]) / _ms(reloading["reset"]), 2) if fast else None
    print(f"BrowserGym without delays / domplay: step {out['step_ratio']}x, reset {out['reset_ratio']}x")
    print(f"  (domplay reloading the page at every reset, as BrowserGym does: reset {out['reset_ratio_reloading']}x)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
