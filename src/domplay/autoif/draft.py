"""What the model is asked to write for a page, and how its replies are read.

A *draft* is a task the model wrote: an intent, the code of `def check(snapshot)` and test
paths (actions from the page) that must pass or must fail. Replies are read leniently (a fenced
code block or the text after `CHECK:`) but never evaluated here: an unreadable reply is a reason
string, counted as a rejected proposal by the caller, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from domplay.env import actions as A
from domplay.errors import ActionError
from domplay.llm.base import Message

SNAPSHOT_HELP = (
    "`check(snapshot)` receives the episode's final state as a dict: snapshot['url'] (the final URL, absolute), "
    "snapshot['html'] (the final page's HTML, form fields with their live values), snapshot['title'], "
    "snapshot['answer'] (the text the agent gave with answer(...), or None), snapshot['actions'] (a list of "
    "{'action', 'url'}) and snapshot['state'] (the sites' backend data, by site). Without importing anything "
    "it may call query(html, css), which returns the matching elements as {'tag', 'text', 'attrs'} dicts. "
    "It may import only re, json, math, string, collections, itertools, urllib.parse. It returns True or False, "
    'a score in [0, 1], or (score, "reason").'
)

DRAFT_SYSTEM = (
    "You write tasks for a web agent, each with the Python code that verifies it and test cases for that code.\n"
    + SNAPSHOT_HELP
    + "\nThe agent acts with these actions:\n{actions}\n"
    "Reply in exactly this format:\n"
    "INTENT: <one sentence: what the agent must do or find, starting from the page shown>\n"
    "CHECK:\n```python\ndef check(snapshot):\n    ...\n```\n"
    "PASS: <actions from the page that complete the task, separated by ;>\n"
    "FAIL: <actions from the page that do not complete it, separated by ;>\n"
    "Write one or more PASS and FAIL lines. An empty FAIL line means doing nothing."
)
CHECK_SYSTEM = (
    "You write the Python code that verifies whether a web agent completed a task.\n"
    + SNAPSHOT_HELP
    + "\nReply with only the code, in one ```python block that defines check(snapshot)."
)
BACKTRANSLATE_SYSTEM = (
    "Here is Python code that verifies whether a web agent completed a task. " + SNAPSHOT_HELP + "\n"
    "Write the task the agent was given, as one sentence addressed to the agent. Reply: INTENT: <the task>"
)
JUDGE_SYSTEM = (
    "Two descriptions of a task on a web site are given. Do they ask for the same outcome (the same item, "
    "values, page or answer)? Reply with SCORE: N, where N goes from 0 (different tasks) to 10 (the same task)."
)

_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^\s*(INTENT|CHECK|PASS|FAIL)\s*:\s?(.*)$", re.IGNORECASE)
_SCORE = re.compile(r"\bscore\b\W{0,4}(\d{1,2}(?:\.\d+)?)\s*(?:/\s*10)?", re.IGNORECASE)
NO_ACTIONS = frozenset({"", "none", "nothing", "(none)", "(nothing)", "-"})
"""What an empty test path may be written as: do nothing, stay on the page."""


@dataclass(frozen=True)
class PageView:
    """A page as the model sees it: where it is, which site, its text and the backend state's shape."""

    start_url: str
    site: str
    text: str
    state: str
    """`describe_state` of the page's snapshot: which data a check can read."""


@dataclass(frozen=True)
class Draft:
    """A task the model wrote for a page: intent, check code, paths that must pass and must fail."""

    intent: str
    code: str
    pass_paths: tuple[tuple[str, ...], ...]
    fail_paths: tuple[tuple[str, ...], ...]


def describe_state(state: dict[str, Any], max_chars: int = 600) -> str:
    """The backend state's keys as a check reads them: `state['shop']['cart']: list of 0`, ..."""
    lines = []
    for site, data in sorted(state.items()):
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            if isinstance(value, list):
                sample = value[0] if value else None
                keys = f", each with keys {sorted(sample)[:12]}" if isinstance(sample, dict) else ""
                lines.append(f"snapshot['state'][{site!r}][{key!r}]: list of {len(value)}{keys}")
            else:
                lines.append(f"snapshot['state'][{site!r}][{key!r}]: {json.dumps(value)[:60]}")
    return "\n".join(lines)[:max_chars] or "(no backend state)"


