"""Plan mode: an Actor proposes k plans, an Infer step scores them and picks (or merges) one, the policy follows it.

One `Planner.plan(requests)` call plans for many episodes with two batched `generate` calls:
the Actor's (one prompt per episode, `n = candidates` samples) and the Infer step's (one prompt
per distinct candidate, four 1-5 scores each: relevance, feasibility, efficiency, coverage).
A reply without the four scores falls back to `heuristic_scores` and the candidate records
`source="heuristic"`. With `merge`, steps of other well-scored candidates that cover task words
the best one lacks join it (`plan_merge`). The chosen plan is shown in the policy prompt with the current subtask
marked; the rollout engine reports each step (`after_step`) and asks for a replan when a
trigger fires (repeated errors, a stalled page, stop() while subtasks remain). Everything —
candidates, scores, the choice, each replan — ends up in `Episode.plan` via `record`.

Subtask progress is a heuristic (no extra model call): the current subtask counts as done when
an action succeeds and navigates (the URL changes). It is a hint in the prompt, not a check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal

from pydantic import Field, NonNegativeFloat, field_validator

from domplay.agent.plan_merge import merge_subtasks
from domplay.agent.plan_words import ACTION_VERBS, WORD, keywords
from domplay.agent.prompts import HistoryItem
from domplay.env import actions as A
from domplay.env.observation import Observation
from domplay.llm.base import ChatModel, GenerationParams, Message
from domplay.settings import Settings

CRITERIA = ("relevance", "feasibility", "efficiency", "coverage")
ScoreSource = Literal["model", "heuristic", "empty"]

ACTOR_SYSTEM = (
    "You plan tasks on web sites. Given a task and the start page, write a short plan: numbered steps, "
    'one per line, each a concrete subtask such as 1. Search for "wool socks" 2. Open the first result '
    "3. Answer with its price. At most {max_subtasks} steps. Write only the numbered steps."
)
INFER_SYSTEM = (
    "You judge plans for tasks on web sites. Rate the plan from 1 (poor) to 5 (excellent) on:\n"
    "relevance: every step serves the task\n"
    "feasibility: each step can be done on this site by clicking, typing or reading\n"
    "efficiency: few steps, none redundant\n"
    "coverage: the plan does everything the task asks\n"
    "Reply with exactly four lines:\nrelevance: N\nfeasibility: N\nefficiency: N\ncoverage: N"
)
_STEP_LINE = re.compile(r"^\s*(?:step\s*)?(?:\d{1,2}\s*[.):]|[-*\u2022])\s*(.+?)\s*$", re.IGNORECASE)
_SCORE = re.compile(r"\b(" + "|".join(CRITERIA) + r")\b\W{0,4}([1-5])(?:\.\d+)?\b(?!-)", re.IGNORECASE)


class PlanConfig(Settings):
    """How plans are proposed, scored, followed and revised; recorded in every plan-mode episode."""

    candidates: int = Field(
        3, ge=1, description="k: plans sampled per episode (and per replan) in the Actor's generate call"
    )
    temperature: float = Field(
        0.7, ge=0, description="Actor sampling temperature; at 0 the k samples coincide and are de-duplicated"
    )
    top_p: float = Field(0.95, gt=0, le=1)
    plan_max_new_tokens: int = Field(160, ge=1)
    max_subtasks: int = Field(8, ge=1, description="steps of a plan beyond this are dropped")
    max_subtask_chars: int = Field(160, ge=1)
    page_chars: int = Field(
        1500, ge=1, description="characters of the current page shown to the Actor and the Infer step"
    )
    merge: bool = Field(
        False,
        description="merge the best-scored plan with steps of other well-scored plans that cover task words "
        "it lacks (agent.plan_merge); False: take the best plan as it is",
    )
    merge_margin: float = Field(
        0.5, ge=0, description="merging: plans whose total score is within this of the best one's may add steps"
    )
    infer: Literal["model", "heuristic"] = Field(
        "model", description="'model' asks the model for the four scores; 'heuristic' scores without a model call"
    )
    score_temperature: float = Field(0.0, ge=0)
    score_max_new_tokens: int = Field(40, ge=1)
    weights: tuple[NonNegativeFloat, NonNegativeFloat, NonNegativeFloat, NonNegativeFloat] = Field(
        (1.0, 1.0, 1.0, 1.0),
        description="weights of relevance, feasibility, efficiency, coverage in a plan's "
        "total score (their sum must be positive)",
    )
    efficient_subtasks: int = Field(
        4, ge=1, description="heuristic efficiency: plans with at most this many steps get 5, each extra step costs 1"
    )
    replan_after_error_steps: int = Field(
        2, ge=1, description="replan after this many consecutive steps whose action failed (parse or execution error)"
    )
    replan_after_stalled_steps: int = Field(
        3, ge=1, description="replan after this many consecutive steps that left the page unchanged"
    )
    replan_on_early_stop: bool = Field(
        True, description="refuse the first stop() while subtasks remain and replan instead"
    )
    max_replans: int = Field(
        2, ge=0, description="replans per episode (0 = never); after that the plan stays and stop() is executed"
    )

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if sum(value) <= 0:
            raise ValueError(f"give {len(CRITERIA)} non-negative weights ({', '.join(CRITERIA)}) with a positive sum")
        return value


@dataclass(frozen=True)
class Scores:
    """The Infer step's four judgements of one plan, each in [1, 5]."""

    relevance: float
    feasibility: float
    efficiency: float
    coverage: float

    def total(self, weights: Sequence[float]) -> float:
        values = (self.relevance, self.feasibility, self.efficiency, self.coverage)
        return round(sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights), 3)


