"""Prompts for the web agent: built from the action primitives' docstrings, never hand-copied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domplay.env.actions import describe_actions

Message = dict[str, str]

SYSTEM_PROMPT = (
    "You are a web agent. The page is shown as elements with ids in brackets. "
    "Reply with exactly one action:\n{actions}"
)


@dataclass(frozen=True)
class HistoryItem:
    """One earlier step as the prompt shows it."""

    action: str
    error: str | None = None


@dataclass(frozen=True)
class Demo:
    """A few-shot demonstration: the user turn and the assistant's action."""

    user: str
    action: str


def system_message() -> Message:
    return {"role": "system", "content": SYSTEM_PROMPT.format(actions=describe_actions())}


def user_message(intent: str, observation: str, history: Sequence[HistoryItem] = (),
                 plan: str | None = None) -> Message:
    """The per-step user turn: task, (plan,) previous actions with their errors, and the page."""
    parts = [f"Task: {intent}"]
    if plan:
        parts.append(f"Plan:\n{plan}")
    if history:
        lines = [f"{h.action}" + (f"  -> error: {h.error}" if h.error else "") for h in history]
        parts.append("Previous actions:\n" + "\n".join(lines))
    parts.append(f"Page:\n{observation}")
    parts.append("Next action:")
    return {"role": "user", "content": "\n\n".join(parts)}


def build_prompt(intent: str, observation: str, history: Sequence[HistoryItem] = (),
                 demos: Sequence[Demo] = (), plan: str | None = None) -> list[Message]:
    """system, then each demo as a user/assistant pair, then the current user turn."""
    messages = [system_message()]
    for demo in demos:
        messages.append({"role": "user", "content": demo.user})
        messages.append({"role": "assistant", "content": demo.action})
    messages.append(user_message(intent, observation, history, plan))
    return messages
