"""The rollout engine: many episodes at once, model calls batched across them.

A fixed number of *slots* (the concurrency) each own an env. Every tick, the engine asks
the policy for the next action of every active episode in ONE batched generate call,
steps each env, and refills slots whose episode ended from the queue of (task, sample)
pairs. Each finished episode is handed to `on_episode` (the run store) at once, so a
crash loses at most the episodes in flight.

Screenshots: when the env returns one in `info` (a BrowserEnv with `screenshots` on) and
the engine is given `ScreenshotFiles`, the screenshot of the page each step acted on is
written to a file and named, relative to the run directory, in `step.extra[SCREENSHOT_KEY]`.
"""

from __future__ import annotations

import math
import shutil
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from domplay.agent.episode import Episode, StepRecord, state_key
from domplay.agent.plan import Planner, PlanRequest, PlanState
from domplay.agent.policy import Policy, Query
from domplay.agent.prompts import Demo, HistoryItem
from domplay.env import actions as A
from domplay.env.base import INTENT_INFO_KEY, SCREENSHOT_INFO_KEY, WebEnv
from domplay.env.observation import Observation
from domplay.env.targets import BID, resolve
from domplay.errors import ActionError, DomplayError
from domplay.settings import Settings
from domplay.tasks.model import Task, steps_needed
from domplay.verify.verdict import verify

SCREENSHOT_KEY = "screenshot"
"""`StepRecord.extra` key: the screenshot of the page the step acted on, a PNG or JPEG file
path relative to the run directory (the report's trajectory viewer shows it)."""
SCREENSHOTS_FOLDER = "screenshots"


class RolloutConfig(Settings):
    """How episodes run; recorded with every run. The step cap is the env's (`EnvSettings.max_steps`)."""

    samples_per_task: int = Field(
        1,
        ge=0,
        description="model episodes per training task (0: learn from reference "
        "replays only); held-out evals run EvalConfig.samples_per_task",
    )
    concurrency: int = Field(8, ge=1, description="episodes in flight at once = the model's batch of prompts per tick")
    replay_reference: bool = Field(
        True, description="a run replays training tasks' reference solutions as verified episodes"
    )
    temperature: float = Field(
        0.7,
        ge=0,
        description="sampling temperature of a run's training rollouts (held-out evals act at policy.temperature)",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="a local model's dtype in training rollouts: auto = bfloat16 on a GPU, float32 on a "
        "CPU. In float32 a row's output does not depend on its batch, so a resumed run samples the same "
        "episodes and builds the same datasets",
    )
    steps_per_reference_step: float | None = Field(
        2.0,
        gt=0,
        description="with a reference solution of k steps, "
        "a model's episode gets at most ceil(k * this) + 2 steps (never "
        "more than the env's max_steps); None: max_steps for every task",
    )
    stuck_after_repeats: int | None = Field(
        3, ge=2, description="end an episode that repeats one action on one page this many times in a row (None: never)"
    )
    revisit_limit: int | None = Field(
        3,
        ge=2,
        description="end an episode when the page it is on (URL and "
        "observation) has been seen this many times in it: going in circles, "
        "it will not finish, and every further step costs a model call (None: never)",
    )
    first_model_round: int = Field(
        2,
        ge=1,
        description="a run's model rollouts on training tasks start in this "
        "round; earlier rounds replay references only (the starting model's attempts "
        "cannot succeed, so they cost time and yield nothing)",
    )
    episode_timeout_s: float = Field(
        600.0, gt=0, description="wall-clock limit of one episode; it is then verified as it stands and marked timeout"
    )


@dataclass(frozen=True)
class ScreenshotFiles:
    """Where step screenshots go: `<run_dir>/<folder>/<episode id>/<step index>.jpg`.

    Files, not store rows: the SQLite store stays small and the report embeds only a
    bounded few. Steps name them relative to `run_dir`, so a run directory can be moved.
    """

    run_dir: Path
    folder: str = SCREENSHOTS_FOLDER

    def episode_dir(self, episode_id: str) -> Path:
        return self.run_dir / self.folder / episode_id

    def clear(self, episode_id: str) -> None:
        """Remove the files of an earlier attempt of this episode (a resumed run redoes it whole)."""
        folder = self.episode_dir(episode_id)
        if folder.exists():
            shutil.rmtree(folder)

    def write(self, episode_id: str, step: int, jpeg: bytes) -> str:
        """Write one step's screenshot; return its path relative to the run directory."""
        path = self.episode_dir(episode_id) / f"{step}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg)
        return path.relative_to(self.run_dir).as_posix()


