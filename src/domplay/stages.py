"""The stages of one improvement round (see `domplay.loop`): each reads and writes the store.

Every stage is safe to re-run after a crash: rollouts skip episode ids already stored,
builders read only stored episodes (so a resumed round builds the same datasets), and
training writes its checkpoint atomically before the stage is marked done.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from domplay.agent.policy import Policy, PolicyConfig, ReferencePolicy
from domplay.agent.rollout import RolloutConfig, RolloutEngine, ScreenshotFiles
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.env.observation import ObservationConfig
from domplay.tasks.model import Task

if TYPE_CHECKING:
    from domplay.loop import Run

PAIR_KINDS_FOR_DPO = ("reference", "step")
"""Pair kinds DPO trains on: model vs verified reference action, and success vs failure at one state."""


def env_settings(run: Run) -> EnvSettings:
    c = run.config.env
    return EnvSettings(kind=c.kind, observation=ObservationConfig(max_tokens=c.obs_tokens),
                       screenshots=c.screenshots)


def policy_config(run: Run, temperature: float) -> PolicyConfig:
    p = run.config.policy
    return PolicyConfig(history_steps=p.history_steps, temperature=temperature, max_new_tokens=p.max_new_tokens,
                        constrained=p.constrained, demos=p.demos)


DEMOS_FILE = "demos.json"


def demo_picker(run: Run, up_to_round: int):
    """Few-shot demos for a task from the newest demo pool of rounds <= `up_to_round` (None if none)."""
    if run.config.policy.demos == 0:
        return None
    from domplay.agent.prompts import Demo as PromptDemo
    from domplay.data.demos import DemoSet

    paths = [run.dir / f"round{r}" / "data" / DEMOS_FILE for r in range(up_to_round, 0, -1)]
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        return None
    pool = DemoSet.load(path)
    k = run.config.policy.demos

    def pick(task: Task) -> list[PromptDemo]:
        return [PromptDemo(user=d.as_messages()[0]["content"], action=d.action) for d in pool.demos_for(task, k)]
    return pick


def load_policy_model(run: Run, spec: str, dtype: str = "auto"):
    """The run's model for `spec` in `dtype` (a local model's; other backends ignore it), loaded
    once: a round's eval and the next round's rollouts share it when their dtypes agree. Only one
    model is kept in memory at a time. A local model batches all episodes in flight at once."""
    from domplay.agent.evaluate import load_any_model
    from domplay.llm.load import is_local_spec

    options = {"dtype": dtype, "batch_size": run.config.rollout.concurrency} if is_local_spec(spec) else {}
    key = (spec, options.get("dtype"))
    if key not in run.models:
        run.models.clear()
        run.models[key] = load_any_model(spec, **options)
    return run.models[key]




def run_policy(run: Run, r: int, tasks: Sequence[Task], model_spec: str | None, policy_name: str,
               temperature: float, samples: int, desc: str, demos_round: int | None = None,
               dtype: str = "auto") -> None:
    """Episodes of `tasks` by a model in `dtype` (or the reference solutions when model_spec is None)."""
    skip = run.store.episode_ids(round=r, policy=policy_name)
    todo = len(tasks) * samples - len(skip)
    if todo <= 0:
        return
    if model_spec is None:
        policy: Policy = ReferencePolicy(policy_config(run, 0.0))
    else:
        policy = Policy(load_policy_model(run, model_spec, dtype), policy_config(run, temperature))
    c = run.config
    config = RolloutConfig(samples_per_task=samples, concurrency=c.rollout.concurrency, max_steps=c.env.max_steps,
                           steps_per_reference_step=c.env.steps_per_reference_step,
                           episode_timeout_s=c.rollout.episode_timeout_s,
                           stuck_after_repeats=c.rollout.stuck_after_repeats, seed=c.seed)
    with EnvFactory(env_settings(run), run.sites) as make_env:
        demos = demo_picker(run, demos_round) if demos_round is not None and model_spec is not None else None
        screenshots = ScreenshotFiles(run.dir) if c.env.screenshots else None
        engine = RolloutEngine(policy, make_env, config, policy_name=policy_name, env_kind=c.env.kind, demos=demos,
                               screenshots=screenshots)
        bar = tqdm(total=todo, desc=desc, unit="ep", dynamic_ncols=True)
        try:
            engine.run(tasks, round=r, skip=skip, on_episode=run.store.add_episode,
                       progress=lambda ep: bar.update(1))
        finally:
            bar.close()
            engine.close()


@contextmanager
def proposer_for(run: Run):
    """A TemplateProposer over the run's sites; with the browser env it can also verify
    JavaScript templates (widgets) by running their plans in Chromium."""
    from domplay.tasks.propose import TemplateProposer

    if run.config.env.kind != "browser":
        proposer = TemplateProposer(run.sites)
        try:
            yield proposer
        finally:
            proposer.close()
        return
    with EnvFactory(EnvSettings(kind="browser"), run.sites) as make_browser:
        dom = TemplateProposer(run.sites)
        proposer = TemplateProposer(run.sites, env_factory=lambda needs_js: make_browser() if needs_js
                                    else dom._dom_env(False))
        try:
            yield proposer
        finally:
            proposer.close()


def propose_stage(run: Run, r: int) -> None:
    """Fresh training tasks for round `r` (train seeds of proposer seed `seed * 1000 + r`)."""
    with proposer_for(run) as proposer:
        proposal = proposer.propose(run.config.tasks.train_tasks_per_round, "train", seed=run.config.seed * 1000 + r)
    run.store.add_tasks(proposal.tasks, round=r)
    run.store.record_metrics(r, "propose", {"tasks": len(proposal.tasks), "failures": len(proposal.failures)})


def rollout_stage(run: Run, r: int) -> None:
    """Reference replays and the current model's episodes on round `r`'s training tasks."""
    tasks = run.store.tasks(split="train", round=r)
    if run.config.rollout.replay_reference:
        run_policy(run, r, tasks, None, run.config.build.reference_policy, 0.0, 1, f"round {r} reference")
    if run.config.rollout.samples_per_task > 0:
        run_policy(run, r, tasks, run.model_path(r - 1), run.policy_name(r - 1),
                   run.config.policy.rollout_temperature, run.config.rollout.samples_per_task, f"round {r} rollouts",
                   demos_round=r - 1, dtype=run.config.policy.rollout_dtype)


def build_stage(run: Run, r: int) -> None:
    """SFT examples and preference pairs from round `r`'s stored episodes, exported in TRL formats."""
    from domplay.data.builders import build_round
    from domplay.data.export import export

    tasks = {t.id: t for t in run.store.tasks(split="train", round=r)}
    episodes = [e for e in run.store.episodes(round=r) if e.task_id in tasks]
    episodes.sort(key=lambda e: e.id)  # the store's order must not change the datasets
    data = build_round(episodes, tasks, run.config.build, round=r)
    out = round_dir(run, r) / "data"
    yield_row = data.yield_table.as_row()
    config = run.config.build.model_dump(mode="json")
    sft = _sample(data.sft, run.config.build.max_sft_examples, run.config.build.seed + r)
    yield_row["sft_trained"] = len(sft)
    result = export(sft, out, "sft", formats=("parquet", "jsonl"), kind="sft")
    run.record_dataset(r, "sft", "sft", result.paths["parquet"], result.rows, config, yield_row)
    pairs = [p for kind in PAIR_KINDS_FOR_DPO for p in data.pairs.get(kind, [])]
    pairs = _sample(pairs, run.config.build.max_dpo_pairs, run.config.build.seed + r)
    yield_row["pairs_trained"] = len(pairs)
    result = export(pairs, out, "pairs", formats=("parquet", "jsonl"), kind="preference")
    run.record_dataset(r, "pairs", "preference", result.paths["parquet"], result.rows, config, yield_row)
    for kind, items in data.pairs.items():
        run.record_dataset(r, f"pairs_{kind}", kind, None, len(items), config, yield_row)
    if run.config.policy.demos > 0:
        from domplay.data.demos import DemoConfig, build_demos

        pool = build_demos(episodes, tasks, DemoConfig(seed=run.config.seed + r,
                                                       max_observation_chars=run.config.policy.demo_observation_chars))
        path = pool.save(out / DEMOS_FILE)
        run.record_dataset(r, "demos", "demos", str(path), len(pool.demos), pool.config.model_dump(mode="json"),
                           yield_row)
    run.store.record_metrics(r, "build", {k: float(v) for k, v in yield_row.items() if isinstance(v, (int, float))})


