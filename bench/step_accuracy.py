"""Teacher-forced step accuracy: how often does a model pick the reference's action?

A fast proxy for held-out success while tuning training: the reference solution drives every
episode (so each step sits at a state a correct agent reaches), and at each step the model is
asked for its action on the same prompt it would get in a run. No episode depends on the
model's earlier mistakes, so a few hundred steps give a stable figure in minutes, broken down
by action kind and difficulty.

    python bench/step_accuracy.py --model embedded [--tasks heldout] [--limit 40]
    python bench/step_accuracy.py --model runs/quick/round1/sft [--dtype float32]

Scrolls count: when the target is below the observation's budget, scrolling is the right move.

Last line: one JSON object with `steps`, `accuracy`, `by_kind`, `by_difficulty`, `seconds`.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence

import click

from domplay.agent.evaluate import run_episodes
from domplay.agent.policy import Decision, Policy, PolicyConfig, Query, ReferencePolicy
from domplay.config import load_config
from domplay.env import actions as A
from domplay.llm.load import load_model
from domplay.sites.app import SitesApp
from domplay.tasks.presets import resolve_tasks


class TeacherForced(ReferencePolicy):
    """Executes the reference's action; records the model's action for the same prompt."""

    def __init__(self, model, config: PolicyConfig):
        super().__init__(config)
        self.student = Policy(model, config)
        self.records: list[tuple[str, str, str | None]] = []  # (task id, reference, model)

    def act(self, queries: Sequence[Query]) -> list[Decision]:
        reference = super().act(queries)
        model = self.student.act(queries)
        for query, want, got in zip(queries, reference, model, strict=True):
            said = A.format_action(got.action) if got.action is not None else None
            self.records.append((query.task.id, A.format_action(want.action), said))
        return reference


def _kind(action: str) -> str:
    return action.split("(", 1)[0]


@click.command()
@click.option("--model", "spec", default="embedded", show_default=True, help="embedded | model dir | hf:PATH")
@click.option("--tasks", "task_spec", default="heldout", show_default=True, help="preset or task file")
@click.option("--limit", default=40, show_default=True, help="tasks, taken evenly across the set")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="run config whose env, policy and rollout sections to use [default: the quick preset's]")
@click.option("--obs-tokens", default=None, type=int, help="env.observation.max_tokens [default: the config's]")
@click.option("--history", default=None, type=int, help="policy.history_steps [default: the config's]")
@click.option("--action-form", type=click.Choice(["name", "id"]), default=None,
              help="policy.action_form: how actions name elements [default: the config's]")
@click.option("--show", default=0, show_default=True, help="print this many misses per action kind")
@click.option("--batch", default=None, type=int, help="rollout.concurrency: episodes in flight = the model's batch")
@click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto", show_default=True,
              help="the transformers backend's dtype")
def main(spec: str, task_spec: str, limit: int, config_path: str | None, obs_tokens: int | None,
         history: int | None, action_form: str | None, show: int, batch: int | None, dtype: str) -> None:
    overrides: dict = {}
    if obs_tokens is not None:
        overrides["env"] = {"observation": {"max_tokens": obs_tokens}}
    if history is not None or action_form is not None:
        overrides["policy"] = {k: v for k, v in (("history_steps", history), ("action_form", action_form))
                               if v is not None}
    if batch is not None:
        overrides["rollout"] = {"concurrency": batch}
    config = load_config(config_path, overrides=overrides)  # the run's env, policy and rollout
    tasks = [t for t in resolve_tasks(task_spec) if t.reference]
    stride = max(1, len(tasks) // limit)
    tasks = tasks[::stride][:limit]
    sites = SitesApp(seed=0)
    policy = TeacherForced(load_model(spec, dtype=dtype, batch_size=config.rollout.concurrency), config.policy)
    started = time.perf_counter()
    run_episodes(policy, tasks, sites, env=config.env, rollout=config.rollout, seed=config.seed, show_progress=False)
    seconds = time.perf_counter() - started
    difficulty = {t.id: t.difficulty for t in tasks}
    template = {t.id: "held-out" if (t.provenance and t.provenance.extra.get("heldout_template")) else "seen"
                for t in tasks}
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_diff: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_template: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for task_id, want, got in policy.records:
        ok = int(got == want)
        for table, key in ((hits, _kind(want)), (by_diff, difficulty[task_id]), (by_template, template[task_id])):
            table[key][0] += ok
            table[key][1] += 1
    shown: dict[str, int] = defaultdict(int)
    for task_id, want, got in policy.records:
        if got != want and shown[_kind(want)] < show:
            shown[_kind(want)] += 1
            print(f"  miss {task_id}: want {want}  got {got}")
    total = sum(ok for ok, _ in hits.values())
    steps = len(policy.records)
    print(f"{steps} graded steps over {len(tasks)} tasks ({spec}, {dtype}) in {seconds:.0f} s")
    for name, table in (("action", hits), ("difficulty", by_diff), ("template", by_template)):
        for key, (ok, n) in sorted(table.items()):
            print(f"  {name:10s} {key:8s} {ok:4d}/{n:<4d} {ok / n:6.1%}")
    print(json.dumps({"steps": steps, "accuracy": round(total / max(1, steps), 4),
                      "by_kind": {k: round(ok / n, 4) for k, (ok, n) in sorted(hits.items())},
                      "by_difficulty": {k: round(ok / n, 4) for k, (ok, n) in sorted(by_diff.items())},
                      "by_template": {k: round(ok / n, 4) for k, (ok, n) in sorted(by_template.items())},
                      "seconds": round(seconds, 1), "dtype": dtype,
                      "actions": [got for _, _, got in policy.records]}))


if __name__ == "__main__":
    main()
