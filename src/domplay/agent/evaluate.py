"""Evaluation: run a policy over a task set and break success down every useful way."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field
from tqdm import tqdm

from domplay.agent.episode import Episode
from domplay.agent.plan import Planner
from domplay.agent.policy import Policy, PolicyConfig
from domplay.agent.rollout import DemoPicker, RolloutConfig, RolloutEngine, ScreenshotFiles
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.llm.base import ChatModel
from domplay.settings import Settings
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task


@dataclass
class Rate:
    n: int = 0
    success: int = 0

    @property
    def rate(self) -> float:
        return self.success / self.n if self.n else 0.0

    def add(self, ok: bool) -> None:
        self.n += 1
        self.success += int(ok)

    def as_dict(self) -> dict:
        return {"n": self.n, "success": self.success, "rate": round(self.rate, 4)}


@dataclass
class EvalReport:
    """Success overall and by site, difficulty, template and held-out kind, with failure reasons."""

    overall: Rate = field(default_factory=Rate)
    by: dict[str, dict[str, Rate]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Rate)))
    failure_reasons: Counter = field(default_factory=Counter)
    steps: int = 0
    step_errors: int = 0
    parse_errors: int = 0
    episode_errors: int = 0
    seconds: float = 0.0

    @property
    def mean_steps(self) -> float:
        return self.steps / self.overall.n if self.overall.n else 0.0

    def as_dict(self) -> dict:
        return {
            "success_rate": round(self.overall.rate, 4),
            "episodes": self.overall.n,
            "successes": self.overall.success,
            "by": {axis: {k: r.as_dict() for k, r in sorted(rates.items())} for axis, rates in self.by.items()},
            "mean_steps": round(self.mean_steps, 3),
            "step_error_rate": round(self.step_errors / self.steps, 4) if self.steps else 0.0,
            "parse_error_rate": round(self.parse_errors / self.steps, 4) if self.steps else 0.0,
            "episode_error_rate": round(self.episode_errors / self.overall.n, 4) if self.overall.n else 0.0,
            "failure_reasons": dict(self.failure_reasons.most_common(15)),
            "seconds": round(self.seconds, 2),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def table(self) -> str:
        """A readable summary table."""
        d = self.as_dict()
        lines = [
            f"success {d['successes']}/{d['episodes']} = {d['success_rate']:.1%}   mean steps "
            f"{d['mean_steps']:.2f}   step errors {d['step_error_rate']:.1%}   "
            f"unparseable {d['parse_error_rate']:.1%}   episode errors {d['episode_error_rate']:.1%}"
        ]
        for axis, rates in d["by"].items():
            lines.append(f"by {axis}:")
            for key, r in rates.items():
                lines.append(f"  {key:<32} {r['success']:>4}/{r['n']:<4} {r['rate']:6.1%}")
        if d["failure_reasons"]:
            lines.append("most common failed checks:")
            for reason, count in d["failure_reasons"].items():
                lines.append(f"  {count:>4}  {reason[:110]}")
        return "\n".join(lines)


def summarize_episodes(tasks: Sequence[Task], episodes: Sequence[Episode]) -> EvalReport:
    """The EvalReport of `episodes` (each must belong to one of `tasks`)."""
    by_id = {t.id: t for t in tasks}
    report = EvalReport()
    for ep in episodes:
        task = by_id[ep.task_id]
        ok = ep.success
        report.overall.add(ok)
        report.by["site"][task.site].add(ok)
        report.by["difficulty"][task.difficulty].add(ok)
        report.by["template"][task.provenance.template or "(none)"].add(ok)
        if task.provenance.split == "heldout":
            kind = "heldout template" if task.provenance.extra.get("heldout_template") else "seen template, new seed"
            report.by["heldout kind"][kind].add(ok)
        report.steps += len(ep.steps)
        report.step_errors += sum(1 for s in ep.steps if s.error is not None)
        report.parse_errors += sum(1 for s in ep.steps if s.action is None)
        report.episode_errors += int(ep.status == "error")
        report.seconds += ep.seconds
        if not ok and ep.verdict is not None:
            for r in ep.verdict.results:
                if not r.passed:
                    report.failure_reasons[f"{r.kind}: {_generic(r.reason)}"] += 1
        elif ep.status == "error":
            report.failure_reasons[f"episode error: {(ep.error or '')[:60]}"] += 1
    return report


def _generic(reason: str) -> str:
    """A reason with its specific values dropped, so similar failures group together."""
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
    return re.sub(r"\d+(\.\d+)?", "N", reason)[:100]


class EvalConfig(Settings):
    """How held-out evals run (in `domplay run` and `domplay eval` alike); the policy, rollout and
    env settings are the run's own sections."""

    samples_per_task: int = Field(1, ge=1, description="episodes per held-out task")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="a local model's dtype in held-out evals: auto = bfloat16 where the hardware "
        "computes it (a GPU; a CPU with AMX or AVX512-BF16: ~2x faster there), else float32. Evals are greedy "
        "and build no training data, so bf16's batch-dependent rounding cannot change a dataset",
    )


def run_episodes(
    policy: Policy,
    tasks: Sequence[Task],
    sites: SitesApp,
    *,
    env: EnvSettings,
    rollout: RolloutConfig,
    seed: int,
    round: int = 0,
    policy_name: str | None = None,
    demos: DemoPicker | None = None,
    planner: Planner | None = None,
    screenshots: ScreenshotFiles | None = None,
    skip: Iterable[str] = (),
    on_episode: Callable[[Episode], None] | None = None,
    desc: str = "episodes",
    show_progress: bool = True,
) -> list[Episode]:
    """`rollout.samples_per_task` episodes of every task (but the episode ids in `skip`) by `policy`
    in envs built from `env`: the one path by which the loop's rollouts and evals, `domplay eval`
    and the benches run episodes. Each finished episode goes to `on_episode` at once."""
    skip = set(skip)
    todo = len(tasks) * rollout.samples_per_task - len(skip)
    with EnvFactory(env, sites) as make_env:
        engine = RolloutEngine(
            policy,
            make_env,
            rollout,
            policy_name=policy_name,
            env_kind=env.kind,
            demos=demos,
            planner=planner,
            screenshots=screenshots,
            seed=seed,
        )
        bar = tqdm(total=max(todo, 0), desc=desc, unit="ep", dynamic_ncols=True, disable=not show_progress)
        try:
            return engine.run(tasks, round=round, skip=skip, on_episode=on_episode, progress=lambda ep: bar.update(1))
        finally:
            bar.close()
            engine.close()


def evaluate(
    model: ChatModel,
    tasks: Sequence[Task],
    sites: SitesApp,
    *,
    env: EnvSettings,
    policy: PolicyConfig,
    rollout: RolloutConfig,
    eval: EvalConfig,
    seed: int,
    **episodes: Any,
) -> list[Episode]:
    """Held-out episodes of `model`: the policy at `policy.temperature`, `eval.samples_per_task` per
    task, rollouts otherwise as configured; `episodes` are `run_episodes`' keyword arguments."""
    setup = rollout.model_copy(update={"samples_per_task": eval.samples_per_task})
    return run_episodes(Policy(model, policy), tasks, sites, env=env, rollout=setup, seed=seed, **episodes)
