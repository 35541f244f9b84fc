"""Dataset builders: SFT by rejection sampling, preference pairs, and the round's yield table.

`build_round` is the one entry point the loop calls with a round's episodes; the pieces
(`build_sft`, `pairs.step_pairs`, ...) are public for tests and custom pipelines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domplay.agent.episode import Episode
from domplay.data.config import BuildConfig
from domplay.data.pairs import Generate, reference_pairs, spin_pairs, step_pairs, trajectory_pairs
from domplay.data.records import PairKind, PreferencePair, SftExample, Source, YieldTable, outcome, usable
from domplay.data.select import capped, dedupe, is_heldout, task_of
from domplay.tasks.model import Task


@dataclass(frozen=True)
class SftStats:
    candidates: int
    below_min_score: int
    duplicates: int
    capped: int


def _sft_order(ex: SftExample) -> tuple:
    return (ex.source.task_id, ex.episode_id, ex.step_index)


def build_sft(
    episodes: Sequence[Episode], tasks: Mapping[str, Task], config: BuildConfig
) -> tuple[list[SftExample], SftStats]:
    """Step-level examples from verified successes: usable steps, deduped, capped per task and template.

    Rejection sampling: only episodes whose verdict says success (and, with `min_score`, scored
    at least that) contribute, and of those only steps whose action parsed and ran without
    error. The same prompt with the same completion is kept once. Held-out tasks never feed data.
    """
    tasks = dict(tasks)
    candidates: list[SftExample] = []
    below = 0
    for ep in episodes:
        task = task_of(ep, tasks)
        if outcome(ep) != "success" or is_heldout(task):
            continue
        if ep.policy == config.reference_policy and not config.include_reference:
            continue
        verdict = ep.verdict
        if verdict is None:  # outcome() says success only with a verdict
            continue
        if verdict.score < config.min_score:
            below += 1
            continue
        for step in ep.steps:
            if usable(step) and step.action is not None:  # usable() implies an action; this narrows it
                text = step.action if config.completion_text == "action" else step.completion
                candidates.append(
                    SftExample(
                        prompt=step.prompt,
                        completion=text,
                        source=Source.of(task, ep),
                        episode_id=ep.id,
                        policy=ep.policy,
                        step_index=step.index,
                        state_key=step.state_key,
                        score=verdict.score,
                    )
                )
    unique, duplicates = dedupe(candidates, _sft_order, lambda e: (e.state_key, e.completion))
    kept, dropped = capped(
        unique,
        _sft_order,
        [
            (lambda e: e.source.task_id, config.max_examples_per_task),
            (lambda e: e.source.template, config.max_examples_per_template),
        ],
        config.seed,
    )
    return kept, SftStats(candidates=len(candidates), below_min_score=below, duplicates=duplicates, capped=dropped)


@dataclass(frozen=True)
class RoundData:
    """One round's datasets and how they were obtained."""

    sft: list[SftExample]
    pairs: dict[PairKind, list[PreferencePair]] = field(default_factory=dict)
    yield_table: YieldTable = field(default_factory=lambda: YieldTable(round=0))
    config: BuildConfig = field(default_factory=BuildConfig)


def build_round(
    episodes: Sequence[Episode],
    tasks: Mapping[str, Task],
    config: BuildConfig,
    round: int,
    generate: Generate | None = None,
    generate_policy: str = "",
    spin_batch_size: int = 16,
) -> RoundData:
    """SFT examples and every pair kind from one round's episodes, plus the yield table.

    With `generate` (the current model, named `generate_policy`), SPIN pairs are built on
    the SFT states too.
    """
    tasks = dict(tasks)
    counts: Counter[str] = Counter()
    heldout = 0
    for ep in episodes:
        if is_heldout(task_of(ep, tasks)):
            heldout += 1
        else:
            counts[outcome(ep)] += 1
    sft, stats = build_sft(episodes, tasks, config)
    pairs: dict[PairKind, list[PreferencePair]] = {
        "step": step_pairs(episodes, tasks, config),
        "trajectory": trajectory_pairs(episodes, tasks, config),
        "reference": reference_pairs(episodes, tasks, config),
    }
    if generate is not None:
        pairs["spin"], _ = spin_pairs(sft, generate, generate_policy, spin_batch_size)
    table = YieldTable(
        round=round,
        episodes=len(episodes),
        heldout_episodes=heldout,
        invalid_episodes=counts["invalid"],
        successes=counts["success"],
        failures=counts["failure"],
        sft_candidates=stats.candidates,
        sft_below_min_score=stats.below_min_score,
        sft_duplicates=stats.duplicates,
        sft_capped=stats.capped,
        sft_examples=len(sft),
        pairs={kind: len(p) for kind, p in pairs.items()},
    )
    return RoundData(sft=sft, pairs=pairs, yield_table=table, config=config)