def draft_prompt(page: PageView, intent: str | None, page_chars: int) -> list[Message]:
    """Ask for a task on `page` (the model chooses the intent, or writes check and tests for `intent`)."""
    ask = f"Task to verify: {intent}\nStart your reply with INTENT: {intent}" if intent else "Write one new task."
    user = (
        f"Start page: {page.start_url} (site {page.site})\n{page.text[:page_chars]}\n\n"
        f"Backend data a check can read:\n{page.state}\n\n{ask}"
    )
    system = DRAFT_SYSTEM.replace("{actions}", A.describe_actions(form="name", help="brief"))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def check_prompt(page: PageView, intent: str, page_chars: int) -> list[Message]:
    """Ask for an independent check of `intent` (cross-validation): the draft's code is not shown."""
    user = (
        f"Start page: {page.start_url} (site {page.site})\n{page.text[:page_chars]}\n\n"
        f"Backend data a check can read:\n{page.state}\n\nTask: {intent}\nCode:"
    )
    return [{"role": "system", "content": CHECK_SYSTEM}, {"role": "user", "content": user}]


def backtranslate_prompt(site: str, code: str) -> list[Message]:
    """Ask for the intent that `code` verifies, from the code alone (and the site's name)."""
    user = f"Site: {site}\n```python\n{code}\n```"
    return [{"role": "system", "content": BACKTRANSLATE_SYSTEM}, {"role": "user", "content": user}]


def judge_prompt(original: str, backtranslated: str) -> list[Message]:
    user = f"Description A: {original}\nDescription B: {backtranslated}"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


# -- reading replies --------------------------------------------------------------------------
def read_code(text: str) -> str | None:
    """The code of a reply: the first fenced block that defines check(), else the text from
    `def check` up to the next label; None when there is none."""
    for block in _FENCE.findall(text):
        if "def check" in block:
            return block.strip("\n")
    start = text.find("def check")
    if start < 0:
        return None
    lines = []
    for line in text[start:].splitlines():
        if _LABEL.match(line) or line.strip().startswith("```"):
            break
        lines.append(line)
    return "\n".join(lines).rstrip() or None


def split_actions(text: str) -> list[str]:
    """`text` split on `;` outside string literals."""
    parts, current, quote, escaped = [], [], "", False
    for ch in text:
        if quote:
            current.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            current.append(ch)
        elif ch == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def read_path(text: str, max_actions: int) -> tuple[str, ...] | str:
    """A test path (canonical action strings), or why it cannot be read."""
    text = text.strip().strip("`").strip()
    if text.lower() in NO_ACTIONS:
        return ()
    out = []
    for part in split_actions(text):
        try:
            out.append(A.format_action(A.parse_action(part)))
        except ActionError as exc:
            return f"test action {part[:60]!r} does not parse: {exc}"
    if len(out) > max_actions:
        return f"a test path has {len(out)} actions (at most {max_actions})"
    return tuple(out)


def read_intent(text: str) -> str | None:
    """The `INTENT:` line of a reply, else its first line of prose; None when empty."""
    for line in text.splitlines():
        m = _LABEL.match(line)
        if m is not None and m.group(1).upper() == "INTENT":
            return " ".join(m.group(2).split()) or None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("```")]
    return " ".join(lines[0].split()) if lines else None


def read_draft(text: str, max_paths: int, max_actions: int, intent: str | None = None) -> Draft | str:
    """The draft in a reply (with `intent` given, the reply's own intent line is ignored), or why
    it cannot be read."""
    written = None
    paths: dict[str, list[tuple[str, ...]]] = {"PASS": [], "FAIL": []}
    for line in text.splitlines():
        m = _LABEL.match(line)
        if m is None:
            continue
        label, rest = m.group(1).upper(), m.group(2)
        if label == "INTENT" and written is None:
            written = " ".join(rest.split())
        elif label in paths and len(paths[label]) < max_paths:
            path = read_path(rest, max_actions)
            if isinstance(path, str):
                return path
            paths[label].append(path)
    intent = intent or written
    if not intent:
        return "no INTENT: line"
    code = read_code(text)
    if code is None:
        return "no check code (def check(snapshot))"
    if not paths["PASS"]:
        return "no PASS: test path"
    return Draft(intent, code, tuple(paths["PASS"]), tuple(paths["FAIL"]))


def read_score(text: str) -> float | None:
    """A judge's `SCORE: N` (0-10) as a share in [0, 1]; None when it gave none."""
    m = _SCORE.search(text)
    if m is None:
        return None
    value = float(m.group(1))
    return value / 10.0 if 0.0 <= value <= 10.0 else None
