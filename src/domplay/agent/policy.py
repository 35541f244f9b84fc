"""The policy: prompt the model with the page, parse its completion into an action.

One `act` call serves many episodes at once (one batched `generate`), which is what makes
rollouts with a local model fast: batch 8 is ~4x the throughput of batch 1 on CPU.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import Field

from domplay.agent.prompts import Demo, HistoryItem, build_prompt
from domplay.env import actions as A
from domplay.env.observation import Element, Observation
from domplay.env.targets import acts_on, in_form, name_target, resolve
from domplay.errors import ActionError
from domplay.llm.base import ChatModel, GenerationParams, Message, valid_text
from domplay.llm.constrained import Constraint, TargetLike
from domplay.settings import Settings
from domplay.tasks.model import Task

_CALL = re.compile(r"\b(" + "|".join(sorted(set(A.BY_NAME) | set(A.ALIASES), key=len, reverse=True)) + r")\s*\(")


class PolicyConfig(Settings):
    """How the policy prompts and samples; recorded with every run."""

    history_steps: int = Field(2, ge=0, description="how many previous actions (with their errors) the prompt shows")
    demos: int = Field(
        0,
        ge=0,
        description="few-shot demos per prompt, from earlier rounds' verified steps "
        "(a run's demo pool, or `domplay eval --demos`; 0: none)",
    )
    temperature: float = Field(
        0.0,
        ge=0,
        description="sampling temperature when acting (held-out evals); a run's "
        "training rollouts sample at rollout.temperature instead",
    )
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(40, ge=8, description="an action is short; longer completions are cut here")
    constrained: bool = Field(
        True,
        description="pass page constraints (valid ids/options) to backends that "
        "enforce them (constrained action decoding)",
    )
    action_form: A.ActionForm = Field(
        A.DEFAULT_ACTION_FORM,
        description=(
            'how the policy is prompted (and the reference policy writes) to name elements: "name" '
            '(click("Add to cart"), click("Edit", 2)) or "id" (click(12)); the env accepts both'
        ),
    )
    action_help: A.ActionHelp = Field(
        A.DEFAULT_ACTION_HELP,
        description=(
            "how the system prompt lists the actions: brief (the calls on one line, ~45 tokens: what a model "
            "fine-tuned on domplay's data needs) or full (one line per action saying what it does, ~150 tokens: "
            "for a model used zero-shot, such as an API model)"
        ),
    )


@dataclass(frozen=True)
class Query:
    """One episode's request for its next action."""

    intent: str
    observation: Observation
    history: tuple[HistoryItem, ...] = ()
    demos: tuple[Demo, ...] = ()
    plan: str | None = None
    seed: int | None = None
    task: Task | None = None
    """The task (for oracle policies such as `ReferencePolicy`; the model never sees it)."""


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one query."""

    prompt: list[Message]
    completion: str
    action: A.Action | None
    error: str | None
    model_seconds: float
    completion_tokens: int
    extra: dict = field(default_factory=dict)


def parse_completion(text: str) -> A.Action:
    """The first action call in a completion (tolerates prose, code fences, `Action:` prefixes)."""
    match = _CALL.search(text)
    if match is None:
        raise ActionError(f"no action found in the reply {text.strip()[:80]!r}; reply with one call such as click(12)")
    start, depth, quote, i = match.start(), 0, None, match.end() - 1
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return A.parse_action(text[start : i + 1])
        i += 1
    return A.parse_action(text[start:])  # unbalanced: let the parser name the problem


def page_constraint(obs: Observation, form: str = A.DEFAULT_ACTION_FORM) -> Constraint:
    """What a valid action may name on this page, in action form `form`: the elements the
    observation shows (the agent cannot know the others), each element action only on
    elements the env would accept it on (fill a textbox, select a select, click what is
    interactive, nothing disabled), each select's options, and only the scroll directions
    that show something new. In the name form an element without a name keeps its id."""
    shown = [e for e in obs.elements[obs.offset : obs.offset + obs.shown] if not e.disabled]

    def written(e: Element, kind: type) -> TargetLike:
        named = name_target(e, kind, obs.elements) if form == "name" else None
        return e.id if named is None else named

    per_action = {
        kind.name: [written(e, kind) for e in shown if acts_on(kind, e) and not (kind is A.Fill and e.readonly)]
        for kind in A.ELEMENT_ACTIONS
    }
    options: dict[TargetLike, tuple[str, ...]] = {
        written(e, A.Select): e.options for e in shown if acts_on(A.Select, e)
    }
    directions = (["up"] if obs.offset > 0 else []) + (["down"] if obs.cut_note is not None else [])
    return Constraint(
        targets={t for some in per_action.values() for t in some},
        select_options=options,
        action_targets=per_action,
        scroll_directions=directions,
    )


class Policy:
    """Builds prompts, samples actions in batches, parses them."""

    oracle = False

    def __init__(self, model: ChatModel, config: PolicyConfig = PolicyConfig()):
        self.model = model
        self.config = config

    def prompt(self, q: Query) -> list[Message]:
        history = q.history[-self.config.history_steps :] if self.config.history_steps else ()
        return build_prompt(
            q.intent,
            q.observation.text,
            history,
            q.demos[: self.config.demos],
            q.plan,
            action_form=self.config.action_form,
            action_help=self.config.action_help,
        )

    def act(self, queries: Sequence[Query]) -> list[Decision]:
        """One decision per query, from one batched generate call."""
        if not queries:
            return []
        prompts = [self.prompt(q) for q in queries]
        constraints = (
            [page_constraint(q.observation, self.config.action_form) for q in queries]
            if self.config.constrained
            else None
        )
        seeds = tuple(q.seed for q in queries) if all(q.seed is not None for q in queries) else None
        params = GenerationParams(
            temperature=self.config.temperature,
            top_p=self.config.top_p,
            max_new_tokens=self.config.max_new_tokens,
            seed=queries[0].seed,
            seeds=seeds,
        )
        started = time.perf_counter()
        outputs = self.model.generate(prompts, params, constraints)
        elapsed = time.perf_counter() - started
        decisions = []
        for prompt, out in zip(prompts, outputs, strict=True):
            completion = out[0]
            text = valid_text(completion.text)  # a reply is stored with the episode: it must be valid text
            try:
                action, error = parse_completion(text), None
            except ActionError as exc:
                action, error = None, str(exc)
            decisions.append(
                Decision(
                    prompt=prompt,
                    completion=text,
                    action=action,
                    error=error,
                    model_seconds=elapsed / len(queries),
                    completion_tokens=completion.completion_tokens,
                )
            )
        return decisions


class ReferencePolicy(Policy):
    """Replays each task's reference solution through the same prompts the model gets.

    Its episodes are verified like any other, become SFT examples when they pass, and sit
    at the same states (same `state_key`) as the model's own steps, so model-vs-reference
    preference pairs compare like with like.
    """

    name = "reference"
    oracle = True
    """Rollouts give oracles the full max_steps: they never wander, but may need to scroll."""

    def __init__(self, config: PolicyConfig = PolicyConfig()):
        super().__init__(model=None, config=config)  # type: ignore[arg-type]

    def act(self, queries: Sequence[Query]) -> list[Decision]:
        out = []
        for q in queries:
            text = self.next_action(q)
            out.append(
                Decision(
                    prompt=self.prompt(q),
                    completion=text,
                    action=A.parse_action(text),
                    error=None,
                    model_seconds=0.0,
                    completion_tokens=0,
                )
            )
        return out

    @staticmethod
    def reference_step(q: Query) -> int:
        """Index of the reference action due at `q`: the steps so far, but the scrolls it inserted."""
        return sum(1 for h in q.history if not h.action.startswith("scroll("))

    def next_action(self, q: Query) -> str:
        """The reference's next action in the configured action form, after scrolling its
        target into view if the budgeted observation does not show it (so replays teach what
        a reader of the page could do). References may be stored in either form."""
        reference = (q.task.reference or []) if q.task is not None else []
        step = self.reference_step(q)
        if step >= len(reference):
            return "stop()"
        action = A.parse_action(reference[step])
        obs = q.observation
        try:
            target = resolve(action, obs.elements)
        except ActionError:
            return reference[step]  # not on this page: replay it as stored, the env says why
        if target is not None:
            if target.id <= obs.offset:
                return 'scroll("up")'
            if target.id > obs.offset + obs.shown:
                return 'scroll("down")'
        return A.format_action(in_form(action, obs.elements, self.config.action_form))
