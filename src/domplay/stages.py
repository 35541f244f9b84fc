"""The stages of a run (see `domplay.loop`): each takes a `StageContext` and reads and writes its store.

Every stage is safe to re-run after a crash: rollouts skip episode ids already stored,
builders read only stored episodes (so a resumed round builds the same datasets), and
training writes its checkpoint atomically before the stage is marked done.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from domplay.agent.episode import Episode
from domplay.agent.evaluate import EvalReport, evaluate, run_episodes, summarize_episodes
from domplay.agent.policy import Policy, ReferencePolicy
from domplay.agent.rollout import DemoPicker, ScreenshotFiles
from domplay.autoif_sources import autoif_source, metrics_source, plans_source
from domplay.config import RunConfig
from domplay.data.builders import build_round, build_sft
from domplay.data.demos import DemoSet, build_demos
from domplay.data.export import export
from domplay.data.pairs import chat_model_generate, spin_pairs
from domplay.data.records import PairKind, SftExample
from domplay.data.store import CheckpointRecord, DatasetRecord, RunStore
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.env.miniwob import MINIWOB_SITE
from domplay.errors import ConfigError
from domplay.llm.base import ChatModel, GenerationParams
from domplay.llm.load import load_model, local_dtype
from domplay.rundir import DEMOS_FILE, policy_name, round_dir
from domplay.sites.app import SitesApp
from domplay.sources import curriculum_source, explore_source, hindsight_tasks
from domplay.tasks.miniwob import MiniWoBProposer
from domplay.tasks.model import Split, Task
from domplay.tasks.propose import TemplateProposer
from domplay.tasks.sources import OVER_MAX_STEPS, Proposal, ProposalFailure, share_counts

PAIR_KINDS_FOR_DPO: tuple[PairKind, ...] = ("reference", "step")
"""Pair kinds DPO trains on: model vs verified reference action, and success vs failure at one state."""
PROPOSAL_TRIES_PER_TASK = 20
"""Template draws per wanted task before proposing gives up (a small env.max_steps rejects many)."""
ONLINE_SUFFIX = "-online"
"""Policy-name suffix of the episodes online DPO samples from a round's SFT model."""


class ModelCache:
    """The run's loaded ChatModel, by (spec, dtype): a round's eval and the next round's rollouts
    share it when their dtypes agree. Only one model is kept in memory at a time."""

    def __init__(self) -> None:
        self._key: tuple[str, str] | None = None
        self._model: ChatModel | None = None

    def get(self, spec: str, dtype: str, batch_size: int) -> ChatModel:
        """The model of `spec`; a local one in `dtype`, batching `batch_size` prompts per generate call."""
        if self._key != (spec, dtype) or self._model is None:
            self._model = None  # free the old one before loading the next
            self._model = load_model(spec, dtype=dtype, batch_size=batch_size)
            self._key = (spec, dtype)
        return self._model

    @property
    def loaded(self) -> tuple[tuple[str, str], ChatModel] | None:
        """((spec, dtype), model) of the model in memory, or None."""
        return (self._key, self._model) if self._key is not None and self._model is not None else None

    def clear(self) -> None:
        self._key, self._model = None, None


@dataclass
class StageContext:
    """What a stage may use: the run's directory, config, store, sites and model cache."""

    dir: Path
    config: RunConfig
    store: RunStore
    sites: SitesApp
    models: ModelCache = field(default_factory=ModelCache)

    def model_after(self, r: int) -> str:
        """The model that acts after round `r`'s training (round 0: the starting model)."""
        if r == 0:
            return self.config.model
        records = [c for c in self.store.checkpoints(r) if c.name == "final"]
        if not records:
            return self.model_after(r - 1)  # a round that trained nothing keeps the previous model
        return f"hf:{records[0].path}"

    def heldout_tasks(self) -> list[Task]:
        return self.store.tasks(split="heldout")

    def record_dataset(
        self, r: int, name: str, kind: str, path: str | None, rows: int, config: dict, yield_row: dict
    ) -> None:
        self.store.record_dataset(
            DatasetRecord(round=r, name=name, kind=kind, path=path, rows=rows, config=config, yield_numbers=yield_row)
        )

    def record_checkpoint(
        self, r: int, name: str, path: str, config: dict, git_revision: str | None, metrics: dict
    ) -> None:
        self.store.record_checkpoint(
            CheckpointRecord(round=r, name=name, path=path, config=config, git_revision=git_revision, metrics=metrics)
        )


