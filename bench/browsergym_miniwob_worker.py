"""Times BrowserGym's MiniWoB++ env (reset and one click per episode); run by miniwob_speed.py with the
Python of a venv that has `browsergym-miniwob` (it pins a Playwright of its own, so it cannot share
domplay's). Reads a JSON job on argv[1], prints one JSON line of seconds. Imports nothing of domplay."""

from __future__ import annotations

import json
import sys
import time

import browsergym.miniwob  # noqa: F401 - registers the browsergym/miniwob.* envs
import gymnasium as gym

FIRST_TARGET_JS = """() => {
  const e = document.querySelector(
    '#area button, #area input, #area a, #area span, #area li, #area label, #area textarea, #area select');
  return e ? e.getAttribute('bid') : null;
}"""


def main() -> None:
    job = json.loads(sys.argv[1])
    out: dict[str, dict[str, list[float]]] = {}
    for task in job["tasks"]:
        kwargs: dict = {}
        if not job["delays"]:
            kwargs.update(slow_mo=0, pre_observation_delay=0.0)
        env = gym.make(f"browsergym/miniwob.{task}", **kwargs)
        resets, steps = [], []
        for seed in range(job["warmup"] + job["episodes"]):
            t0 = time.perf_counter()
            env.reset(seed=seed)
            t1 = time.perf_counter()
            bid = env.unwrapped.page.evaluate(FIRST_TARGET_JS)
            action = f'click("{bid}")' if bid else "noop(0)"
            t2 = time.perf_counter()
            env.step(action)
            t3 = time.perf_counter()
            if seed >= job["warmup"]:
                resets.append(t1 - t0)
                steps.append(t3 - t2)
        env.close()
        out[task] = {"reset": resets, "step": steps}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