@dataclass
class _Live:
    task: Task
    sample: int
    env: WebEnv
    obs: Observation
    started: float
    episode_id: str
    intent: str
    """What the agent is asked: the instruction the env stated at reset, else the task's intent."""
    stated: bool = False
    """True when the env stated the instruction at reset (it defines its task then: MiniWoB++)."""
    steps: list[StepRecord] = field(default_factory=list)
    history: list[HistoryItem] = field(default_factory=list)
    plan: PlanState | None = None
    shot: bytes | None = None
    """The env's screenshot of `obs` (None when the env records none)."""
    shot_ref: str | None = None
    """`shot`'s file once written (a step that did not act shows the same page: one file serves both)."""


DemoPicker = Callable[[Task], Sequence[Demo]]


class RolloutEngine:
    """Runs a policy over tasks in slot-owned envs; see the module docstring."""

    def __init__(
        self,
        policy: Policy,
        env_factory: Callable[[], WebEnv],
        config: RolloutConfig = RolloutConfig(),
        policy_name: str | None = None,
        env_kind: str = "dom",
        demos: DemoPicker | None = None,
        planner: Planner | None = None,
        screenshots: ScreenshotFiles | None = None,
        seed: int = 0,
    ):
        self.policy = policy
        self.env_factory = env_factory
        self.config = config
        self.policy_name: str = (
            policy_name or getattr(policy, "name", None) or getattr(policy.model, "name", None) or "model"
        )
        self.env_kind = env_kind
        self.demos = demos
        self.planner = planner
        """Plan mode (see domplay.agent.plan) when given; None = act from the intent alone."""
        self.screenshots = screenshots
        """Where the env's screenshots are written; None = they are dropped."""
        self.seed = seed
        """Seeds env resets and every sampling call (with the task, sample, round and step)."""
        self._envs: list[WebEnv] = []

    def run(
        self,
        tasks: Sequence[Task],
        round: int = 0,
        skip: Iterable[str] = (),
        on_episode: Callable[[Episode], None] | None = None,
        progress: Callable[[Episode], None] | None = None,
    ) -> list[Episode]:
        """Run `samples_per_task` episodes of every task (except episode ids in `skip`)."""
        skip = set(skip)
        queue = [
            (t, s)
            for t in tasks
            for s in range(self.config.samples_per_task)
            if Episode.make_id(t.id, self.policy_name, round, s) not in skip
        ]
        queue.reverse()  # pop() from the end keeps task order
        while len(self._envs) < min(self.config.concurrency, max(1, len(queue))):
            self._envs.append(self.env_factory())
        slots: list[_Live | None] = [None] * len(self._envs)
        done: list[Episode] = []

        def finish(episode: Episode) -> None:
            done.append(episode)
            if on_episode is not None:
                on_episode(episode)
            if progress is not None:
                progress(episode)

        while queue or any(slots):
            for i, live in enumerate(slots):
                while live is None and queue:
                    task, sample = queue.pop()
                    live, failed = self._start(task, sample, i, round)
                    if failed is not None:
                        finish(failed)
                slots[i] = live
            active = [(i, live) for i, live in enumerate(slots) if live is not None]
            if not active:
                break
            if self.planner is not None:
                self._plan([live for _, live in active], round)
            queries = [self._query(live, round) for _, live in active]
            decisions = self.policy.act(queries)
            for (i, live), decision in zip(active, decisions, strict=True):
                ended = self._advance(live, decision, round)
                if ended is not None:
                    finish(ended)
                    slots[i] = None
        return done

    def step_limit(self, task: Task, cap: int) -> int:
        """How many steps an episode of `task` may take, never more than the env's `cap` (its max_steps)."""
        factor = self.config.steps_per_reference_step
        if factor is None or not task.reference or self.policy.oracle:
            return cap  # an oracle never wanders: all it needs is room to scroll its targets into view
        budget = min(cap, math.ceil(len(task.reference) * factor) + 2)
        return min(cap, max(budget, steps_needed(task.reference)))  # the oracle's own path always fits the budget

    def _stuck(self, live: _Live) -> bool:
        """The same action on the same observation `stuck_after_repeats` times in a row: it will not
        get unstuck by itself, and every further step costs a model call."""
        n = self.config.stuck_after_repeats
        if n is None or len(live.steps) < n:
            return False
        last = live.steps[-n:]
        return len({(s.observation, s.action or s.completion) for s in last}) == 1

    def _circling(self, live: _Live) -> bool:
        """A model's episode back on a page it has already seen `revisit_limit - 1` times (an oracle's
        path may revisit a list page on purpose; a model that does it this often is lost)."""
        n = self.config.revisit_limit
        if n is None or self.policy.oracle:
            return False
        seen = sum(1 for s in live.steps if s.url == live.obs.url and s.observation == live.obs.text)
        return seen + 1 >= n

    def close(self) -> None:
        for env in self._envs:
            env.close()
        self._envs.clear()

    # -- one episode ------------------------------------------------------------------------
    def _start(self, task: Task, sample: int, slot: int, round: int) -> tuple[_Live | None, Episode | None]:
        env = self._envs[slot]
        episode_id = Episode.make_id(task.id, self.policy_name, round, sample)
        started = time.perf_counter()
        if self.screenshots is not None:
            self.screenshots.clear(episode_id)
        try:
            obs, info = env.reset(seed=self.reset_seed(task, sample, round), options={"task": task})
        except DomplayError as exc:
            return None, Episode(
                id=episode_id,
                task_id=task.id,
                policy=self.policy_name,
                round=round,
                sample=sample,
                env=self.env_kind,
                status="error",
                error=f"reset failed: {type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - started,
            )
        stated = info.get(INTENT_INFO_KEY)
        live = _Live(
            task,
            sample,
            env,
            obs,
            started,
            episode_id,
            intent=stated if stated else task.intent,
            stated=bool(stated),
            shot=info.get(SCREENSHOT_INFO_KEY),
        )
        return live, None

    def reset_seed(self, task: Task, sample: int, round: int) -> int:
        """The env's reset seed for one episode: its own for every (task, sample, round), stable across
        processes, so an env that draws its problem from the seed gives each sample its own."""
        return zlib.crc32(f"{self.seed}|{task.id}|{sample}|{round}|reset".encode())

    def _seed(self, live: _Live, round: int) -> int:
        key = f"{self.seed}|{live.task.id}|{live.sample}|{round}|{len(live.steps)}"
        return zlib.crc32(key.encode())  # stable across processes, unlike hash()

    def _plan(self, lives: Sequence[_Live], round: int) -> None:
        """(Re)plan, in one batch, every episode that has no plan yet or a replan due."""
        assert self.planner is not None
        pending = [live for live in lives if self.planner.needs_plan(live.plan)]
        requests = [
            PlanRequest(live.intent, live.obs, tuple(live.history), live.plan, self._seed(live, round))
            for live in pending
        ]
        for live, state in zip(pending, self.planner.plan(requests), strict=True):
            live.plan = state

    def _query(self, live: _Live, round: int) -> Query:
        demos = tuple(self.demos(live.task)) if self.demos is not None else ()
        plan = self.planner.prompt_text(live.plan) if self.planner is not None and live.plan is not None else None
        return Query(
            intent=live.intent,
            observation=live.obs,
            history=tuple(live.history),
            demos=demos,
            plan=plan,
            seed=self._seed(live, round),
            task=live.task,
        )

    def _advance(self, live: _Live, decision, round: int) -> Episode | None:
        """Apply one decision; return the finished Episode when the episode ends."""
        env_started = time.perf_counter()
        before = live.obs
        terminated = truncated = False
        info: dict = {}
        error = decision.error
        action_text = A.format_action(decision.action) if decision.action is not None else None
        execute = decision.action is not None
        extra = self._screenshot_extra(live)
        if self.planner is not None and live.plan is not None:
            extra.update(self.planner.step_extra(live.plan))
            live.plan, refusal = self.planner.before_step(live.plan, decision.action)
            if refusal is not None:  # e.g. stop() while subtasks remain: not executed, replanned
                execute, error = False, refusal
        if execute:
            obs, _, terminated, truncated, info = live.env.step(decision.action)
            error = obs.error
            live.obs = obs
            live.shot, live.shot_ref = info.get(SCREENSHOT_INFO_KEY), None
        env_seconds = time.perf_counter() - env_started
        live.steps.append(
            StepRecord(
                index=len(live.steps),
                url=before.url,
                observation=before.text,
                prompt=decision.prompt,
                completion=decision.completion,
                action=action_text,
                error=error,
                state_key=state_key(decision.prompt),
                model_seconds=decision.model_seconds,
                env_seconds=env_seconds,
                completion_tokens=decision.completion_tokens,
                extra=extra,
            )
        )
        live.history.append(
            HistoryItem(action_text or decision.completion.strip()[:60], error, _target(before, decision.action))
        )
        if not execute:
            # An unparseable (or refused) reply is a step too: the agent sees the error next time.
            live.obs = _with_error(live.obs, error)
        if self.planner is not None and live.plan is not None:
            live.plan = self.planner.after_step(live.plan, before, live.obs, error)
        elapsed = time.perf_counter() - live.started
        over_steps = len(live.steps) >= self.step_limit(live.task, live.env.config.max_steps)
        timed_out = elapsed > self.config.episode_timeout_s
        if not (terminated or truncated or over_steps or timed_out or self._stuck(live) or self._circling(live)):
            return None
        snapshot = live.env.snapshot()
        verdict = info.get("verdict")
        if verdict is None:
            verdict = verify(live.task.checks, snapshot)
        status = "done" if terminated else ("timeout" if timed_out else "truncated")
        return Episode(
            id=live.episode_id,
            task_id=live.task.id,
            policy=self.policy_name,
            round=round,
            sample=live.sample,
            env=self.env_kind,
            steps=live.steps,
            snapshot=snapshot,
            verdict=verdict,
            status=status,
            seconds=elapsed,
            plan=self.planner.record(live.plan) if self.planner is not None else None,
            intent=live.intent if live.stated else None,
        )

    def _screenshot_extra(self, live: _Live) -> dict:
        """{SCREENSHOT_KEY: file} for the page the next step acts on, when there is a screenshot of it."""
        if self.screenshots is None or live.shot is None:
            return {}
        if live.shot_ref is None:
            live.shot_ref = self.screenshots.write(live.episode_id, len(live.steps), live.shot)
        return {SCREENSHOT_KEY: live.shot_ref}


HISTORY_TARGET_CHARS = 40
"""Element names in the prompt's history are cut to this length."""


def _target(obs: Observation, action: A.Action | None) -> str | None:
    """`role "name"` of the element `action` names by id on `obs`, or None (no id, or not on
    the page; an action by name says what it was on already)."""
    if action is None:
        return None
    try:
        element = resolve(action, obs.elements)
    except ActionError:
        return None
    target = getattr(action, "target", None)
    if element is None or (isinstance(target, str) and not BID.fullmatch(target.strip())):
        return None  # no element, or named by name: the action says what it was on
    name = element.name
    if len(name) > HISTORY_TARGET_CHARS:
        name = name[: HISTORY_TARGET_CHARS - 1] + "…"
    return f'{element.role} "{name}"'


def _with_error(obs: Observation, error: str | None) -> Observation:
    from dataclasses import replace

    lines = obs.text.split("\n")
    lines = [line for line in lines if not line.startswith("Error: ")]
    if error:
        lines.insert(2, f"Error: {error}")
    return replace(obs, text="\n".join(lines), error=error)