# -- episodes ---------------------------------------------------------------------------------
def demo_picker(ctx: StageContext, up_to_round: int) -> DemoPicker | None:
    """Few-shot demos from the newest demo pool of rounds <= `up_to_round` (None if none or off)."""
    if ctx.config.policy.demos == 0:
        return None
    paths = [ctx.dir / f"round{r}" / "data" / DEMOS_FILE for r in range(up_to_round, 0, -1)]
    path = next((p for p in paths if p.is_file()), None)
    return DemoSet.load(path).picker(ctx.config.policy.demos) if path is not None else None


def episode_options(ctx: StageContext, r: int, name: str, desc: str) -> dict[str, Any]:
    """`run_episodes` keyword arguments every stage passes alike."""
    c = ctx.config
    return {
        "round": r,
        "policy_name": name,
        "skip": ctx.store.episode_ids(round=r, policy=name),
        "on_episode": ctx.store.add_episode,
        "desc": desc,
        "screenshots": ScreenshotFiles(ctx.dir) if c.env.screenshots else None,
    }


def eval_stage(ctx: StageContext, r: int) -> None:
    """Round `r`'s model on the held-out tasks (`domplay eval --config` runs the same)."""
    c = ctx.config
    dtype = local_dtype(ctx.model_after(r), c.eval.dtype)
    ctx.store.record_metrics(r, "eval", {"bfloat16": float(dtype == "bfloat16")})  # what "auto" chose
    model = ctx.models.get(ctx.model_after(r), dtype, c.rollout.concurrency)
    evaluate(
        model,
        ctx.heldout_tasks(),
        ctx.sites,
        env=c.env,
        policy=c.policy,
        rollout=c.rollout,
        eval=c.eval,
        seed=c.seed,
        demos=demo_picker(ctx, r),
        **episode_options(ctx, r, policy_name(r), f"round {r} eval"),
    )


def evaluate_config(
    config: RunConfig,
    tasks_spec: str | None = None,
    limit: int | None = None,
    demos_path: str | Path | None = None,
    plan: bool = False,
    on_episode: Callable[[Episode], None] | None = None,
) -> EvalReport:
    """`domplay eval`: `config.model` on the config's held-out tasks (proposed as its round 0 does) or
    on `tasks_spec` (a task file or preset), with everything else as the run's evals do it. Each
    finished episode also goes to `on_episode`."""
    from domplay.agent.plan import Planner
    from domplay.tasks.presets import resolve_tasks

    if tasks_spec is None:
        sites = SitesApp(seed=config.tasks.site_seed, names=config.tasks.sites)
        tasks = propose_heldout(config, sites).tasks[:limit]
    else:
        tasks = resolve_tasks(tasks_spec, config.tasks.site_seed, config.tasks.miniwob, config.env.miniwob)[:limit]
        names = sorted({t.site for t in tasks if not t.is_external and t.site != MINIWOB_SITE}) or None
        sites = SitesApp(seed=config.tasks.site_seed, names=names)
    if config.env.kind != "browser" and any(t.site == MINIWOB_SITE for t in tasks):
        raise ConfigError("MiniWoB++ tasks run their pages' JavaScript, which the dom env does not: use --env browser")
    model = load_model(
        config.model, dtype=local_dtype(config.model, config.eval.dtype), batch_size=config.rollout.concurrency
    )
    demos = DemoSet.load(demos_path).picker(config.policy.demos) if demos_path is not None else None
    episodes = evaluate(
        model,
        tasks,
        sites,
        env=config.env,
        policy=config.policy,
        rollout=config.rollout,
        eval=config.eval,
        seed=config.seed,
        demos=demos,
        planner=Planner(model) if plan else None,
        desc="eval",
        on_episode=on_episode,
    )
    return summarize_episodes(tasks, episodes)


def _model_rollouts(
    ctx: StageContext, r: int, tasks: Sequence[Task], spec: str, name: str, demos_round: int, desc: str
) -> None:
    """`rollout.samples_per_task` training episodes of `spec` at `rollout.temperature`."""
    c = ctx.config
    model = ctx.models.get(spec, c.rollout.dtype, c.rollout.concurrency)
    policy = Policy(model, c.policy.model_copy(update={"temperature": c.rollout.temperature}))
    run_episodes(
        policy,
        tasks,
        ctx.sites,
        env=c.env,
        rollout=c.rollout,
        seed=c.seed,
        demos=demo_picker(ctx, demos_round),
        **episode_options(ctx, r, name, desc),
    )


