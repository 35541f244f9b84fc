"""`domplay run`: the self-improvement loop, one resumable stage at a time.

Round 0 fixes the held-out tasks and evaluates the starting model on them. Every later
round proposes fresh training tasks (new seeds), replays their reference solutions and
runs the current model on them, verifies every episode against the DOM and backend
state, builds SFT data and preference pairs, trains (SFT, then DPO or SPIN), and evaluates
the new model on the same held-out tasks.

Every stage writes to the run store as it goes and is marked done when finished, so
`domplay run --resume DIR` after a crash (even `kill -9`) redoes only the unfinished part:
finished episodes are never re-run or duplicated, and datasets are rebuilt from the same
stored episodes.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from domplay.autoif_sources import read_inputs
from domplay.config import RunConfig, dump_config, load_config
from domplay.data.store import STORE_FILE, RunStore
from domplay.errors import ConfigError
from domplay.heldout import heldout_eval
from domplay.report import build_report
from domplay.rundir import CONFIG_FILE, SUMMARY_FILE, policy_name, stages_of
from domplay.sites.app import SitesApp
from domplay.stages import (
    StageContext,
    build_stage,
    eval_stage,
    heldout_stage,
    propose_stage,
    rollout_stage,
    train_stage,
)

Stage = Callable[[StageContext, int], None]
STAGE_FUNCTIONS: dict[str, Stage] = {
    "heldout": lambda ctx, r: heldout_stage(ctx),
    "propose": propose_stage,
    "rollout": rollout_stage,
    "build": build_stage,
    "train": train_stage,
    "eval": eval_stage,
}
"""Each stage name of `rundir.STAGES_ROUND0` and `rundir.STAGES` and the function that runs it."""


TRAINING_YIELD = ("sft_trained", "sft_trained_earlier_rounds", "model_attempts", "model_successes")
"""Build-stage counts a round's summary line shows."""


@dataclass(frozen=True)
class RoundSummary:
    round: int
    policy: str
    heldout_success: float
    by_difficulty: dict[str, float]
    by_site: dict[str, float]
    by_heldout_kind: dict[str, float]
    mean_steps: float
    step_error_rate: float
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Seconds per stage of the round, in stage order."""
    training_yield: dict[str, float] = field(default_factory=dict)
    """The build stage's counts: SFT examples trained on, model attempts on training tasks and their successes."""

    def line(self) -> str:
        diff = " ".join(f"{k} {v:.0%}" for k, v in sorted(self.by_difficulty.items()))
        stages = " ".join(f"{k} {v / 60:.1f}" for k, v in self.stage_seconds.items())
        y = self.training_yield
        data = (
            f" | sft {y.get('sft_trained', 0):.0f} ({y.get('sft_trained_earlier_rounds', 0):.0f} replayed), "
            f"model attempts {y.get('model_successes', 0):.0f}/{y.get('model_attempts', 0):.0f} verified"
            if y
            else ""
        )
        return (
            f"round {self.round} [{self.policy}] held-out success {self.heldout_success:.1%} "
            f"({diff}) mean steps {self.mean_steps:.1f} errors {self.step_error_rate:.0%} "
            f"time {self.seconds / 60:.1f} min ({stages} min){data}"
        )


def _claim(run_dir: Path, config: RunConfig, overwrite: bool) -> None:
    """Make sure `run_dir` may hold a run of `config`: it is new or empty, holds a run of this very
    config (re-running a command continues it), or `overwrite` deletes the run it holds."""
    if not run_dir.exists() or not any(run_dir.iterdir()):
        return
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir} is a file; give --out a directory")
    existing = run_dir / CONFIG_FILE
    if overwrite:
        if not existing.is_file() and not (run_dir / STORE_FILE).is_file():
            raise ConfigError(f"{run_dir} holds files but no run; --overwrite deletes only a run directory")
        shutil.rmtree(run_dir)
        return
    if not existing.is_file():
        raise ConfigError(f"{run_dir} is not empty and holds no run; give --out a new or empty directory")
    try:
        same = load_config(existing).model_dump(mode="json") == config.model_dump(mode="json")
    except ConfigError:
        same = False
    if not same:
        raise ConfigError(
            f"{run_dir} holds a run with another config ({existing}); continue it with domplay run --resume "
            f"{run_dir}, replace it with --overwrite, or choose another --out"
        )


