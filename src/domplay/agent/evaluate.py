"""Evaluation: run a policy over a task set and break success down every useful way."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from domplay.agent.episode import Episode
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
            "success_rate": round(self.overall.rate, 4), "episodes": self.overall.n,
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
        lines = [f"success {d['successes']}/{d['episodes']} = {d['success_rate']:.1%}   mean steps "
                 f"{d['mean_steps']:.2f}   step errors {d['step_error_rate']:.1%}   "
                 f"unparseable {d['parse_error_rate']:.1%}   episode errors {d['episode_error_rate']:.1%}"]
        for axis, rates in d["by"].items():
            lines.append(f"by {axis}:")
            for key, r in rates.items():
                lines.append(f"  {key:<32} {r['success']:>4}/{r['n']:<4} {r['rate']:6.1%}")
        if d["failure_reasons"]:
            lines.append("most common failed checks:")
            for reason, count in d["failure_reasons"].items():
                lines.append(f"  {count:>4}  {reason[:110]}")
        return "\n".join(lines)


def summarize(tasks: Sequence[Task], episodes: Sequence[Episode]) -> EvalReport:
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
    import re

    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
    return re.sub(r"\d+(\.\d+)?", "N", reason)[:100]


def run_eval(model_spec: str = "embedded", tasks_spec: str = "heldout", env_kind: str = "dom",
             samples: int = 1, plan: bool = False, max_steps: int = 12, concurrency: int = 8,
             temperature: float = 0.0, obs_tokens: int = 512, constrained: bool = True,
             site_seed: int = 0, limit: int | None = None, show_progress: bool = True,
             demos_path: str | None = None, shots: int = 2, dtype: str = "auto") -> EvalReport:
    """`domplay eval`: load the model and tasks, run rollouts, summarize. A local model runs in
    `dtype`; "auto" is bfloat16 where the hardware computes it natively (see domplay.hardware)."""
    from tqdm import tqdm

    from domplay.agent.policy import Policy, PolicyConfig
    from domplay.agent.rollout import RolloutConfig, RolloutEngine
    from domplay.env.factory import EnvFactory, EnvSettings
    from domplay.env.observation import ObservationConfig
    from domplay.sites.app import SitesApp
    from domplay.tasks.presets import resolve_tasks

    tasks = resolve_tasks(tasks_spec, site_seed)[:limit]
    from domplay.hardware import fast_dtype
    from domplay.llm.load import is_local_spec

    local = {"dtype": fast_dtype(dtype), "batch_size": concurrency} if is_local_spec(model_spec) else {}
    model = load_any_model(model_spec, **local)
    pick = None
    if demos_path is not None:
        from domplay.agent.prompts import Demo as PromptDemo
        from domplay.data.demos import DemoSet

        pool = DemoSet.load(demos_path)

        def pick(task):
            return [PromptDemo(user=d.as_messages()[0]["content"], action=d.action) for d in pool.demos_for(task, shots)]
    policy = Policy(model, PolicyConfig(temperature=temperature, constrained=constrained,
                                        demos=shots if pick is not None else 0))
    planner = None
    if plan:
        from domplay.agent.plan import Planner

        planner = Planner(model)
    settings = EnvSettings(kind=env_kind, observation=ObservationConfig(max_tokens=obs_tokens))
    sites = SitesApp(seed=site_seed, names=sorted({t.site for t in tasks if not t.is_external}) or None)
    config = RolloutConfig(samples_per_task=samples, concurrency=concurrency, max_steps=max_steps)
    with EnvFactory(settings, sites) as make_env:
        extra = {"planner": planner} if planner is not None else {}
        engine = RolloutEngine(policy, make_env, config, env_kind=env_kind, demos=pick, **extra)
        bar = tqdm(total=len(tasks) * samples, desc="eval", unit="ep", disable=not show_progress)
        try:
            episodes = engine.run(tasks, progress=lambda ep: bar.update(1))
        finally:
            bar.close()
            engine.close()
    return summarize(tasks, episodes)


def load_any_model(spec: str, **options):
    """`load_model(spec, **options)`, plus `random` for the random-policy baseline."""
    if spec == "random":
        from domplay.agent.baselines import RandomModel

        return RandomModel()
    from domplay.llm.load import load_model

    return load_model(spec, **options)