def train_stage(run: Run, r: int) -> None:
    """SFT from the current model, then DPO on the pairs; the result is round `r`'s model."""
    from domplay.train.config import DPOTrainConfig, SFTTrainConfig, parse_config
    from domplay.train.sft import train_sft

    t = run.config.train
    if t.method == "none":
        return
    datasets = {d.name: d for d in run.store.datasets(round=r)}
    base = run.model_path(r - 1)
    out = round_dir(run, r)
    current = base
    if datasets["sft"].rows > 0:
        config = parse_config(SFTTrainConfig, finetune=t.finetune, learning_rate=t.sft_learning_rate,
                              num_epochs=t.sft_epochs, batch_size=t.batch_size,
                              first_token_weight=t.sft_first_token_weight, max_length_tokens=t.max_length_tokens,
                              precision=t.precision, seed=run.config.seed + r)
        result = train_sft(datasets["sft"].path, model=_trainer_model(base), out_dir=_fresh(out / "sft"), config=config)
        run.record_checkpoint(r, "sft", str(result.model_dir), config.model_dump(mode="json"), result.git_revision,
                              {"final_loss": result.final_loss, "seconds": result.seconds,
                               "losses": list(result.losses), "rows": result.rows})
        current = f"hf:{result.model_dir}"
    if t.method != "sft" and datasets["pairs"].rows >= t.min_pairs_for_dpo:
        from domplay.train.dpo import train_dpo

        config = parse_config(DPOTrainConfig, finetune=t.finetune, learning_rate=t.dpo_learning_rate,
                              num_epochs=t.dpo_epochs, beta=t.dpo_beta, batch_size=t.batch_size,
                              max_length_tokens=t.max_length_tokens, precision=t.precision, seed=run.config.seed + r)
        result = train_dpo(datasets["pairs"].path, model=_trainer_model(current), out_dir=_fresh(out / "dpo"),
                           config=config)
        run.record_checkpoint(r, "dpo", str(result.model_dir), config.model_dump(mode="json"), result.git_revision,
                              {"final_loss": result.final_loss, "seconds": result.seconds,
                               "losses": list(result.losses), "rows": result.rows})
        current = f"hf:{result.model_dir}"
    if current != base:
        run.record_checkpoint(r, "final", current.removeprefix("hf:"), {}, None, {})


def _sample(items: list, limit: int | None, seed: int) -> list:
    """At most `limit` of `items`, a seeded sample that keeps their order."""
    if limit is None or len(items) <= limit:
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in keep]


def round_dir(run: Run, r: int) -> Path:
    path = run.dir / f"round{r}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fresh(path: Path) -> Path:
    """A training output dir, emptied: a crashed earlier attempt leaves nothing behind."""
    if path.exists():
        shutil.rmtree(path)
    return path


def _trainer_model(spec: str) -> str:
    return spec.removeprefix("hf:")