class Run:
    """One run directory: its config, store and artefacts, and the rounds over them."""

    def __init__(
        self, run_dir: str | Path, config: RunConfig, echo: Callable[[str], None] = print, overwrite: bool = False
    ):
        """Open `run_dir` for `config`. A directory that holds a run with another config is refused
        (its results would mix with this one's) unless `overwrite`, which deletes that run first."""
        self.dir = Path(run_dir)
        self.config = config
        self.echo = echo
        read_inputs(config)  # a bad intents file fails here, before anything is written
        _claim(self.dir, config, overwrite)
        self.dir.mkdir(parents=True, exist_ok=True)
        dump_config(config, self.dir / CONFIG_FILE)
        self.store = RunStore(self.dir)
        self.ctx = StageContext(
            dir=self.dir,
            config=config,
            store=self.store,
            sites=SitesApp(seed=config.tasks.site_seed, names=config.tasks.sites),
        )
        self._logger = _metric_logger(config.logging, self.dir)

    @classmethod
    def resume(cls, run_dir: str | Path, echo: Callable[[str], None] = print) -> Run:
        path = Path(run_dir) / CONFIG_FILE
        if not path.is_file():
            raise ConfigError(
                f"{run_dir} is not a run directory ({CONFIG_FILE} missing); start one with domplay run --out {run_dir}"
            )
        return cls(run_dir, load_config(path), echo)

    # -- the loop --------------------------------------------------------------------------
    def execute(self) -> list[RoundSummary]:
        summaries = [self.round(0)]
        self.echo(summaries[-1].line())
        best, since_best = summaries[-1].heldout_success, 0
        stop = self.config.stop
        for r in range(1, stop.rounds + 1):
            if (
                stop.time_budget_min is not None
                and self.elapsed_s() > stop.time_budget_min * 60
                and not self.store.stage_status(r, "propose")
            ):
                self.echo(f"time budget of {stop.time_budget_min} min used; not starting round {r}")
                break
            summaries.append(self.round(r))
            self.echo(summaries[-1].line())
            if summaries[-1].heldout_success > best:
                best, since_best = summaries[-1].heldout_success, 0
            else:
                since_best += 1
            if stop.patience_rounds is not None and since_best >= stop.patience_rounds:
                self.echo(f"no new best held-out success for {since_best} round(s); stopping")
                break
        (self.dir / SUMMARY_FILE).write_text(
            json.dumps([s.__dict__ for s in summaries], indent=2) + "\n", encoding="utf-8"
        )
        self.echo(f"report: {build_report(self.dir)}")
        return summaries

    def round(self, r: int) -> RoundSummary:
        """Run round `r`'s unfinished stages in order; its held-out summary."""
        for stage in stages_of(r):
            if not self.store.stage_done(r, stage):
                self._stage(r, stage, STAGE_FUNCTIONS[stage])
        return self.summary(r)

    # -- helpers ---------------------------------------------------------------------------
    def _stage(self, r: int, stage: str, fn: Stage) -> None:
        self.store.mark_stage(r, stage, "running")
        started = time.perf_counter()
        fn(self.ctx, r)
        seconds = time.perf_counter() - started
        self.store.record_metrics(r, stage, {"seconds": seconds})
        self._logger(r, {f"time/{stage}_s": seconds})
        self.store.mark_stage(r, stage, "done")

    def elapsed_s(self) -> float:
        """Time spent in finished or interrupted stages of this run, across resumes."""
        return sum(m.value for m in self.store.metrics() if m.name == "seconds")

    def summary(self, r: int) -> RoundSummary:
        """Round `r`'s held-out summary (`heldout.heldout_eval`, as the report computes it), recorded."""
        result = heldout_eval(self.store, r)
        if result is None:
            raise ConfigError(
                f"round {r} has no held-out eval episodes of policy {policy_name(r)!r}; "
                f"its eval stage did not run (check {self.dir / CONFIG_FILE})"
            )
        metrics = self.store.metrics(round=r)
        stage_seconds = {
            stage: sum(m.value for m in metrics if m.name == "seconds" and m.stage == stage) for stage in stages_of(r)
        }
        training_yield = {m.name: m.value for m in metrics if m.stage == "build" and m.name in TRAINING_YIELD}
        seconds = sum(stage_seconds.values())
        summary = RoundSummary(
            round=r,
            policy=result.policy,
            heldout_success=result.success_rate,
            by_difficulty=result.by.get("difficulty", {}),
            by_site=result.by.get("site", {}),
            by_heldout_kind=result.by.get("heldout kind", {}),
            mean_steps=result.mean_steps,
            step_error_rate=result.step_error_rate,
            seconds=seconds,
            stage_seconds=stage_seconds,
            training_yield=training_yield,
        )
        self.store.record_metrics(
            r,
            "eval",
            {
                "heldout_success": summary.heldout_success,
                "mean_steps": summary.mean_steps,
                "step_error_rate": summary.step_error_rate,
                **{f"success_{k}": v for k, v in summary.by_difficulty.items()},
                **{f"success_site_{k}": v for k, v in summary.by_site.items()},
            },
        )
        self._logger(r, {"heldout/success": summary.heldout_success})
        return summary


def _metric_logger(kind: str, run_dir: Path) -> Callable[[int, dict[str, float]], None]:
    """TensorBoard or MLflow when asked for and installed; otherwise nothing."""
    if kind == "tensorboard":
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ConfigError("logging: tensorboard needs the tensorboard package: pip install tensorboard") from exc
        writer = SummaryWriter(str(run_dir / "tensorboard"))

        def log_tb(step: int, values: dict[str, float]) -> None:
            for k, v in values.items():
                writer.add_scalar(k, v, step)
            writer.flush()

        return log_tb
    if kind == "mlflow":
        try:
            import mlflow
        except ImportError as exc:
            raise ConfigError("logging: mlflow needs the mlflow package: pip install mlflow") from exc
        mlflow.set_tracking_uri(f"file:{run_dir / 'mlruns'}")

        def log_ml(step: int, values: dict[str, float]) -> None:
            mlflow.log_metrics({k.replace("/", "_"): v for k, v in values.items()}, step=step)

        return log_ml
    return lambda step, values: None