def reference_replays(config: RunConfig, tasks: Sequence[Task], sites: SitesApp, **options: Any) -> list[Episode]:
    """One replay of each task's reference solution through the prompts the model gets, under the run's
    env, policy and rollout settings: how proposal checks a reference fits, the rollout stage makes
    verified data and the benches measure prompts. `options` go to `run_episodes`."""
    rollout = config.rollout.model_copy(update={"samples_per_task": 1})
    return run_episodes(
        ReferencePolicy(config.policy), tasks, sites, env=config.env, rollout=rollout, seed=config.seed, **options
    )


def rollout_stage(ctx: StageContext, r: int) -> None:
    """Reference replays and the current model's episodes on round `r`'s training tasks."""
    c = ctx.config
    tasks = ctx.store.tasks(split="train", round=r)
    with_reference = [t for t in tasks if t.reference]  # MiniWoB++ tasks have none
    if c.rollout.replay_reference and with_reference:
        reference_replays(
            c, with_reference, ctx.sites, **episode_options(ctx, r, c.build.reference_policy, f"round {r} reference")
        )
    if c.rollout.samples_per_task > 0 and r >= c.rollout.first_model_round:
        _model_rollouts(ctx, r, tasks, ctx.model_after(r - 1), policy_name(r - 1), r - 1, f"round {r} rollouts")
        if c.tasks.hindsight.model_episodes and set(c.tasks.sources) & SELF_PLAY_SOURCES:
            _hindsight_stage(ctx, r, tasks)


SELF_PLAY_SOURCES = frozenset({"explore", "curriculum"})
"""Sources of a run that learns without an oracle: with them, the model's failed episodes are
relabelled in hindsight too (`tasks.hindsight.model_episodes`)."""


def _hindsight_stage(ctx: StageContext, r: int, tasks: Sequence[Task]) -> None:
    """Relabel the model's failed attempts of round `r` with the goals they achieved; the new tasks
    join round `r` and their verified paths are replayed through the prompts (SFT data)."""
    c = ctx.config
    by_id = {t.id: t for t in tasks}
    episodes = [e for e in ctx.store.episodes(round=r) if e.policy == policy_name(r - 1)]
    proposal = hindsight_tasks(c, ctx.store, ctx.sites, r, episodes, by_id)
    ctx.store.add_tasks(proposal.tasks, round=r)
    ctx.store.record_metrics(r, "hindsight", {"tasks": float(len(proposal.tasks)), **proposal.stats})
    if c.rollout.replay_reference and proposal.tasks:
        reference_replays(
            c,
            proposal.tasks,
            ctx.sites,
            **episode_options(ctx, r, c.build.reference_policy, f"round {r} hindsight paths"),
        )


# -- tasks ------------------------------------------------------------------------------------
@contextmanager
def proposer_for(config: RunConfig, sites: SitesApp) -> Iterator[TemplateProposer]:
    """A TemplateProposer over `sites` that rejects tasks longer than `env.max_steps`; with the
    browser env it can also verify JavaScript templates (widgets) by running their plans in Chromium."""
    max_steps = config.env.max_steps
    if config.env.kind != "browser":
        proposer = TemplateProposer(sites, max_steps=max_steps)
        try:
            yield proposer
        finally:
            proposer.close()
        return
    with EnvFactory(EnvSettings(kind="browser"), sites) as make_browser:
        dom = TemplateProposer(sites)
        proposer = TemplateProposer(
            sites, env_factory=lambda needs_js: make_browser() if needs_js else dom._dom_env(False), max_steps=max_steps
        )
        try:
            yield proposer
        finally:
            proposer.close()


