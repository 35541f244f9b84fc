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
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from domplay.config import RunConfig, dump_config, load_config
from domplay.data.store import CheckpointRecord, DatasetRecord, RunStore
from domplay.errors import ConfigError
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task

CONFIG_FILE = "config.yaml"
STAGES_ROUND0 = ("heldout", "eval")
STAGES = ("propose", "rollout", "build", "train", "eval")


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

    def line(self) -> str:
        diff = " ".join(f"{k} {v:.0%}" for k, v in sorted(self.by_difficulty.items()))
        return (f"round {self.round} [{self.policy}] held-out success {self.heldout_success:.1%} "
                f"({diff}) mean steps {self.mean_steps:.1f} errors {self.step_error_rate:.0%} "
                f"time {self.seconds / 60:.1f} min")


class Run:
    """One run directory: its config, store and artefacts."""

    def __init__(self, run_dir: str | Path, config: RunConfig, echo: Callable[[str], None] = print):
        self.dir = Path(run_dir)
        self.config = config
        self.echo = echo
        from domplay.stages import env_settings

        env_settings(self)  # env settings that cannot work (screenshots without a browser) fail now, not rounds later
        self.dir.mkdir(parents=True, exist_ok=True)
        dump_config(config, self.dir / CONFIG_FILE)
        self.store = RunStore(self.dir)
        self.sites = SitesApp(seed=config.tasks.site_seed, names=config.tasks.sites)
        self._logger = _metric_logger(config.logging, self.dir)
        self.models: dict[tuple[str, str | None], object] = {}
        """Loaded ChatModels by (spec, dtype) (see stages.load_policy_model)."""

    @classmethod
    def resume(cls, run_dir: str | Path, echo: Callable[[str], None] = print) -> Run:
        path = Path(run_dir) / CONFIG_FILE
        if not path.is_file():
            raise ConfigError(f"{run_dir} is not a run directory ({CONFIG_FILE} missing); start one with "
                              f"domplay run --out {run_dir}")
        return cls(run_dir, load_config(path), echo)

    # -- the loop --------------------------------------------------------------------------
    def execute(self) -> list[RoundSummary]:
        summaries = [self.round0()]
        self.echo(summaries[-1].line())
        best, since_best = summaries[-1].heldout_success, 0
        stop = self.config.stop
        for r in range(1, stop.rounds + 1):
            if stop.time_budget_min is not None and self.elapsed_s() > stop.time_budget_min * 60 \
                    and not self.store.stage_status(r, "propose"):
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
        (self.dir / "summary.json").write_text(
            json.dumps([s.__dict__ for s in summaries], indent=2) + "\n", encoding="utf-8")
        from domplay.report import build_report

        self.echo(f"report: {build_report(self.dir)}")
        return summaries

    def round0(self) -> RoundSummary:
        if not self.store.stage_done(0, "heldout"):
            self._stage(0, "heldout", lambda: self._propose_heldout())
        policy = self.policy_name(0)
        if not self.store.stage_done(0, "eval"):
            self._stage(0, "eval", lambda: self._evaluate(0, self.model_path(0), policy))
        return self.summary(0)

    def round(self, r: int) -> RoundSummary:
        from domplay.stages import build_stage, propose_stage, rollout_stage, train_stage

        steps = {
            "propose": lambda: propose_stage(self, r),
            "rollout": lambda: rollout_stage(self, r),
            "build": lambda: build_stage(self, r),
            "train": lambda: train_stage(self, r),
            "eval": lambda: self._evaluate(r, self.model_path(r), self.policy_name(r)),
        }
        for stage in STAGES:
            if not self.store.stage_done(r, stage):
                self._stage(r, stage, steps[stage])
        return self.summary(r)

    # -- helpers ---------------------------------------------------------------------------
    def _stage(self, r: int, stage: str, fn: Callable[[], object]) -> None:
        self.store.mark_stage(r, stage, "running")
        started = time.perf_counter()
        fn()
        seconds = time.perf_counter() - started
        self.store.record_metrics(r, stage, {"seconds": seconds})
        self._logger(r, {f"time/{stage}_s": seconds})
        self.store.mark_stage(r, stage, "done")

    def elapsed_s(self) -> float:
        """Time spent in finished or interrupted stages of this run, across resumes."""
        return sum(m.value for m in self.store.metrics() if m.name == "seconds")

    def policy_name(self, r: int) -> str:
        return "base" if r == 0 else f"round{r}"

    def model_path(self, r: int) -> str:
        """The model that acts after round `r`'s training (round 0: the starting model)."""
        if r == 0:
            return self.config.model
        records = [c for c in self.store.checkpoints(r) if c.name == "final"]
        if not records:
            return self.model_path(r - 1)  # a round that trained nothing keeps the previous model
        return f"hf:{records[0].path}"

    def heldout_tasks(self) -> list[Task]:
        return self.store.tasks(split="heldout")

    def _propose_heldout(self) -> None:
        from domplay.stages import proposer_for

        with proposer_for(self) as proposer:
            proposal = proposer.propose(self.config.tasks.heldout_tasks, "heldout", seed=self.config.seed)
        if len(proposal.tasks) < self.config.tasks.heldout_tasks:
            raise ConfigError(f"only {len(proposal.tasks)} held-out tasks could be proposed "
                              f"({len(proposal.failures)} failures); see the proposer's failures")
        self.store.add_tasks(proposal.tasks, round=0)

    def _evaluate(self, r: int, model_path: str, policy: str) -> None:
        from domplay.hardware import fast_dtype
        from domplay.stages import run_policy

        tasks = self.heldout_tasks()
        dtype = fast_dtype(self.config.policy.eval_dtype)
        self.store.record_metrics(r, "eval", {"bfloat16": float(dtype == "bfloat16")})  # what "auto" chose
        run_policy(self, r, tasks, model_path, policy, temperature=self.config.policy.eval_temperature,
                   samples=1, desc=f"round {r} eval", demos_round=r, dtype=dtype)

    def summary(self, r: int) -> RoundSummary:
        from domplay.agent.evaluate import summarize

        tasks = self.heldout_tasks()
        ids = {t.id for t in tasks}
        policy = self.policy_name(r)
        episodes = [e for e in self.store.episodes(round=r, policy=policy) if e.task_id in ids]
        report = summarize(tasks, episodes).as_dict()
        rates = {axis: {k: v["rate"] for k, v in d.items()} for axis, d in report["by"].items()}
        seconds = sum(m.value for m in self.store.metrics(round=r) if m.name == "seconds")
        summary = RoundSummary(round=r, policy=policy, heldout_success=report["success_rate"],
                               by_difficulty=rates.get("difficulty", {}), by_site=rates.get("site", {}),
                               by_heldout_kind=rates.get("heldout kind", {}), mean_steps=report["mean_steps"],
                               step_error_rate=report["step_error_rate"], seconds=seconds)
        self.store.record_metrics(r, "eval", {"heldout_success": summary.heldout_success,
                                              "mean_steps": summary.mean_steps,
                                              "step_error_rate": summary.step_error_rate,
                                              **{f"success_{k}": v for k, v in summary.by_difficulty.items()},
                                              **{f"success_site_{k}": v for k, v in summary.by_site.items()}})
        self._logger(r, {"heldout/success": summary.heldout_success})
        return summary

    def record_dataset(self, r: int, name: str, kind: str, path: str | None, rows: int, config: dict,
                       yield_row: dict) -> None:
        self.store.record_dataset(DatasetRecord(round=r, name=name, kind=kind, path=path, rows=rows,
                                                config=config, yield_numbers=yield_row))

    def record_checkpoint(self, r: int, name: str, path: str, config: dict, git_revision: str | None,
                          metrics: dict) -> None:
        self.store.record_checkpoint(CheckpointRecord(round=r, name=name, path=path, config=config,
                                                      git_revision=git_revision, metrics=metrics))


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
