"""Observation budget: how long are the policy's prompts, and how often does a step see its whole page?

Replays the reference solutions of the held-out preset's tasks in DomEnv with the run's defaults
(`domplay.config.RunConfig()`: observation budget, step limits, history length) and, at every step,
tokenizes the whole prompt the policy builds (system message, task, history, page) with the
embedded model's tokenizer (SmolLM2), as its chat template renders it. A step sees its whole page
when its observation starts at the top and cuts nothing; a scroll step is one the replay had to
insert because the reference's target lay outside the shown part.

    python bench/observation_budget.py [--format compact|lines] [--obs-tokens N] [--action-form name|id]
                                       [--action-help brief|full] [--tasks heldout]

Last line: one JSON object with `prompt_tokens_median`, `prompt_tokens_p90`, `whole_page_share`,
`scroll_share` (scroll steps over all steps), `steps`, `scroll_steps`, `failed_episodes` and the
settings measured.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import click

from domplay.agent.evaluate import run_episodes
from domplay.agent.policy import Decision, PolicyConfig, Query, ReferencePolicy
from domplay.config import load_config
from domplay.llm.embedded import embedded_model_dir
from domplay.sites.app import SitesApp
from domplay.tasks.presets import resolve_tasks

P90 = 9
"""Index of the 90th percentile among `statistics.quantiles(n=10)`'s cut points (1-based: the 9th)."""


@dataclass(frozen=True)
class StepFigures:
    task_id: str
    site: str
    prompt_tokens: int
    whole_page: bool
    scroll: bool


class Measuring(ReferencePolicy):
    """The reference replay, recording each step's prompt length and whether the page was whole."""

    def __init__(self, config: PolicyConfig, tokenizer):
        super().__init__(config)
        self.tokenizer = tokenizer
        self.steps: list[StepFigures] = []

    def act(self, queries: Sequence[Query]) -> list[Decision]:
        decisions = super().act(queries)
        for query, decision in zip(queries, decisions, strict=True):
            obs = query.observation
            text = self.tokenizer.apply_chat_template(decision.prompt, tokenize=False, add_generation_prompt=True)
            ids = self.tokenizer(text, add_special_tokens=False).input_ids
            self.steps.append(
                StepFigures(
                    task_id=query.task.id,
                    site=query.task.site,
                    prompt_tokens=len(ids),
                    whole_page=obs.offset == 0 and obs.cut_note is None,
                    scroll=decision.completion.startswith("scroll("),
                )
            )
        return decisions


def _row(name: str, steps: list[StepFigures]) -> str:
    tokens = [s.prompt_tokens for s in steps]
    p90 = statistics.quantiles(tokens, n=10)[P90 - 1] if len(tokens) > 1 else tokens[0]
    whole = sum(s.whole_page for s in steps) / len(steps)
    scrolls = sum(s.scroll for s in steps)
    return (
        f"{name:8s} {len(steps):6d} {statistics.median(tokens):8.0f} {p90:6.0f} {whole:8.1%} "
        f"{scrolls:6d} {scrolls / len(steps):7.1%}"
    )


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["compact", "lines"]),
    default=None,
    help="the observation rendering [default: the run's env.observation.format]",
)
@click.option(
    "--obs-tokens", type=int, default=None, help="observation budget [default: the run's env.observation.max_tokens]"
)
@click.option(
    "--action-form",
    type=click.Choice(["name", "id"]),
    default=None,
    help="the policy's action form [default: the run's policy.action_form]",
)
@click.option(
    "--action-help",
    type=click.Choice(["brief", "full"]),
    default=None,
    help="the system prompt's action list [default: the run's policy.action_help]",
)
@click.option("--tasks", "task_spec", default="heldout", show_default=True, help="preset or task file")
def main(
    fmt: str | None, obs_tokens: int | None, action_form: str | None, action_help: str | None, task_spec: str
) -> None:
    from transformers import AutoTokenizer

    run = load_config(preset="quick")
    ids = "all" if action_form == "id" else None  # an agent acting by id sees every id
    observation = run.env.observation.model_copy(
        update={k: v for k, v in (("format", fmt), ("max_tokens", obs_tokens), ("ids", ids)) if v is not None}
    )
    env = run.env.model_copy(update={"observation": observation})
    policy_config = run.policy.model_copy(
        update={k: v for k, v in (("action_form", action_form), ("action_help", action_help)) if v is not None}
    )
    fmt, budget = observation.format, observation.max_tokens
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    tasks = [t for t in resolve_tasks(task_spec, run.tasks.site_seed) if t.reference]
    sites = SitesApp(seed=run.tasks.site_seed, names=sorted({t.site for t in tasks}))
    policy = Measuring(policy_config, tokenizer)
    rollout = run.rollout.model_copy(update={"samples_per_task": 1})
    episodes = run_episodes(policy, tasks, sites, env=env, rollout=rollout, seed=run.seed, show_progress=False)
    seconds = time.perf_counter() - started
    steps = policy.steps
    failed = sum(not ep.success for ep in episodes)
    by_site: dict[str, list[StepFigures]] = defaultdict(list)
    for s in steps:
        by_site[s.site].append(s)
    print(
        f"{len(tasks)} reference replays ({task_spec}), format {fmt}, obs budget {budget} tokens, "
        f"history {run.policy.history_steps} steps; {failed} failed; {seconds:.1f} s"
    )
    print(f"{'':8s} {'steps':>6s} {'median':>8s} {'p90':>6s} {'whole':>8s} {'scroll':>6s} {'share':>7s}")
    print(f"{'':8s} {'':6s} {'prompt tokens':>15s} {'page':>8s} {'steps':>6s}")
    for site, rows in sorted(by_site.items()):
        print(_row(site, rows))
    print(_row("all", steps))
    tokens = [s.prompt_tokens for s in steps]
    print(
        json.dumps(
            {
                "prompt_tokens_median": statistics.median(tokens),
                "prompt_tokens_mean": round(statistics.mean(tokens), 1),
                "prompt_tokens_p90": statistics.quantiles(tokens, n=10)[P90 - 1],
                "whole_page_share": round(sum(s.whole_page for s in steps) / len(steps), 4),
                "scroll_share": round(sum(s.scroll for s in steps) / len(steps), 4),
                "steps": len(steps),
                "scroll_steps": sum(s.scroll for s in steps),
                "failed_episodes": failed,
                "format": fmt,
                "obs_tokens": budget,
                "action_form": policy_config.action_form,
                "action_help": policy_config.action_help,
                "history_steps": run.policy.history_steps,
                "tasks": len(tasks),
                "seconds": round(seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
