"""Teacher-forced step accuracy: how often does a model pick the reference's action?

A fast proxy for held-out success while tuning training: the reference solution drives every
episode (so each step sits at a state a correct agent reaches), and at each step the model is
asked for its action on the same prompt it would get in a run. No episode depends on the
model's earlier mistakes, so a few hundred steps give a stable figure in minutes, broken down
by action kind and difficulty.

    python bench/step_accuracy.py --model embedded [--tasks heldout] [--limit 40]
    python bench/step_accuracy.py --model runs/quick/round1/sft [--dtype float32]

An action counts when it does what the reference does or is an order-free alternative to it
(another order of independent fills and selects; `domplay.agent.teacher`). Scrolls count: when the
target is below the observation's budget, scrolling is the right move.

Last line: one JSON object with `steps`, `accuracy`, `by_kind`, `by_difficulty`, `by_template`, `seconds`.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import click

from domplay.agent.teacher import spread, step_accuracy
from domplay.config import load_config
from domplay.hardware import fast_dtype
from domplay.llm.load import load_model
from domplay.sites.app import SitesApp
from domplay.tasks.presets import resolve_tasks


@click.command()
@click.option("--model", "spec", default="embedded", show_default=True, help="embedded | model dir | hf:PATH")
@click.option("--tasks", "task_spec", default="heldout", show_default=True, help="preset or task file")
@click.option("--limit", default=40, show_default=True, help="tasks, a seeded sample of the set")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="run config whose env, policy and rollout sections to use [default: the quick preset's]",
)
@click.option("--obs-tokens", default=None, type=int, help="env.observation.max_tokens [default: the config's]")
@click.option("--history", default=None, type=int, help="policy.history_steps [default: the config's]")
@click.option(
    "--action-form",
    type=click.Choice(["name", "id"]),
    default=None,
    help="policy.action_form: how actions name elements [default: the config's]",
)
@click.option("--show", default=0, show_default=True, help="print this many misses per action kind")
@click.option("--batch", default=None, type=int, help="rollout.concurrency: episodes in flight = the model's batch")
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16"]),
    default="auto",
    show_default=True,
    help="the transformers backend's dtype",
)
def main(
    spec: str,
    task_spec: str,
    limit: int,
    config_path: str | None,
    obs_tokens: int | None,
    history: int | None,
    action_form: str | None,
    show: int,
    batch: int | None,
    dtype: str,
) -> None:
    overrides: dict = {}
    if obs_tokens is not None:
        overrides["env"] = {"observation": {"max_tokens": obs_tokens}}
    if history is not None or action_form is not None:
        overrides["policy"] = {
            k: v for k, v in (("history_steps", history), ("action_form", action_form)) if v is not None
        }
    if batch is not None:
        overrides["rollout"] = {"concurrency": batch}
    config = load_config(config_path, overrides=overrides)  # the run's env, policy and rollout
    tasks = spread([t for t in resolve_tasks(task_spec) if t.reference], limit)
    sites = SitesApp(seed=0)
    model = load_model(spec, dtype=fast_dtype(dtype), batch_size=config.rollout.concurrency)  # as a run's evals
    started = time.perf_counter()
    result, grades = step_accuracy(
        model, tasks, sites, env=config.env, policy=config.policy, rollout=config.rollout, seed=config.seed
    )
    seconds = time.perf_counter() - started
    shown: dict[str, int] = defaultdict(int)
    for g in grades:
        if not g.correct and shown[g.kind] < show:
            shown[g.kind] += 1
            print(f"  miss {g.task_id}: want {g.reference}  got {g.model}")
    print(f"{result.steps} graded steps over {len(tasks)} tasks ({spec}, {dtype}) in {seconds:.0f} s")
    for axis, table in result.by.items():
        for key, (ok, n) in sorted(table.items()):
            print(f"  {axis:10s} {key:16s} {ok:4d}/{n:<4d} {ok / n:6.1%}")
    print(
        json.dumps(
            {**result.as_dict(), "seconds": round(seconds, 1), "dtype": dtype, "actions": [g.model for g in grades]}
        )
    )


if __name__ == "__main__":
    main()