@dataclass(frozen=True)
class Candidate:
    """One proposed plan and how it was judged."""

    text: str
    """The Actor's raw completion."""
    subtasks: tuple[str, ...]
    scores: Scores | None
    source: ScoreSource
    """'model' when the Infer reply parsed, 'heuristic' when it fell back, 'empty' when no steps parsed."""
    total: float
    score_reply: str = ""


@dataclass(frozen=True)
class PlanAttempt:
    """One planning round: the initial plan or a replan."""

    step: int
    """Episode step at which it was made (0 = before the first action)."""
    reason: str
    candidates: tuple[Candidate, ...]
    chosen: int | None
    """Index of the chosen candidate; None when none had steps and the intent became the plan."""
    subtasks: tuple[str, ...]
    model_seconds: float
    merged_from: tuple[int, ...] = ()
    """With `merge`: the candidates whose steps the plan holds (the chosen one first); () otherwise."""


@dataclass(frozen=True)
class PlanState:
    """Where an episode stands in its plan. Immutable: every update returns a new state."""

    attempts: tuple[PlanAttempt, ...]
    current: int = 0
    """Index of the subtask being worked on; == len(subtasks) when all are done."""
    steps: int = 0
    """Episode steps seen so far."""
    error_streak: int = 0
    stalled_steps: int = 0
    pending_replan: str | None = None
    """Why a replan is due (set by a trigger, cleared by the replan)."""
    advances: tuple[tuple[int, int], ...] = ()
    """(step, subtask index) for each subtask marked done."""

    @property
    def subtasks(self) -> tuple[str, ...]:
        return self.attempts[-1].subtasks

    @property
    def replans(self) -> int:
        return len(self.attempts) - 1

    @property
    def remaining(self) -> int:
        return max(0, len(self.subtasks) - self.current)


@dataclass(frozen=True)
class PlanRequest:
    """One episode asking for a plan (first plan when `previous` is None, else a replan)."""

    intent: str
    observation: Observation
    history: tuple[HistoryItem, ...] = ()
    previous: PlanState | None = None
    seed: int | None = None