def propose_tasks(config: RunConfig, sites: SitesApp, n: int, split: Split, seed: int) -> Proposal:
    """`n` tasks whose reference replays (as the rollout stage replays them, under `config.env`)
    fit in `env.max_steps`; the others are failures with reason OVER_MAX_STEPS and replaced by
    the proposer's next tasks (the same seed gives the same tasks)."""
    kept: list[Task] = []
    over: list[ProposalFailure] = []
    wanted = n
    with proposer_for(config, sites) as proposer:
        while True:
            proposal = proposer.propose(
                wanted,
                split,
                seed=seed,  # a prefix of any longer proposal
                max_tries_per_task=PROPOSAL_TRIES_PER_TASK,
            )
            fresh = proposal.tasks[len(kept) + len(over) :]
            replays = reference_replays(config, fresh, sites, show_progress=False)
            by_id = {e.task_id: e for e in replays}
            for task in fresh:
                e = by_id[task.id]
                if not e.success and e.status == "truncated" and len(e.steps) >= config.env.max_steps:
                    over.append(
                        ProposalFailure(
                            task.provenance.template or "",
                            task.provenance.seed or 0,
                            f"{OVER_MAX_STEPS}: its reference replay did not finish within "
                            f"env.max_steps={config.env.max_steps} (with scrolls)",
                        )
                    )
                else:
                    kept.append(task)
            if len(kept) >= n or len(proposal.tasks) < wanted:
                break
            wanted += n - len(kept)
    return Proposal(tasks=kept[:n], failures=proposal.failures + over)


def propose_heldout(config: RunConfig, sites: SitesApp) -> Proposal:
    """A run's held-out tasks, as round 0 proposes them (proposer seed = the run's seed); also what
    `domplay eval --config` evaluates on."""
    wanted = config.tasks.heldout_tasks
    if config.tasks.heldout_source == "miniwob":
        return MiniWoBProposer(config.tasks.miniwob, config.env.miniwob).propose(wanted, "heldout", config.seed)
    proposal = propose_tasks(config, sites, wanted, "heldout", config.seed)
    if len(proposal.tasks) < wanted:
        raise ConfigError(
            f"only {len(proposal.tasks)} held-out tasks could be proposed "
            f"({len(proposal.failures)} failures); see the proposer's failures"
        )
    return proposal


def heldout_stage(ctx: StageContext) -> None:
    """The run's held-out tasks, fixed once in round 0."""
    proposal = propose_heldout(ctx.config, ctx.sites)
    ctx.store.add_tasks(proposal.tasks, round=0)
    ctx.store.record_metrics(
        0,
        "heldout",
        {
            "tasks": len(proposal.tasks),
            "failures": len(proposal.failures),
            "over_max_steps": float(proposal.over_max_steps),
        },
    )


def propose_stage(ctx: StageContext, r: int) -> None:
    """Fresh training tasks for round `r` from each source in `tasks.sources`, its share of
    `train_tasks_per_round` each, plus what the sources before it fell short of (proposer seed
    `seed * 1000 + r`); the yield of each source is
    recorded as `<source>_tasks`, `<source>_failures` and the source's own counts."""
    c = ctx.config
    seed = c.seed * 1000 + r
    metrics: dict[str, float] = {}
    carry = 0  # what a source could not propose goes to the next one (a curriculum has nothing in round 1)
    for name, share in share_counts(c.tasks.sources, c.tasks.train_tasks_per_round).items():
        n, carry = share + carry, 0
        if n == 0:
            continue
        proposal = TASK_SOURCES[name](ctx, r, n, seed)
        carry = max(0, n - len(proposal.tasks))
        ctx.store.add_tasks(proposal.tasks, round=r)
        metrics[f"{name}_tasks"] = len(proposal.tasks)
        metrics[f"{name}_failures"] = len(proposal.failures)
        metrics.update({f"{name}_{k}": v for k, v in proposal.stats.items()})
    metrics["tasks"] = sum(v for k, v in metrics.items() if k.endswith("_tasks"))
    metrics["failures"] = sum(v for k, v in metrics.items() if k.endswith("_failures"))
    metrics["over_max_steps"] = metrics.get("template_over_max_steps", 0.0)
    ctx.store.record_metrics(r, "propose", metrics)


def _template_source(ctx: StageContext, r: int, n: int, seed: int) -> Proposal:
    proposal = propose_tasks(ctx.config, ctx.sites, n, "train", seed)
    proposal.stats["over_max_steps"] = float(proposal.over_max_steps)
    return proposal


def _miniwob_source(ctx: StageContext, r: int, n: int, seed: int) -> Proposal:
    """MiniWoB++ tasks on training seeds; no reference, so the model's own verified episodes are the data
    (set rollout.first_model_round: 1 and rollout.samples_per_task > 1 for rejection sampling)."""
    c = ctx.config
    return MiniWoBProposer(c.tasks.miniwob, c.env.miniwob).propose(n, "train", seed)


