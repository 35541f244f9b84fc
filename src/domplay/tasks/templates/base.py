"""Task templates: tasks with exact ground truth and a reference solution from a site's data.

A template draws a task from a built-in site's seeded data with a seeded RNG: the intent
(phrased several ways), the start URL, the checks (exact values computed from the data with
the same rule functions the site's pages use) and a *plan*: the reference solution as
semantic steps ("click the link named X", "fill the textbox labelled Y with Z"). The plan is
turned into concrete id-based actions by running it in an env (`materialize`), because
observation ids are only known once the page exists. Ids are the same in DomEnv and
BrowserEnv, so the materialized reference runs in both.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from domplay.sites.base import Site
from domplay.tasks.model import Difficulty
from domplay.verify.checks import Check

StepKind = Literal["click", "fill", "select", "press", "goto", "back", "answer", "stop"]


@dataclass(frozen=True)
class Step:
    """One semantic reference step: which element, found by role and name, and what to do.

    `name` matches the element's observation name exactly (after whitespace collapsing);
    `contains=True` matches a substring instead; `nth` picks among several matches (0 = first).
    """

    kind: StepKind
    role: str | None = None
    name: str | None = None
    value: str | None = None
    """Text for fill, option for select, key for press, URL for goto, text for answer."""
    nth: int = 0
    contains: bool = False

    # Shorthands that read like the plan they build.
    @staticmethod
    def click(name: str, role: str = "link", nth: int = 0, contains: bool = False) -> Step:
        return Step("click", role=role, name=name, nth=nth, contains=contains)

    @staticmethod
    def button(name: str, nth: int = 0) -> Step:
        return Step("click", role="button", name=name, nth=nth)

    @staticmethod
    def fill(name: str, text: str, nth: int = 0) -> Step:
        return Step("fill", role="textbox", name=name, value=text, nth=nth)

    @staticmethod
    def select(name: str, option: str, nth: int = 0) -> Step:
        return Step("select", role="combobox", name=name, value=option, nth=nth)

    @staticmethod
    def check(name: str, role: str = "checkbox", nth: int = 0) -> Step:
        return Step("click", role=role, name=name, nth=nth)

    @staticmethod
    def enter(name: str, nth: int = 0) -> Step:
        return Step("press", role="textbox", name=name, value="Enter", nth=nth)

    @staticmethod
    def goto(url: str) -> Step:
        return Step("goto", value=url)

    @staticmethod
    def answer(text: str) -> Step:
        return Step("answer", value=text)

    @staticmethod
    def stop() -> Step:
        return Step("stop")


@dataclass(frozen=True)
class Draft:
    """A task as a template drew it, before its plan is materialized into actions."""

    intent: str
    start_url: str
    checks: list[Check]
    plan: list[Step]
    params: dict[str, Any] = field(default_factory=dict)
    """The drawn parameters (product id, query, ...), recorded in the task's provenance."""


class Template(ABC):
    """A family of tasks on one built-in site.

    Subclasses set the class attributes and implement `draft`. `heldout_only` templates are
    never used for training tasks, so held-out success on them measures generalization to
    unseen task kinds rather than memorization.
    """

    name: ClassVar[str]
    site: ClassVar[str]
    difficulty: ClassVar[Difficulty]
    heldout_only: ClassVar[bool] = False
    needs_js: ClassVar[bool] = False

    @abstractmethod
    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        """Draw one task from `site.data` with `rng`; None when no valid task could be drawn."""

    @staticmethod
    def phrase(rng: random.Random, *variants: str, **values: Any) -> str:
        """One of several phrasings of an intent, filled with `values`."""
        return rng.choice(variants).format(**values)
