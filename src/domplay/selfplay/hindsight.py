"""Hindsight goals: the goal an episode *did* achieve, as a task with checks.

A relabeller looks at a walk's snapshot after step `i` and says which goals that prefix
achieved (`Goal`: intent, checks, and the answer to append when the goal asks a question).
Nothing here trusts a model's word or reads a template's reference; `replay.verified_path`
then keeps a goal only if its path replays.

- `TemplateRelabeller` — built-in sites. Each template family recognises its own goals: the
  family's goals are drawn from the site's data (train seeds, train templates only) and a goal
  is achieved when its checks pass on the snapshot — with the expected answer appended when
  that answer is shown on the page reached. The intent is phrased as that family's tasks are.
- `DomRelabeller` — any site, from the DOM alone: the page reached (its URL) and a labelled
  value read on it (`Price: $19.95`, a table row, a definition list), as a question.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from domplay.errors import DomplayError
from domplay.selfplay.config import HindsightConfig
from domplay.sites.app import SitesApp
from domplay.tasks.model import Difficulty
from domplay.tasks.propose import task_seed
from domplay.tasks.templates.base import Template
from domplay.verify.base import CheckContext, CheckResult
from domplay.verify.checks import Check
from domplay.verify.snapshot import Snapshot
from domplay.verify.textmatch import alternatives, collapse
from domplay.verify.value_checks import AnswerCheck, UrlCheck
from domplay.verify.verdict import combine


@dataclass(frozen=True)
class Goal:
    """A goal a prefix of a walk achieved."""

    intent: str
    checks: tuple[Check, ...]
    family: str
    """The goal family: a template's name, or `dom.page` / `dom.value`."""
    relabeller: str
    answer: str | None = None
    """The answer to append to the prefix's actions (the goal asks a question)."""
    difficulty: Difficulty | None = None
    params: dict[str, Any] = field(default_factory=dict)


class Relabeller(Protocol):
    name: str

    def goals(self, start: Snapshot, now: Snapshot, start_url: str | None = None) -> list[Goal]:
        """Goals achieved by going from the page `start` shows to the state `now` holds (`now`
        is `start` for what the start page alone answers). `start_url` is where the walk was
        started, when a redirect (a login page) moved `start` elsewhere."""
        ...


def url_path(url: str) -> str:
    """Path and query of a URL (how start URLs and URL checks compare), without a trailing slash."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def page_text(snapshot: Snapshot) -> str:
    """The page's visible text, whitespace-collapsed."""
    body = LexborHTMLParser(snapshot.html).body
    return collapse(body.text(separator=" ")) if body is not None else ""


def passes(checks: Sequence[Check], snapshot: Snapshot, ctx: CheckContext | None = None) -> bool:
    """Whether `checks` pass on `snapshot` (a check that errors counts as failing); `ctx` shares
    parsed pages between calls on the same snapshot."""
    ctx = ctx or CheckContext(snapshot)
    results: list[CheckResult] = []
    for check in checks:
        try:
            results.append(check.evaluate(snapshot, ctx))
        except DomplayError:
            return False
    verdict = combine(list(checks), results)
    return verdict.success and verdict.error is None


class TemplateRelabeller:
    """Goals of the built-in sites' training templates, recognised in a snapshot by their checks."""

    name = "template"

    def __init__(self, sites: SitesApp, templates: Sequence[Template], config: HindsightConfig, seed: int):
        self.sites = sites
        self.config = config
        self._by_start: dict[str, list[tuple[Template, Any]]] = defaultdict(list)
        seen: set[tuple[str, str]] = set()
        usable = [t for t in templates if not t.heldout_only and not t.needs_js and t.site in sites.sites]
        for n, template in enumerate(usable):
            site = sites.sites[template.site]
            for k in range(config.drafts_per_template):
                # proposer seed `seed * 1000` (round 0) is never a round's training seed
                rng = random.Random(task_seed("train", seed * 1000, n * config.drafts_per_template + k))
                try:
                    draft = template.draft(site, rng)
                except DomplayError:
                    continue
                if draft is None or (template.name, draft.intent) in seen:
                    continue
                seen.add((template.name, draft.intent))
                self._by_start[url_path(draft.start_url)].append((template, draft))

    @property
    def families(self) -> int:
        return len({t.name for drafts in self._by_start.values() for t, _ in drafts})

    def start_urls(self) -> list[str]:
        """Where this relabeller's goals start (exploration starts walks there)."""
        return sorted(self._by_start)

    def goals(self, start: Snapshot, now: Snapshot, start_url: str | None = None) -> list[Goal]:
        keys = dict.fromkeys(url_path(u) for u in (start_url, start.url) if u is not None)
        candidates = [c for key in keys for c in self._by_start.get(key, [])]
        if not candidates:
            return []
        zero = now is start  # the start page alone: only what a question reads on it
        now_heading = _heading(LexborHTMLParser(now.html))  # a number is read on a page its intent names
        start_heading = _heading(LexborHTMLParser(start.html))
        ctx = CheckContext(now)
        text: str | None = None
        start_text: str | None = None
        out = []
        for template, draft in candidates:
            answers = [c for c in draft.checks if isinstance(c, AnswerCheck)]
            others = [c for c in draft.checks if not isinstance(c, AnswerCheck)]
            if len(answers) > 1 or (zero and (others or not answers)) or (others and not passes(others, now, ctx)):
                continue
            answer = None
            if answers:
                text = page_text(now) if text is None else text
                shown = [a for a in alternatives(answers[0].expected) if a in text]
                if zero:  # read on the start page: a page about what the intent names
                    shown = [a for a in shown if _whole_token(a, text) and _names(now_heading, draft.intent)]
                elif not others:  # nothing but the answer: it must be read on a page the walk reached
                    start_text = page_text(start) if start_text is None else start_text
                    worded = [a for a in shown if self._readable(a) and _has_letters(a) and a not in start_text]
                    # a number is read only on a page about what the intent names (its heading)
                    about = _names(now_heading, draft.intent) and not _names(start_heading, draft.intent)
                    shown = worded or [a for a in shown if about and _whole_token(a, text)]
                else:
                    shown = [a for a in shown if self._readable(a)]
                if not shown:
                    continue
                answer = shown[0]
                with_answer = now.model_copy(update={"answer": answer})
                if not passes(draft.checks, with_answer):
                    continue
            elif not others:
                continue
            out.append(
                Goal(
                    intent=draft.intent,
                    checks=tuple(draft.checks),
                    family=template.name,
                    relabeller=self.name,
                    answer=answer,
                    difficulty=template.difficulty,
                    params=dict(draft.params),
                )
            )
        return out

    def _readable(self, value: str) -> bool:
        return len(value) >= self.config.min_answer_chars


