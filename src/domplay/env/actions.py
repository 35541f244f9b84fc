"""Actions are data: one frozen dataclass per primitive, and a strict parser.

Each primitive's docstring is its description in prompts (`describe_actions`), so the
text the model reads and the code that runs cannot drift apart. The parser reads one
call such as `click(12)` or `fill(7, "blue shirt")` with Python's `ast` (literals only,
never evaluated) and also accepts BrowserGym's names and bid strings:
`select_option("12", "Red")`, `go_back()`, `send_msg_to_user("42")`, `click("a12")`.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, fields
from typing import ClassVar, Union

from domplay.errors import ActionError


@dataclass(frozen=True)
class Click:
    """click(id): click an element (link, button, checkbox, radio)."""

    id: int
    name: ClassVar[str] = "click"


@dataclass(frozen=True)
class Fill:
    """fill(id, "text"): type text into a textbox, replacing its value."""

    id: int
    text: str
    name: ClassVar[str] = "fill"


@dataclass(frozen=True)
class Select:
    """select(id, "option"): choose an option of a combobox."""

    id: int
    option: str
    name: ClassVar[str] = "select"


@dataclass(frozen=True)
class Press:
    """press(id, "Enter"): press a key in an element (Enter submits its form)."""

    id: int
    key: str
    name: ClassVar[str] = "press"


@dataclass(frozen=True)
class Scroll:
    """scroll("down"): show more of a long page; scroll("up") goes back up."""

    direction: str
    name: ClassVar[str] = "scroll"


@dataclass(frozen=True)
class Goto:
    """goto("url"): open a URL."""

    url: str
    name: ClassVar[str] = "goto"


@dataclass(frozen=True)
class Back:
    """back(): go back to the previous page."""

    name: ClassVar[str] = "back"


@dataclass(frozen=True)
class Answer:
    """answer("text"): give the answer to the task and finish."""

    text: str
    name: ClassVar[str] = "answer"


@dataclass(frozen=True)
class Stop:
    """stop(): finish when the task is done (or impossible)."""

    name: ClassVar[str] = "stop"


Action = Union[Click, Fill, Select, Press, Scroll, Goto, Back, Answer, Stop]
ACTION_TYPES: tuple[type, ...] = (Click, Fill, Select, Press, Scroll, Goto, Back, Answer, Stop)
BY_NAME: dict[str, type] = {t.name: t for t in ACTION_TYPES}
ALIASES: dict[str, str] = {
    "select_option": "select",
    "go_back": "back",
    "send_msg_to_user": "answer",
    "goto_url": "goto",
    "type": "fill",
    "finish": "stop",
}
KEYS = frozenset({"Enter", "Tab", "Escape", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight",
                  "Backspace", "Delete", "Space", "Home", "End", "PageDown", "PageUp"})
TERMINAL: tuple[type, ...] = (Answer, Stop)


def describe_actions(types: tuple[type, ...] = ACTION_TYPES) -> str:
    """The action list for prompts: one line per primitive, from its docstring."""
    return "\n".join((t.__doc__ or t.name).strip().splitlines()[0] for t in types)


def format_action(action: Action) -> str:
    """The canonical string of `action`; `parse_action(format_action(a)) == a`."""
    args = [getattr(action, f.name) for f in fields(action)]
    return f"{action.name}({', '.join(json.dumps(a, ensure_ascii=False) if isinstance(a, str) else str(a) for a in args)})"


def parse_action(text: str) -> Action:
    """Parse exactly one action call; raise `ActionError` naming the problem and the fix."""
    src = text.strip()
    if not src:
        raise ActionError("empty action; write one call such as click(12)")
    try:
        node = ast.parse(src, mode="eval").body
    except SyntaxError:
        raise ActionError(f"cannot parse action {_short(src)}; write one call such as "
                          f'click(12) or fill(7, "text")') from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ActionError(f"action {_short(src)} is not a call; write one call such as click(12)")
    fname = ALIASES.get(node.func.id, node.func.id)
    cls = BY_NAME.get(fname)
    if cls is None:
        raise ActionError(f"unknown action {node.func.id!r}; known actions: {', '.join(BY_NAME)}")
    params = [f for f in fields(cls)]
    values = [_literal(a, src) for a in node.args]
    if node.func.id == "scroll" and len(values) == 2 and all(isinstance(v, (int, float)) for v in values):
        values = ["down" if values[1] > 0 or (values[1] == 0 and values[0] > 0) else "up"]  # BrowserGym's scroll(dx, dy)
    if any(k.arg is None for k in node.keywords):
        raise ActionError(f"**kwargs are not allowed in actions: {_short(src)}")
    kwargs = [(k.arg, _literal(k.value, src)) for k in node.keywords]
    if len(values) > len(params):
        raise ActionError(f"{fname}() takes {len(params)} argument(s), got {len(values)}: {_short(src)}")
    bound = dict(zip([p.name for p in params], values))
    for key, value in kwargs:
        key = {"bid": "id", "value": _value_name(cls), "options": "option", "key_comb": "key",
               "text": _value_name(cls)}.get(key, key)
        if key not in {p.name for p in params} or key in bound:
            raise ActionError(f"{fname}() got an unexpected or repeated argument {key!r}: {_short(src)}")
        bound[key] = value
    missing = [p.name for p in params if p.name not in bound]
    if missing:
        raise ActionError(f"{fname}() is missing {', '.join(missing)}; usage: {cls.__doc__.splitlines()[0]}")
    for p in params:
        bound[p.name] = _coerce(fname, p.name, bound[p.name])
    return cls(**bound)


def _value_name(cls: type) -> str:
    return {Fill: "text", Select: "option", Answer: "text", Press: "key"}.get(cls, "text")


def _literal(node: ast.expr, src: str) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise ActionError(f"arguments must be literal numbers or strings: {_short(src)}") from None


def _coerce(fname: str, pname: str, value: object) -> object:
    if pname == "id":
        if isinstance(value, bool):
            raise ActionError(f"{fname}(): the element id must be an integer, got {value!r}")
        if isinstance(value, str):  # BrowserGym bids are strings: "12" or "a12"
            digits = value.strip().lstrip("abcdefghijklmnopqrstuvwxyz")
            if not digits.isdigit():
                raise ActionError(f"{fname}(): element id {value!r} is not a number; use an id "
                                  f"shown in brackets, e.g. [12]")
            return int(digits)
        if isinstance(value, int):
            return value
        raise ActionError(f"{fname}(): the element id must be an integer, got {value!r}")
    if pname == "direction":
        if value not in ("up", "down"):
            raise ActionError(f'scroll(): direction must be "up" or "down", got {value!r}')
        return value
    if pname == "key":
        if not isinstance(value, str) or not (value in KEYS or len(value) == 1 or "+" in value):
            raise ActionError(f"press(): unknown key {value!r}; use one of {sorted(KEYS)} or one character")
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ActionError(f"{fname}(): {pname} must be a string, got {value!r}")
    return value


def _short(src: str, limit: int = 80) -> str:
    return repr(src if len(src) <= limit else src[: limit - 3] + "...")
