"""Rollout speed with the embedded model on DomEnv: is domplay's share of the wall time small?

Runs the embedded model (constrained decoding, batched across episodes) over held-out tasks
on the built-in sites in DomEnv and measures the whole rollout's wall time, the part spent
inside the model's generate calls, and the generated tokens.

    python bench/rollout_speed.py [--tasks 16] [--concurrency 8] [--max-steps 4]

The same rollout runs three times: without the backend's prefix cache (the system prompt's
keys/values computed once) or length batching (prompts of similar length batched together, see
`transformers_backend.length_batches`), with the cache, and with both; the speed-ups and whether
the actions agree are printed.

Last line: one JSON object with `episodes_per_s`, `llm_time_share`, `gen_tokens_per_s` (both on),
`prefix_cache_speedup` and `length_batches_speedup`.
"""

from __future__ import annotations

import json
import time

import click

from domplay.agent.evaluate import run_episodes
from domplay.agent.policy import Policy
from domplay.config import load_config
from domplay.llm.load import load_model
from domplay.sites.app import SitesApp
from domplay.tasks.presets import PRESETS, propose_preset


class TimedModel:
    """Wraps a ChatModel and adds up the wall time and tokens of its generate calls."""

    def __init__(self, model):
        self.model, self.name = model, model.name
        self.seconds = 0.0
        self.tokens = 0

    def generate(self, prompts, params, constraints=None):
        started = time.perf_counter()
        out = self.model.generate(prompts, params, constraints)
        self.seconds += time.perf_counter() - started
        self.tokens += sum(c.completion_tokens for per_prompt in out for c in per_prompt)
        return out


def measure(tasks, sites, concurrency: int, max_steps: int, obs_tokens: int, **backend) -> dict:
    """One timed rollout over `tasks` (after a warm-up batch) with a fresh embedded model whose
    transformers backend takes `backend` options (prefix_cache, batch_call_tokens)."""
    model = TimedModel(load_model("embedded", **backend))
    run = load_config(
        overrides={
            "env": {"max_steps": max_steps, "observation": {"max_tokens": obs_tokens}},
            "rollout": {"concurrency": concurrency, "steps_per_reference_step": None},
        }
    )
    policy = Policy(model, run.policy)
    # The loop's own path (run_episodes, envs from the run's EnvSettings); a warm-up pays one-off costs.
    run_episodes(
        policy,
        tasks[:concurrency],
        sites,
        env=run.env,
        rollout=run.rollout,
        seed=run.seed,
        round=99,
        show_progress=False,
    )
    model.seconds, model.tokens = 0.0, 0
    started = time.perf_counter()
    episodes = run_episodes(policy, tasks, sites, env=run.env, rollout=run.rollout, seed=run.seed, show_progress=False)
    wall = time.perf_counter() - started
    steps = sum(len(e.steps) for e in episodes)
    return {
        "episodes": len(episodes),
        "steps": steps,
        "wall_s": round(wall, 2),
        "episodes_per_s": round(len(episodes) / wall, 4),
        "steps_per_s": round(steps / wall, 3),
        "llm_time_share": round(model.seconds / wall, 4),
        "outside_model_share": round(1 - model.seconds / wall, 4),
        "gen_tokens_per_s": round(model.tokens / model.seconds, 2),
        "actions": [s.action for e in episodes for s in e.steps],
    }


@click.command()
@click.option("--tasks", "n_tasks", default=16, show_default=True)
@click.option("--concurrency", default=8, show_default=True)
@click.option("--max-steps", default=4, show_default=True)
@click.option("--obs-tokens", default=None, type=int, help="[default: the run's env.observation.max_tokens]")
def main(n_tasks: int, concurrency: int, max_steps: int, obs_tokens: int | None) -> None:
    tasks = propose_preset(PRESETS["heldout"])[:n_tasks]
    sites = SitesApp(seed=0)
    budget = obs_tokens if obs_tokens is not None else load_config().env.observation.max_tokens
    plain = measure(tasks, sites, concurrency, max_steps, budget, prefix_cache=False, batch_call_tokens=None)
    cached = measure(tasks, sites, concurrency, max_steps, budget, prefix_cache=True, batch_call_tokens=None)
    grouped = measure(tasks, sites, concurrency, max_steps, budget, prefix_cache=True)
    actions = [run.pop("actions") for run in (plain, cached, grouped)]
    for name, run in (("neither", plain), ("prefix cache", cached), ("prefix cache + length batches", grouped)):
        print(f"{name:30s} {json.dumps(run)}")
    cache_up, length_up = plain["wall_s"] / cached["wall_s"], cached["wall_s"] / grouped["wall_s"]
    print(
        f"prefix cache speed-up {cache_up:.2f}x, length batches on top {length_up:.2f}x; "
        f"same actions: {actions[0] == actions[1]}, {actions[1] == actions[2]}"
    )
    print(
        json.dumps(
            dict(
                grouped,
                prefix_cache_speedup=round(cache_up, 3),
                length_batches_speedup=round(length_up, 3),
                same_actions_with_and_without_prefix_cache=actions[0] == actions[1],
                same_actions_with_and_without_length_batches=actions[1] == actions[2],
                obs_tokens=budget,
            )
        )
    )


if __name__ == "__main__":
    main()