def proposer_model(ctx: StageContext, r: int, spec: str | None) -> ChatModel:
    """The model that writes round `r`'s tasks: `spec` (a strong proposer) or the run's current model."""
    c = ctx.config
    if spec is None:
        return ctx.models.get(ctx.model_after(r - 1), c.rollout.dtype, c.rollout.concurrency)
    return load_model(spec, dtype=local_dtype(spec, c.rollout.dtype), batch_size=c.rollout.concurrency)


def _autoif_source(ctx: StageContext, r: int, n: int, seed: int) -> Proposal:
    model = proposer_model(ctx, r, ctx.config.tasks.autoif.model)
    return autoif_source(ctx.config, ctx.store, ctx.sites, model, r, n, seed)


def _plans_source(ctx: StageContext, r: int, n: int, seed: int) -> Proposal:
    model = proposer_model(ctx, r, ctx.config.tasks.plans.model)
    return plans_source(ctx.config, ctx.store, ctx.sites, model, r, n, seed)


def _metrics_source(ctx: StageContext, r: int, n: int, seed: int) -> Proposal:
    model = proposer_model(ctx, r, ctx.config.tasks.autoif.model)
    return metrics_source(ctx.config, ctx.store, ctx.sites, model, ctx.dir, r, n, seed)


TASK_SOURCES: dict[str, Callable[[StageContext, int, int, int], Proposal]] = {
    "template": _template_source,
    "autoif": _autoif_source,
    "plans": _plans_source,
    "metrics": _metrics_source,
    "explore": lambda ctx, r, n, seed: explore_source(ctx.config, ctx.store, ctx.sites, r, n, seed),
    "curriculum": lambda ctx, r, n, seed: curriculum_source(ctx.config, ctx.store, ctx.sites, r, n, seed),
    "miniwob": _miniwob_source,
}
"""Training task sources by `tasks.sources` name: (context, round, how many, proposer seed) -> Proposal.
A new source is a `tasks.sources.Proposer` built here from what it needs of the context."""


# -- data -------------------------------------------------------------------------------------
def build_stage(ctx: StageContext, r: int) -> None:
    """SFT examples and preference pairs from round `r`'s stored episodes, exported in TRL formats.

    With `train.method: sft+spin` the preference pairs are SPIN pairs: the previous round's model
    generates at every kept SFT state (rejected) against the verified step (chosen)."""
    c = ctx.config
    tasks = {t.id: t for t in ctx.store.tasks(split="train", round=r)}
    episodes = [e for e in ctx.store.episodes(round=r) if e.task_id in tasks]
    episodes.sort(key=lambda e: e.id)  # the store's order must not change the datasets
    data = build_round(episodes, tasks, c.build, round=r)
    out = round_dir(ctx.dir, r) / "data"
    yield_row = data.yield_table.as_row()
    yield_row["tasks_over_max_steps"] = _over_max_steps(ctx, r)
    yield_row.update(_source_yield(ctx, r))
    config = c.build.model_dump(mode="json")
    sft = _training_sft(ctx, r, data.sft)
    yield_row["sft_trained"] = len(sft)
    yield_row["sft_trained_earlier_rounds"] = sum(1 for e in sft if e.source.round != r)
    yield_row.update(_model_yield(episodes, c.build.reference_policy))
    result = export(sft, out, "sft", formats=("parquet", "jsonl"), kind="sft")
    ctx.record_dataset(r, "sft", "sft", result.paths["parquet"], result.rows, config, yield_row)
    if c.train.method == "sft+spin":
        opponent = ctx.models.get(ctx.model_after(r - 1), c.rollout.dtype, c.rollout.concurrency)
        params = GenerationParams(
            temperature=c.rollout.temperature, max_new_tokens=c.policy.max_new_tokens, seed=c.seed + r
        )
        spin, stats = spin_pairs(
            sft, chat_model_generate(opponent, params), policy_name(r - 1), batch_size=c.rollout.concurrency
        )
        data.pairs["spin"] = spin
        yield_row["spin_agreements"] = stats.agreements
        pairs = spin
    else:
        pairs = [p for kind in PAIR_KINDS_FOR_DPO for p in data.pairs.get(kind, [])]
    pairs = _sample(pairs, c.build.max_dpo_pairs, c.build.seed + r)
    yield_row["pairs_trained"] = len(pairs)
    result = export(pairs, out, "pairs", formats=("parquet", "jsonl"), kind="preference")
    ctx.record_dataset(r, "pairs", "preference", result.paths["parquet"], result.rows, config, yield_row)
    for kind, items in data.pairs.items():
        ctx.record_dataset(r, f"pairs_{kind}", kind, None, len(items), config, yield_row)
    if c.policy.demos > 0:
        demo_config = c.demos.model_copy(update={"seed": c.demos.seed + c.seed + r})
        pool = build_demos(episodes, tasks, demo_config)
        path = pool.save(out / DEMOS_FILE)
        ctx.record_dataset(
            r, "demos", "demos", str(path), len(pool.demos), pool.config.model_dump(mode="json"), yield_row
        )
    ctx.store.record_metrics(r, "build", {k: float(v) for k, v in yield_row.items() if isinstance(v, (int, float))})