def _has_letters(value: str) -> bool:
    return any(ch.isalpha() for ch in value)


def _whole_token(value: str, text: str) -> bool:
    """`value` occurs in `text` not as part of a longer number or word (3 is not in 31 or x3)."""
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w]|\.\d)", text) is not None


def _names(heading: str, intent: str) -> bool:
    """Whether a page with `heading` is about what `intent` names: the heading (3+ characters)
    is in the intent."""
    return len(heading) >= 3 and heading.casefold() in intent.casefold()


_LABELLED = re.compile(r"^([A-Z][a-z]+(?: [A-Za-z]+){0,2}):\s+(\S.{0,60})$")


class DomRelabeller:
    """Goals any site supports, from the DOM alone: reach a page, read a labelled value on it."""

    name = "dom"

    def __init__(self, config: HindsightConfig):
        self.config = config

    def goals(self, start: Snapshot, now: Snapshot, start_url: str | None = None) -> list[Goal]:
        path = url_path(now.url)
        if path == url_path(start.url):
            return []
        tree = LexborHTMLParser(now.html)
        title = _heading(tree) or now.title
        if not title:
            return []
        url = UrlCheck(expected=path)
        out = [
            Goal(
                intent=f'Go to the page "{title}".',
                checks=(url,),
                family="dom.page",
                relabeller=self.name,
                params={"url": path},
            )
        ]
        start_text = page_text(start)
        for label, value in labelled_values(tree):
            if len(value) < self.config.min_answer_chars or value in start_text:
                continue
            out.append(
                Goal(
                    intent=f'Open the page "{title}" and tell me its {label.lower()}.',
                    checks=(url, AnswerCheck(expected=value)),
                    family="dom.value",
                    relabeller=self.name,
                    answer=value,
                    params={"url": path, "label": label},
                )
            )
        return out


def _heading(tree: LexborHTMLParser) -> str:
    node = tree.css_first("h1")
    return collapse(node.text()) if node is not None else ""


def labelled_values(tree: LexborHTMLParser) -> list[tuple[str, str]]:
    """(label, value) pairs a page shows: `Label: value` text, `<dt>/<dd>`, two-cell table rows
    with a header cell; a label that appears twice on the page is ambiguous and left out."""
    pairs: list[tuple[str, str]] = []
    body = tree.body
    if body is None:
        return pairs
    for node in body.css("p, li, div, span, dd, td"):
        if len(node.css("p, li, div")) > (1 if node.tag in ("p", "li", "div") else 0):
            continue  # only leaf blocks (css() matches the node itself): a container repeats its children's text
        m = _LABELLED.match(collapse(node.text()))
        if m:
            pairs.append((m.group(1).strip(), m.group(2).strip()))
    for dt in body.css("dt"):
        dd = dt.next
        while dd is not None and dd.tag != "dd":
            dd = dd.next
        if dd is not None:
            pairs.append((collapse(dt.text()).rstrip(":"), collapse(dd.text())))
    for row in body.css("tr"):
        cells = [c for c in row.iter() if c.tag in ("th", "td")]
        if len(cells) == 2 and cells[0].tag == "th":
            pairs.append((collapse(cells[0].text()).rstrip(":"), collapse(cells[1].text())))
    counts: dict[str, int] = defaultdict(int)
    for label, _ in pairs:
        counts[label] += 1
    unique, seen = [], set()
    for label, value in pairs:
        if counts[label] == 1 and label and value and (label, value) not in seen:
            seen.add((label, value))
            unique.append((label, value))
    return unique
