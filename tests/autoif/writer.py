"""A scripted proposer model for the autoif tests and bench: replies by the step that asks
(draft, independent check, back-translation, judge), as written outputs replayed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domplay.autoif.draft import BACKTRANSLATE_SYSTEM, CHECK_SYSTEM, JUDGE_SYSTEM
from domplay.llm.base import Message
from domplay.llm.scripted import ScriptedModel


@dataclass
class Writer:
    """Replies of each step; `checks` are handed out in turn to the independent-check prompts."""

    draft: str
    checks: Sequence[str] = ()
    backtranslation: str = "INTENT: the same task"
    judge: str = "SCORE: 9"
    asked: list[str] = field(default_factory=list)

    def __call__(self, prompt: list[Message]) -> str:
        system = prompt[0]["content"]
        if system == CHECK_SYSTEM:
            self.asked.append("check")
            return self.checks[(self.asked.count("check") - 1) % len(self.checks)] if self.checks else "no code"
        if system == BACKTRANSLATE_SYSTEM:
            self.asked.append("backtranslate")
            return self.backtranslation
        if system == JUDGE_SYSTEM:
            self.asked.append("judge")
            return self.judge
        self.asked.append("draft")
        return self.draft

    def model(self) -> ScriptedModel:
        return ScriptedModel(self)


def code_block(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def draft(intent: str, code: str, passes: Sequence[str], fails: Sequence[str] = ()) -> str:
    lines = [f"INTENT: {intent}", "CHECK:", code_block(code)]
    lines += [f"PASS: {p}" for p in passes] + [f"FAIL: {f}" for f in fails]
    return "\n".join(lines)
