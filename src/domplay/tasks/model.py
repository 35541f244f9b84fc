"""The Task: an intent on a site, a start URL, the checks that verify it, and where it came from.

Tasks are data (YAML/JSONL files, see `domplay.tasks.files`). A task's reference solution is
a list of action strings, each validated (and canonicalized) by the action parser.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domplay.env.actions import format_action, parse_action
from domplay.errors import ActionError
from domplay.verify.checks import Check

Difficulty = Literal["easy", "medium", "hard"]
Split = Literal["train", "heldout"]

_SITE_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*")


class Provenance(BaseModel):
    """Where a task came from, so datasets and reports can be traced and split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    proposer: str = "manual"
    """Which proposer made it: manual, template, explore, llm, hindsight, curriculum, webarena, ..."""
    template: str | None = None
    seed: int | None = None
    split: Split | None = None
    """Held-out tasks are never trained on."""
    extra: dict[str, Any] = Field(default_factory=dict)


class Task(BaseModel):
    """One verifiable web task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    intent: str = Field(min_length=1)
    """What the agent is asked to do, in natural language."""
    site: str
    """A built-in site name ("shop") or the origin of an external site ("https://example.org")."""
    start_url: str
    """A path ("/shop/") resolved by the env against its base URL, or an absolute URL."""
    difficulty: Difficulty
    checks: list[Check] = Field(min_length=1)
    reference: list[str] | None = None
    """Oracle actions, e.g. ['click(12)', 'fill(7, "shirt")'], stored in canonical form."""
    setup: list[str] | None = None
    """Actions the env runs at reset, after opening `start_url` and before the first observation:
    the state an earlier step of a larger task left (signed in, an item in the cart). They are not
    the agent's: not in its steps, its action log or its training data."""
    provenance: Provenance = Provenance()

    @field_validator("id")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        if not _TASK_ID.fullmatch(v):
            raise ValueError(f"task id {v!r} must be non-empty letters, digits and _.:/- (no spaces)")
        return v

    @field_validator("site")
    @classmethod
    def _valid_site(cls, v: str) -> str:
        if _SITE_NAME.fullmatch(v):
            return v
        parts = urlsplit(v)
        if (
            parts.scheme in ("http", "https")
            and parts.netloc
            and parts.path in ("", "/")
            and not parts.query
            and not parts.fragment
        ):
            return f"{parts.scheme}://{parts.netloc}"
        raise ValueError(
            f"site {v!r} must be a built-in site name (e.g. 'shop') or an origin "
            "such as 'https://example.org' (no path)"
        )

    @field_validator("start_url")
    @classmethod
    def _valid_start(cls, v: str) -> str:
        parts = urlsplit(v)
        if v.startswith("/") or (parts.scheme in ("http", "https") and parts.netloc):
            return v
        raise ValueError(f"start_url {v!r} must be a path starting with '/' or an absolute http(s) URL")

    @field_validator("reference", "setup")
    @classmethod
    def _valid_actions(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if v is None:
            return v
        out = []
        for i, text in enumerate(v):
            try:
                out.append(format_action(parse_action(text)))
            except ActionError as exc:
                raise ValueError(f"{info.field_name} action #{i} {text!r}: {exc}") from None
        if info.field_name == "setup" and any(parse_action(a).name in ENDING_ACTIONS for a in out):
            raise ValueError(f"setup {v!r} ends the episode (answer or stop): setup only prepares the start")
        return out

    @property
    def is_external(self) -> bool:
        """True when `site` is an origin rather than a built-in site name."""
        return "://" in self.site


ENDING_ACTIONS = ("answer", "stop")
"""Actions that end an episode: a reference ending in one needs no stop() after it."""


def steps_needed(reference: list[str]) -> int:
    """Steps an episode needs to replay `reference` (before any scrolling): its actions, and a
    stop() after them unless the last one already ends the episode."""
    if not reference:
        return 1
    last = parse_action(reference[-1]).name
    return len(reference) + (0 if last in ENDING_ACTIONS else 1)
