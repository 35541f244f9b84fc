"""Prompts for the web agent: built from the action primitives' docstrings, never hand-copied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domplay.env.actions import DEFAULT_ACTION_FORM, DEFAULT_ACTION_HELP, ActionHelp, describe_actions

Message = dict[str, str]

SYSTEM_PROMPT = "Reply with one web action:\n{actions}"


@dataclass(frozen=True)
class HistoryItem:
    """One earlier step as the prompt shows it."""

    action: str
    error: str | None = None
    target: str | None = None
    """The element an action by id named, as that page showed it (`button "Add to cart"`): ids
    are per page, so `click(21)` alone does not say what was done. None for an action by
    name (`click("Add to cart")` says it already)."""

    def line(self) -> str:
        return (
            self.action
            + (f" on {self.target}" if self.target else "")
            + (f"  -> error: {self.error}" if self.error else "")
        )


@dataclass(frozen=True)
class Demo:
    """A few-shot demonstration: the user turn and the assistant's action."""

    user: str
    action: str


def system_message(action_form: str = DEFAULT_ACTION_FORM, action_help: ActionHelp = DEFAULT_ACTION_HELP) -> Message:
    """The system turn: the action list in `action_form` ("name" or "id"), in full or brief."""
    return {
        "role": "system",
        "content": SYSTEM_PROMPT.format(actions=describe_actions(form=action_form, help=action_help)),
    }


def user_message(
    intent: str, observation: str, history: Sequence[HistoryItem] = (), plan: str | None = None
) -> Message:
    """The per-step user turn: task, (plan,) previous actions with their errors, and the page (the
    assistant turn that follows is the next action: the prompt does not ask again)."""
    parts = [f"Task: {intent}"]
    if plan:
        parts.append(f"Plan:\n{plan}")
    if history:
        parts.append("Previous actions:\n" + "\n".join(h.line() for h in history))
    parts.append(f"Page:\n{observation}")
    return {"role": "user", "content": "\n\n".join(parts)}


def build_prompt(
    intent: str,
    observation: str,
    history: Sequence[HistoryItem] = (),
    demos: Sequence[Demo] = (),
    plan: str | None = None,
    action_form: str = DEFAULT_ACTION_FORM,
    action_help: ActionHelp = DEFAULT_ACTION_HELP,
) -> list[Message]:
    """system, then each demo as a user/assistant pair, then the current user turn."""
    messages = [system_message(action_form, action_help)]
    for demo in demos:
        messages.append({"role": "user", "content": demo.user})
        messages.append({"role": "assistant", "content": demo.action})
    messages.append(user_message(intent, observation, history, plan))
    return messages
