"""A scripted model for the plans tests: Actor plans, Infer scores, high-level intents and autoif's
replies (draft, independent check, back-translation, judge), each written by hand and replayed."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from domplay.agent.plan import ACTOR_SYSTEM, INFER_SYSTEM
from domplay.autoif.draft import BACKTRANSLATE_SYSTEM, CHECK_SYSTEM, JUDGE_SYSTEM
from domplay.autoif.plans import INTENTS_SYSTEM
from domplay.llm.base import Message
from domplay.llm.scripted import ScriptedModel

FIVES = "relevance: 5\nfeasibility: 5\nefficiency: 5\ncoverage: 5"


def line_after(label: str, text: str) -> str:
    m = re.search(rf"^{label}: (.*)$", text, re.MULTILINE)
    return m.group(1).strip() if m else ""


@dataclass
class PlanWriter:
    """Replies by the step that asks. `plans[intent]` are the Actor's samples for a first plan, in
    turn; `replans[intent]` those for a replan; `scores(plan_text)` the Infer reply; `drafts[subtask]`
    autoif's draft and `checks[subtask]` its independent check; `intents` the reply listing intents."""

    plans: Mapping[str, Sequence[str]]
    drafts: Mapping[str, str] = field(default_factory=dict)
    checks: Mapping[str, str] = field(default_factory=dict)
    replans: Mapping[str, Sequence[str]] = field(default_factory=dict)
    scores: Callable[[str], str] = lambda plan: FIVES
    intents: str = ""
    asked: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    """The intent of every Actor prompt."""

    def __post_init__(self) -> None:
        self._plans = {k: itertools.cycle(v) for k, v in self.plans.items()}
        self._replans = {k: itertools.cycle(v) for k, v in self.replans.items()}

    def __call__(self, prompt: list[Message]) -> str:
        system, user = prompt[0]["content"], prompt[-1]["content"]
        self.prompts.append(user)
        if system.startswith(ACTOR_SYSTEM[:40]):
            intent = line_after("Task", user)
            replan = "The previous plan failed" in user
            self.asked.append("replan" if replan else "plan")
            self.planned.append(intent)
            samples = self._replans if replan else self._plans
            return next(samples[intent]) if intent in samples else "no idea"
        if system == INFER_SYSTEM:
            self.asked.append("infer")
            return self.scores(user.split("Plan:\n", 1)[1])
        if system.startswith(INTENTS_SYSTEM[:40]):
            self.asked.append("intents")
            return self.intents
        if system == CHECK_SYSTEM:
            self.asked.append("check")
            return self.checks.get(line_after("Task", user), "no code")
        if system == BACKTRANSLATE_SYSTEM:
            self.asked.append("backtranslate")
            return "INTENT: the same task"
        if system == JUDGE_SYSTEM:
            self.asked.append("judge")
            return "SCORE: 9"
        self.asked.append("draft")
        return self.drafts.get(line_after("Task to verify", user), "I cannot write that.")

    def model(self) -> ScriptedModel:
        return ScriptedModel(self)