# -- parsing and heuristics ------------------------------------------------------------------
def parse_subtasks(text: str, max_subtasks: int, max_chars: int) -> tuple[str, ...]:
    """Numbered or bulleted lines of a plan; plain lines when none is numbered. Empty for garbage."""
    lines = [line for line in text.splitlines() if line.strip()]
    steps = [m.group(1) for m in (_STEP_LINE.match(line) for line in lines) if m is not None]
    if not steps:
        steps = [line.strip() for line in lines if len(line.strip()) <= max_chars]
    out: list[str] = []
    for step in steps:
        step = step.replace("**", "").strip().rstrip(":").strip()  # markdown bold, "Step title:"
        if any(c.isalpha() for c in step) and step[:max_chars] not in out:
            out.append(step[:max_chars])
    return tuple(out[:max_subtasks])


def parse_scores(reply: str) -> Scores | None:
    """The four labelled 1-5 scores in a reply ('Relevance: 4', '**coverage** = 5/5'), or None."""
    found: dict[str, float] = {}
    for m in _SCORE.finditer(reply):
        found.setdefault(m.group(1).lower(), float(m.group(2)))
    if len(found) < len(CRITERIA):
        return None
    return Scores(**found)


def heuristic_scores(intent: str, subtasks: Sequence[str], page: Observation, efficient_subtasks: int) -> Scores:
    """Scores without a model, each mapped linearly onto [1, 5]:

    coverage    — share of the intent's keywords that the plan mentions;
    relevance   — share of steps mentioning an intent keyword or an element name on the page;
    feasibility — share of steps containing an action verb (`ACTION_VERBS`);
    efficiency  — 5 up to `efficient_subtasks` steps, minus 1 per extra step (at least 1).
    """
    if not subtasks:
        return Scores(1.0, 1.0, 1.0, 1.0)
    intent_words = keywords(intent)
    page_words = keywords(" ".join(e.name for e in page.elements))
    step_words = [keywords(s) for s in subtasks]
    plan_words = set().union(*step_words)

    def scale(share: float) -> float:
        return round(1.0 + 4.0 * share, 2)

    coverage = len(intent_words & plan_words) / len(intent_words) if intent_words else 1.0
    relevant = sum(1 for w in step_words if w & (intent_words | page_words)) / len(subtasks)
    feasible = sum(1 for s in subtasks if set(WORD.findall(s.lower())) & ACTION_VERBS) / len(subtasks)
    efficiency = max(1.0, 5.0 - max(0, len(subtasks) - efficient_subtasks))
    return Scores(
        relevance=scale(relevant), feasibility=scale(feasible), efficiency=efficiency, coverage=scale(coverage)
    )


def numbered(subtasks: Sequence[str]) -> str:
    return "\n".join(f"{i}. {s}" for i, s in enumerate(subtasks, 1))