def _training_sft(ctx: StageContext, r: int, new: list[SftExample]) -> list[SftExample]:
    """Round `r`'s SFT training set: `max_sft_examples` from its own examples and, with the replay
    buffer, from every earlier round's verified steps (rebuilt from the stored episodes, deduplicated
    against each other and the new ones), `replay_share` of the sample going to the earlier ones."""
    b = ctx.config.build
    if not b.replay_buffer or r <= 1:
        return _sample(new, b.max_sft_examples, b.seed + r)
    tasks = {t.id: t for k in range(1, r) for t in ctx.store.tasks(split="train", round=k)}
    episodes = sorted((e for e in ctx.store.episodes() if e.round < r and e.task_id in tasks), key=lambda e: e.id)
    fresh = {(e.state_key, e.completion) for e in new}
    old = [e for e in build_sft(episodes, tasks, b)[0] if (e.state_key, e.completion) not in fresh]
    cap = b.max_sft_examples
    if cap is None:
        return new + old
    n_old = min(len(old), max(cap - len(new), round(cap * b.replay_share)))
    n_new = min(len(new), cap - n_old)
    n_old = min(len(old), cap - n_new)
    return _sample(new, n_new, b.seed + r) + _sample(old, n_old, b.seed + r + 1)


def _model_yield(episodes: Sequence[Episode], reference_policy: str) -> dict[str, float]:
    """How the round's model attempts on training tasks (not the reference replays) did."""
    attempts = [e for e in episodes if e.policy != reference_policy]
    wins = sum(1 for e in attempts if e.success)
    return {
        "model_attempts": len(attempts),
        "model_successes": wins,
        "model_success_rate": wins / len(attempts) if attempts else 0.0,
    }


def _source_yield(ctx: StageContext, r: int) -> dict[str, float]:
    """Tasks each source gave round `r` (`tasks_<source>`), hindsight on the model's episodes included."""
    out: dict[str, float] = {}
    for m in ctx.store.metrics(round=r):
        if m.stage == "propose" and m.name.endswith("_tasks"):
            out[f"tasks_{m.name.removesuffix('_tasks')}"] = m.value
        elif m.stage == "propose" and m.name.startswith(FILTERED_SOURCES) and "_rejected_" not in m.name:
            out[m.name] = m.value  # a model-written source's filter yield (reasons stay in the metrics)
        elif m.stage == "hindsight" and m.name == "tasks":
            out["tasks_hindsight"] = m.value
    return out


FILTERED_SOURCES = ("autoif_", "plans_", "metrics_")
"""Propose metrics of the model-written sources that join the yield table: drafts, and each filter's
passed and rejected counts; for plans, also plans written and merged, subtasks, their checks and replans."""


def _over_max_steps(ctx: StageContext, r: int) -> int:
    """Tasks the round's proposer rejected because their reference needs more than env.max_steps."""
    return int(sum(m.value for m in ctx.store.metrics(round=r) if m.stage == "propose" and m.name == "over_max_steps"))


