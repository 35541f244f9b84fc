"""What verification reads: the final page, the answer, the action log, the backend state.

A Snapshot is plain data (pydantic, JSON round-trip), so checks re-run offline on stored
episodes and the sandbox receives it as data, never as live objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TargetElement(BaseModel):
    """The element an action acted on, as it was when the action ran."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    """Observation role, e.g. "button", "link", "textbox"."""
    name: str
    """Accessible name as shown in the observation."""
    tag: str
    attrs: dict[str, str] = Field(default_factory=dict)
    """The element's HTML attributes (including `data-dp`, its stamp on that page)."""
    text: str = ""
    """The element's text content (whitespace-collapsed)."""


class ActionRecord(BaseModel):
    """One step of the action log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str
    """Canonical action string, e.g. `click(12)`."""
    url: str
    """URL of the page the action was taken on."""
    target: TargetElement | None = None
    """The element acted on, for element actions that resolved to one."""
    page_html: str | None = None
    """HTML of the page the action was taken on (stamped with `data-dp`), when recorded."""
    error: str | None = None
    """The error the action produced, shown to the agent in the next observation."""


class Snapshot(BaseModel):
    """The final state of an episode, as verification sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    """Final URL (absolute)."""
    html: str
    """Final page HTML; form fields carry their live values as `value`/`checked`/`selected`."""
    title: str = ""
    answer: str | None = None
    """The agent's `answer(...)` text, None if it never answered."""
    actions: tuple[ActionRecord, ...] = ()
    state: dict[str, Any] = Field(default_factory=dict)
    """Backend state of built-in sites, keyed by site name (e.g. `state["shop"]["orders"]`)."""