# -- the planner -----------------------------------------------------------------------------
class Planner:
    """Proposes, scores and picks plans in batches; tracks subtasks and decides replans."""

    def __init__(self, model: ChatModel, config: PlanConfig = PlanConfig()):
        self.model = model
        self.config = config

    # Planning ---------------------------------------------------------------------------------
    def needs_plan(self, state: PlanState | None) -> bool:
        return state is None or state.pending_replan is not None

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanState]:
        """A (re)plan for every request: one Actor generate call, then one Infer call."""
        if not requests:
            return []
        cfg = self.config
        started = time.perf_counter()
        params = GenerationParams(
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            n=cfg.candidates,
            max_new_tokens=cfg.plan_max_new_tokens,
            seed=requests[0].seed,
        )
        outputs = self.model.generate([self.actor_prompt(r) for r in requests], params)
        proposals: list[list[tuple[str, tuple[str, ...]]]] = []
        for out in outputs:
            props, keys = [], set()
            for completion in out:
                steps = parse_subtasks(completion.text, cfg.max_subtasks, cfg.max_subtask_chars)
                key = tuple(s.lower() for s in steps)
                if steps and key in keys:
                    continue  # k identical samples (e.g. greedy decoding) are scored once
                keys.add(key)
                props.append((completion.text, steps))
            proposals.append(props)
        scored = self._infer(requests, proposals)
        seconds = (time.perf_counter() - started) / len(requests)
        return [self._choose(r, cands, seconds) for r, cands in zip(requests, scored, strict=True)]

    def _infer(
        self, requests: Sequence[PlanRequest], proposals: list[list[tuple[str, tuple[str, ...]]]]
    ) -> list[list[Candidate]]:
        """Score every candidate with steps: one batched model call (or the heuristic only)."""
        cfg = self.config
        jobs = [(i, j) for i, props in enumerate(proposals) for j, (_, steps) in enumerate(props) if steps]
        replies: dict[tuple[int, int], str] = {}
        if jobs and cfg.infer == "model":
            params = GenerationParams(
                temperature=cfg.score_temperature, max_new_tokens=cfg.score_max_new_tokens, seed=requests[0].seed
            )
            prompts = [self.infer_prompt(requests[i], proposals[i][j][1]) for i, j in jobs]
            outs = self.model.generate(prompts, params)
            replies = {job: out[0].text for job, out in zip(jobs, outs, strict=True)}
        result = []
        for i, props in enumerate(proposals):
            cands = []
            for j, (text, steps) in enumerate(props):
                if not steps:
                    cands.append(Candidate(text, steps, None, "empty", 0.0))
                    continue
                reply = replies.get((i, j), "")
                scores = parse_scores(reply) if (i, j) in replies else None
                source: ScoreSource = "model" if scores is not None else "heuristic"
                if scores is None:
                    scores = heuristic_scores(
                        requests[i].intent, steps, requests[i].observation, cfg.efficient_subtasks
                    )
                cands.append(Candidate(text, steps, scores, source, scores.total(cfg.weights), reply))
            result.append(cands)
        return result

    def _choose(self, request: PlanRequest, cands: list[Candidate], seconds: float) -> PlanState:
        """Highest total wins; ties go to the shorter plan, then the earlier sample."""
        cfg = self.config
        usable = [i for i, c in enumerate(cands) if c.subtasks]
        chosen = max(usable, key=lambda i: (cands[i].total, -len(cands[i].subtasks), -i)) if usable else None
        subtasks = cands[chosen].subtasks if chosen is not None else (request.intent,)
        merged_from: tuple[int, ...] = ()
        if cfg.merge and chosen is not None:
            plans = [(c.subtasks, c.total) for c in cands]
            merged = merge_subtasks(request.intent, plans, chosen, cfg.merge_margin, cfg.max_subtasks)
            subtasks, merged_from = merged.subtasks, merged.contributors
        prev = request.previous
        attempt = PlanAttempt(
            step=prev.steps if prev is not None else 0,
            reason=(prev.pending_replan or "replan") if prev is not None else "initial",
            candidates=tuple(cands),
            chosen=chosen,
            subtasks=subtasks,
            model_seconds=seconds,
            merged_from=merged_from,
        )
        if prev is None:
            return PlanState(attempts=(attempt,))
        return replace(
            prev, attempts=prev.attempts + (attempt,), current=0, error_streak=0, stalled_steps=0, pending_replan=None
        )

    def actor_prompt(self, request: PlanRequest) -> list[Message]:
        parts = [f"Task: {request.intent}", f"Current page:\n{request.observation.text[: self.config.page_chars]}"]
        prev = request.previous
        if prev is not None:
            done = numbered(prev.subtasks[: prev.current]) or "(none)"
            parts.append(
                f"The previous plan failed ({prev.pending_replan}):\n{numbered(prev.subtasks)}\nSubtasks done:\n{done}"
            )
            if request.history:
                lines = [h.action + (f"  -> error: {h.error}" if h.error else "") for h in request.history[-4:]]
                parts.append("Recent actions:\n" + "\n".join(lines))
            parts.append("Write a new plan from the current page.")
        parts.append("Plan:")
        return [
            {"role": "system", "content": ACTOR_SYSTEM.format(max_subtasks=self.config.max_subtasks)},
            {"role": "user", "content": "\n\n".join(parts)},
        ]

    def infer_prompt(self, request: PlanRequest, subtasks: Sequence[str]) -> list[Message]:
        user = (
            f"Task: {request.intent}\n\nCurrent page:\n{request.observation.text[: self.config.page_chars]}"
            f"\n\nPlan:\n{numbered(subtasks)}\n\nScores:"
        )
        return [{"role": "system", "content": INFER_SYSTEM}, {"role": "user", "content": user}]

    # Following ---------------------------------------------------------------------------------
    def prompt_text(self, state: PlanState) -> str:
        """The plan as the policy prompt shows it: done steps ticked, the current one marked."""
        lines = []
        for i, step in enumerate(state.subtasks):
            mark = "[done]" if i < state.current else ("[now] " if i == state.current else "      ")
            lines.append(f"{mark} {i + 1}. {step}")
        if state.remaining == 0:
            lines.append('All subtasks are done: finish with answer("...") or stop().')
        return "\n".join(lines)

    def before_step(self, state: PlanState, action: A.Action | None) -> tuple[PlanState, str | None]:
        """Refuse stop() while subtasks remain (a replan trigger); returns the error the agent sees."""
        cfg = self.config
        if (
            isinstance(action, A.Stop)
            and cfg.replan_on_early_stop
            and state.remaining > 0
            and state.replans < cfg.max_replans
        ):
            reason = f"stop() with {state.remaining} subtask(s) left"
            message = (
                f"stop() refused: subtask {state.current + 1} of {len(state.subtasks)} is not done; "
                "the plan will be revised"
            )
            return replace(state, pending_replan=reason), message
        return state, None

    def after_step(self, state: PlanState, before: Observation, after: Observation, error: str | None) -> PlanState:
        """Count the step: advance the subtask on a successful navigation; set a replan trigger."""
        cfg = self.config
        steps = state.steps + 1
        streak = state.error_streak + 1 if error is not None else 0
        unchanged = before.url == after.url and before.elements == after.elements and before.offset == after.offset
        stalled = state.stalled_steps + 1 if unchanged else 0
        current, advances = state.current, state.advances
        if error is None and after.url != before.url and current < len(state.subtasks):
            current, advances = current + 1, advances + ((steps - 1, current),)
        pending = state.pending_replan
        if pending is None and state.replans < cfg.max_replans:
            if streak >= cfg.replan_after_error_steps:
                pending = f"{streak} failed actions in a row"
            elif stalled >= cfg.replan_after_stalled_steps:
                pending = f"page unchanged for {stalled} steps"
        return replace(
            state,
            steps=steps,
            error_streak=streak,
            stalled_steps=stalled,
            current=current,
            advances=advances,
            pending_replan=pending,
        )

    def step_extra(self, state: PlanState) -> dict:
        """What a StepRecord notes about the plan at that step."""
        sub = state.subtasks[state.current] if state.remaining else None
        return {"plan_attempt": state.replans, "subtask_index": state.current, "subtask": sub}

    def record(self, state: PlanState | None) -> dict | None:
        """The JSON-able Episode.plan: config, every attempt with its scored candidates, replans, progress."""
        if state is None:
            return None
        return {
            "config": self.config.model_dump(mode="json"),
            "attempts": [asdict(a) for a in state.attempts],
            "replans": [{"step": a.step, "reason": a.reason} for a in state.attempts[1:]],
            "subtasks": list(state.subtasks),
            "subtasks_done": state.current,
            "completed": state.remaining == 0,
            "advances": [{"step": s, "subtask_index": i} for s, i in state.advances],
            "heuristic_fallbacks": sum(c.source == "heuristic" for a in state.attempts for c in a.candidates),
        }
