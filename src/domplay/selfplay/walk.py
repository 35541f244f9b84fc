"""Walks: a sequence of actions run in an env, with the snapshot after every step.

`RandomWalker` chooses actions without a model (links to pages not yet visited are
favoured, forms get values read on the page), so exploration works whatever the policy's
strength; `record_walk` runs any chooser, and `replay_walk` re-runs stored actions (a model's
episode) so each of its prefixes can be relabelled.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from domplay.env import actions as A
from domplay.env.base import WebEnv
from domplay.env.observation import Element, Observation
from domplay.errors import DomplayError
from domplay.selfplay.config import ExploreConfig
from domplay.verify.snapshot import Snapshot

Chooser = Callable[[Observation, "set[str]"], str]
"""(the page now, URLs visited so far) -> the next action, as a string."""

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


@dataclass(frozen=True)
class Walk:
    """Actions from `start_url` and the snapshot before the first (`snapshots[0]`) and after
    each one (`snapshots[i]` after `actions[i - 1]`); `errors[i - 1]` is that action's error."""

    start_url: str
    actions: tuple[str, ...]
    snapshots: tuple[Snapshot, ...]
    errors: tuple[str | None, ...]

    @property
    def pages(self) -> list[str]:
        return [s.url for s in self.snapshots]


def page_url(url: str) -> str:
    """A URL as exploration counts pages: without its fragment."""
    return urldefrag(url)[0]


def record_walk(env: WebEnv, start_url: str, choose: Chooser, steps: int, visited: set[str]) -> Walk:
    """Run `steps` actions chosen by `choose` from `start_url`; `visited` gains every page seen.
    The walk stops early when the env ends the episode or a page fails to load; a start page that
    cannot be opened raises the env's DomplayError."""
    obs, _ = env.reset(options={"start_url": start_url})
    snapshots = [env.snapshot()]
    visited.add(page_url(obs.url))
    actions: list[str] = []
    errors: list[str | None] = []
    for _ in range(steps):
        action = choose(obs, visited)
        try:
            obs, _, terminated, truncated, _ = env.step(action)
        except DomplayError:
            break  # a page that cannot be loaded ends the walk; what came before still counts
        actions.append(action)
        errors.append(obs.error)
        snapshots.append(env.snapshot())
        visited.add(page_url(obs.url))
        if terminated or truncated:
            break
    return Walk(start_url, tuple(actions), tuple(snapshots), tuple(errors))


def replay_walk(env: WebEnv, start_url: str, actions: Sequence[str]) -> Walk:
    """Re-run stored `actions` (e.g. a model's episode, without its final stop/answer) as a walk."""
    pending = list(actions)
    return record_walk(env, start_url, lambda obs, visited: pending.pop(0), len(pending), set())


class RandomWalker:
    """A chooser that acts at random on the page's interactive elements.

    Links to unvisited pages weigh `novelty_weight` times more than other actions; a text box
    gets a word read on the page or one of `fill_values`; a select gets one of its options;
    with `back_probability` it goes back. With `form_probability`, touching a form field fills
    the whole form (every field from the chosen one to the next button) and then presses that
    button, so walks also reach what forms do (a search, a cart line, a reply)."""

    def __init__(self, config: ExploreConfig, rng: random.Random, resolve_url: Callable[[str], str]):
        self.config = config
        self.rng = rng
        self.resolve_url = resolve_url
        self._queue: list[str] = []
        self._queued_on: str | None = None

    def __call__(self, obs: Observation, visited: set[str]) -> str:
        c = self.config
        if self._queue and self._queued_on == obs.url and obs.error is None:
            return self._queue.pop(0)
        self._queue = []
        usable = [e for e in obs.elements if e.interactive and not e.disabled and not e.readonly]
        if not usable or self.rng.random() < c.back_probability:
            return A.format_action(A.Back())
        weights = [self._weight(e, visited) for e in usable]
        el = self.rng.choices(usable, weights=weights)[0]
        if el.role in FIELD_ROLES and self.rng.random() < c.form_probability:
            form = self._form_from(el, usable, obs)
            if len(form) > 1:
                self._queue, self._queued_on = form[1:], obs.url
                return form[0]
        return A.format_action(self._act(el, obs))

    def _form_from(self, first: Element, usable: list[Element], obs: Observation) -> list[str]:
        """Actions filling every field from `first` to the next button, then clicking it; a form
        with a password field gets an account's login (`login_probability`) where one is known."""
        fields: list[Element] = []
        for e in usable:
            if e.id < first.id:
                continue
            if e.role == "button":
                login = self._login(fields, usable, obs)
                before = [f for f in usable if f.id in login and f not in fields]  # a username box above `first`
                out = [A.format_action(login.get(f.id) or self._act(f, obs)) for f in (*before, *fields)]
                return [*out, A.format_action(A.Click(e.id))]
            if e.role in FIELD_ROLES:
                fields.append(e)
        return []  # no button after the fields: not a form to submit

    def _login(self, fields: list[Element], usable: list[Element], obs: Observation) -> dict[int, A.Action]:
        """Fills of a login form (the text box before the first password field gets the
        username, every password field the password), or none."""
        secret = [f for f in fields if f.role == "textbox" and f.input_type == "password"]
        accounts = [a for a in self.config.accounts if _applies(a.url_prefix, obs.url)]
        if not secret or not accounts or self.rng.random() >= self.config.login_probability:
            return {}
        account = self.rng.choice(accounts)
        fills: dict[int, A.Action] = {f.id: A.Fill(f.id, account.password) for f in secret}
        names = [f for f in usable if f.role == "textbox" and f.input_type != "password" and f.id < secret[0].id]
        if names:
            fills[names[-1].id] = A.Fill(names[-1].id, account.username)
        return fills

    def _weight(self, el: Element, visited: set[str]) -> float:
        if el.role == "link" and el.href:
            fresh = page_url(self.resolve_url(el.href)) not in visited
            return self.config.novelty_weight if fresh else 1.0
        return 1.0

    def _act(self, el: Element, obs: Observation) -> A.Action:
        if el.role == "textbox":
            if el.input_type == "number":
                return A.Fill(el.id, self.rng.choice([v for v in self.config.fill_values if v.isdigit()] or ["1"]))
            words = sorted({w for e in obs.elements for w in _WORD.findall(e.name)})
            pool = list(self.config.fill_values) + words
            return A.Fill(el.id, self.rng.choice(pool))
        if el.role in ("combobox", "listbox") and el.options:
            return A.Select(el.id, self.rng.choice(el.options))
        return A.Click(el.id)


FIELD_ROLES = frozenset({"textbox", "combobox", "listbox"})


def _applies(prefix: str, url: str) -> bool:
    """Whether an account's `url_prefix` (a path or a whole URL) covers `url`."""
    if "://" in prefix:
        return url.startswith(prefix)
    path = urlsplit(url).path or "/"
    return path.startswith(prefix) or path + "/" == prefix