def _online_pairs(ctx: StageContext, r: int, model_spec: str) -> Path | None:
    """Online DPO's data: `model_spec` (the round's SFT model) acts on round `r`'s training tasks;
    its episodes, verified, are ranked against each other and the reference replays into step and
    reference pairs (stored episodes are reused on resume). None when too few pairs."""
    c = ctx.config
    name = policy_name(r) + ONLINE_SUFFIX
    tasks = ctx.store.tasks(split="train", round=r)
    _model_rollouts(ctx, r, tasks, model_spec, name, r - 1, f"round {r} online")
    by_id = {t.id: t for t in tasks}
    episodes = [
        e for e in ctx.store.episodes(round=r) if e.task_id in by_id and e.policy in (name, c.build.reference_policy)
    ]
    episodes.sort(key=lambda e: e.id)
    data = build_round(episodes, by_id, c.build, round=r)
    pairs = [p for kind in PAIR_KINDS_FOR_DPO for p in data.pairs.get(kind, [])]
    pairs = _sample(pairs, c.build.max_dpo_pairs, c.build.seed + r)
    result = export(
        pairs, round_dir(ctx.dir, r) / "data", "pairs_online", formats=("parquet", "jsonl"), kind="preference"
    )
    ctx.record_dataset(
        r,
        "pairs_online",
        "preference",
        result.paths["parquet"],
        result.rows,
        c.build.model_dump(mode="json"),
        data.yield_table.as_row(),
    )
    return Path(result.paths["parquet"]) if result.rows >= c.train.min_pairs_for_dpo else None


# -- training ---------------------------------------------------------------------------------
def train_stage(ctx: StageContext, r: int) -> None:
    """SFT from the current model, then the method's preference stage; the result is round `r`'s model.

    dpo: the round's reference/step pairs, reference model = the SFT model. spin: the SPIN pairs,
    reference (opponent) = the previous round's model. online-dpo: pairs sampled now from the SFT
    model and ranked by the verifier, reference = the SFT model."""
    from domplay.train.dpo import train_dpo
    from domplay.train.sft import train_sft

    c, t = ctx.config, ctx.config.train
    if t.method == "none":
        return
    datasets = {d.name: d for d in ctx.store.datasets(round=r)}
    base = ctx.model_after(r - 1)
    out = round_dir(ctx.dir, r)
    current = base
    seed = c.seed + r
    if datasets["sft"].rows > 0:
        sft_config = t.sft.model_copy(update={"seed": t.sft.seed + seed})
        result = train_sft(
            datasets["sft"].path, model=_trainer_model(base), out_dir=_fresh(out / "sft"), config=sft_config
        )
        _record_training(ctx, r, "sft", sft_config, result)
        current = f"hf:{result.model_dir}"
    if t.method == "sft":
        pass
    elif t.method == "sft+online-dpo":
        path = _online_pairs(ctx, r, current)
        ctx.models.clear()  # the trainer needs the memory
        if path is not None:
            dpo_config = t.dpo.model_copy(update={"seed": t.dpo.seed + seed})
            result = train_dpo(
                path, model=_trainer_model(current), out_dir=_fresh(out / "dpo"), config=dpo_config, method="dpo"
            )
            _record_training(ctx, r, "dpo", dpo_config, result)
            current = f"hf:{result.model_dir}"
    elif datasets["pairs"].rows >= t.min_pairs_for_dpo:
        spin = t.method == "sft+spin"
        dpo_config = t.dpo.model_copy(update={"seed": t.dpo.seed + seed})
        name: Literal["dpo", "spin"] = "spin" if spin else "dpo"
        result = train_dpo(
            datasets["pairs"].path,
            model=_trainer_model(current),
            out_dir=_fresh(out / name),
            config=dpo_config,
            reference=_trainer_model(base) if spin else None,
            method=name,
        )
        _record_training(ctx, r, name, dpo_config, result)
        current = f"hf:{result.model_dir}"
    if current != base:
        ctx.record_checkpoint(r, "final", current.removeprefix("hf:"), {}, None, {})


def _record_training(ctx: StageContext, r: int, name: str, config: Any, result: Any) -> None:
    ctx.record_checkpoint(
        r,
        name,
        str(result.model_dir),
        config.model_dump(mode="json"),
        result.git_revision,
        {
            "final_loss": result.final_loss,
            "seconds": result.seconds,
            "losses": list(result.losses),
            "rows": result.rows,
        },
    )


def _sample(items: list, limit: int | None, seed: int) -> list:
    """At most `limit` of `items`, a seeded sample that keeps their order."""
    if limit is None or len(items) <= limit:
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in keep]


def _fresh(path: Path) -> Path:
    """A training output dir, emptied: a crashed earlier attempt leaves nothing behind."""
    if path.exists():
        shutil.rmtree(path)
    return path


def _trainer_model(spec: str) -> str:
    return spec.removeprefix("hf:")
