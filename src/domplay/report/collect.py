"""Read a run directory into plain, typed values for the report (no HTML here).

Everything is recomputed from the run store, so a report can be rebuilt at any time, also
while a run is going on or after it crashed: a round with unfinished stages is reported as far
as it got, and its held-out success is computed from the eval episodes stored so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domplay.agent.episode import Episode
from domplay.data.store import STORE_FILE, CheckpointRecord, DatasetRecord, RunStore
from domplay.errors import ConfigError
from domplay.heldout import RoundEval, eval_episodes, heldout_eval
from domplay.rundir import CONFIG_FILE, SUMMARY_FILE, stages_of
from domplay.tasks.model import Task

__all__ = ["RoundEval", "RoundRecord", "RunData", "check_run_dir", "collect"]


@dataclass(frozen=True)
class RoundRecord:
    """What one round recorded."""

    round: int
    stages: dict[str, str | None]
    """Stage name -> status in the store (done, running, or None when not started)."""
    stage_seconds: dict[str, float]
    eval: RoundEval | None
    yield_row: dict[str, Any] | None
    """The round's YieldTable row (the same on every dataset record of the round)."""
    datasets: tuple[DatasetRecord, ...]
    checkpoints: tuple[CheckpointRecord, ...]
    episodes: int
    """All episodes stored for this round (held-out eval, reference replays and rollouts)."""

    @property
    def finished(self) -> bool:
        return all(status == "done" for status in self.stages.values())

    def losses(self, checkpoint: str) -> list[float]:
        """Logged training losses of the round's `checkpoint` ("sft", "dpo"); [] when it has none."""
        for c in self.checkpoints:
            if c.name == checkpoint:
                return [float(v) for v in c.metrics.get("losses", []) or []]
        return []


@dataclass(frozen=True)
class RunData:
    """A run as the report shows it; `eval_episodes` are kept only for the rounds the viewer embeds."""

    run_dir: Path
    config_text: str | None
    rounds: tuple[RoundRecord, ...]
    heldout_tasks: tuple[Task, ...]
    summary_text: str | None
    eval_episodes: dict[int, list[Episode]] = field(default_factory=dict)


def check_run_dir(run_dir: Path) -> None:
    """Raise ConfigError unless `run_dir` holds a run store (never creates one)."""
    if not run_dir.is_dir():
        raise ConfigError(
            f"{run_dir} is not a run directory (no such directory); pass the --out directory of a `domplay run`"
        )
    if not (run_dir / STORE_FILE).is_file():
        raise ConfigError(
            f"{run_dir} is not a run directory ({STORE_FILE} missing); pass the --out directory "
            f"of a `domplay run`, which holds {CONFIG_FILE} and {STORE_FILE}"
        )


def collect(store: RunStore, run_dir: Path, keep_eval_rounds: Sequence[int] | None = None) -> RunData:
    """Read everything the report shows. `keep_eval_rounds`: rounds whose eval episodes to keep
    (None: the first and the last round)."""
    heldout = tuple(store.tasks(split="heldout"))
    numbers = _round_numbers(store)
    keep = set(keep_eval_rounds) if keep_eval_rounds is not None else {numbers[0], numbers[-1]} if numbers else set()
    rounds, kept = [], {}
    for r in numbers:
        if r in keep:
            kept[r] = eval_episodes(store, r, heldout)
        rounds.append(_round(store, r, heldout))
    return RunData(
        run_dir=run_dir,
        config_text=_read(run_dir / CONFIG_FILE),
        rounds=tuple(rounds),
        heldout_tasks=heldout,
        summary_text=_read(run_dir / SUMMARY_FILE),
        eval_episodes=kept,
    )


def _round_numbers(store: RunStore) -> list[int]:
    """Rounds with any trace in the store: a stage, a metric, a dataset, a checkpoint or an episode."""
    known = (
        {m.round for m in store.metrics()}
        | {d.round for d in store.datasets()}
        | {c.round for c in store.checkpoints()}
    )
    last_round = store.last_round()
    last = max(known | {last_round if last_round is not None else -1}, default=-1)
    rounds, r = [], 0
    while r <= last or store.count_episodes(round=r) > 0 or any(store.stage_status(r, s) for s in stages_of(r)):
        rounds.append(r)
        r += 1
    return rounds


def _round(store: RunStore, r: int, heldout: Sequence[Task]) -> RoundRecord:
    metrics = store.metrics(round=r)
    seconds = {m.stage: m.value for m in metrics if m.name == "seconds"}
    datasets = tuple(store.datasets(round=r))
    yield_row = next((d.yield_numbers for d in datasets if d.yield_numbers), None)
    return RoundRecord(
        round=r,
        stages={s: store.stage_status(r, s) for s in stages_of(r)},
        stage_seconds=seconds,
        eval=heldout_eval(store, r, heldout),
        yield_row=yield_row,
        datasets=datasets,
        checkpoints=tuple(store.checkpoints(round=r)),
        episodes=store.count_episodes(round=r),
    )


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None
