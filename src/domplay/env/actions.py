"""Actions are data: one frozen dataclass per primitive, and a strict parser.

Each primitive's docstring is its description in prompts (`describe_actions`), so the
text the model reads and the code that runs cannot drift apart; each field says what kind
of argument it is (`params`), from which the constrained decoder derives its grammar.

An element action names its element in one of two forms (`ActionForm`):

- by name, as the page shows it: `click("Add to cart")`, `fill("Username", "vera")`,
  `select("Colour", "Purple")`; where several elements share the name, an ordinal right
  after it says which, counting from 1 down the page: `click("Edit", 2)`;
- by observation id: `click(12)`, `fill(7, "blue shirt")`.

The parser reads one call with Python's `ast` (literals only, never evaluated) and also
accepts BrowserGym's names and bid strings: `select_option("12", "Red")`, `go_back()`,
`send_msg_to_user("42")`, `click("a12")`. A string target is kept as written; the env
decides against the current page whether it is a name or a bid (`domplay.env.targets`).
"""

from __future__ import annotations

import ast
import functools
import json
import warnings
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Literal, cast, get_args

from domplay.errors import ActionError, ConfigError

Target = int | str
"""An element, by its observation id (`12`) or by its name as the page shows it (`"Add to cart"`)."""
ActionForm = Literal["name", "id"]
"""How actions name elements: by name (`click("Log in")`) or by observation id (`click(12)`)."""
FORMS: tuple[str, ...] = get_args(ActionForm)
DEFAULT_ACTION_FORM: ActionForm = "name"
"""The form prompts teach unless a config says otherwise (`PolicyConfig.action_form`)."""

# What each field of an action is, for the parser and for other views of the grammar (the
# constrained decoder derives its grammar from these): an element target, its ordinal among
# same-named elements (written right after the target), free text, or one of a closed set.
ARG = "arg"
TARGET, NTH, FREE, OPTION, KEY, DIRECTION = "target", "nth", "free", "option", "key", "direction"
MILLISECONDS = "ms"


@dataclass(frozen=True)
class Click:
    """click({target}): click an element (link, button, checkbox, radio)."""

    target: Target = field(metadata={ARG: TARGET})
    nth: int | None = field(default=None, metadata={ARG: NTH})
    name: ClassVar[str] = "click"


@dataclass(frozen=True)
class Fill:
    """fill({target}, "text"): type text into a textbox, replacing its value."""

    target: Target = field(metadata={ARG: TARGET})
    text: str = field(metadata={ARG: FREE})
    nth: int | None = field(default=None, metadata={ARG: NTH})
    name: ClassVar[str] = "fill"


@dataclass(frozen=True)
class Select:
    """select({target}, "option"): choose an option of a select."""

    target: Target = field(metadata={ARG: TARGET})
    option: str = field(metadata={ARG: OPTION})
    nth: int | None = field(default=None, metadata={ARG: NTH})
    name: ClassVar[str] = "select"


@dataclass(frozen=True)
class Press:
    """press({target}, "Enter"): press a key in an element (Enter submits its form)."""

    target: Target = field(metadata={ARG: TARGET})
    key: str = field(metadata={ARG: KEY})
    nth: int | None = field(default=None, metadata={ARG: NTH})
    name: ClassVar[str] = "press"


@dataclass(frozen=True)
class Scroll:
    """scroll("down"): show more of a long page; scroll("up") goes back up."""

    direction: str = field(metadata={ARG: DIRECTION})
    name: ClassVar[str] = "scroll"


@dataclass(frozen=True)
class Goto:
    """goto("url"): open a URL."""

    url: str = field(metadata={ARG: FREE})
    name: ClassVar[str] = "goto"


@dataclass(frozen=True)
class Back:
    """back(): go back to the previous page."""

    name: ClassVar[str] = "back"


@dataclass(frozen=True)
class Answer:
    """answer("text"): give the answer to the task and finish."""

    text: str = field(metadata={ARG: FREE})
    name: ClassVar[str] = "answer"


@dataclass(frozen=True)
class Stop:
    """stop(): finish when the task is done (or impossible)."""

    name: ClassVar[str] = "stop"


@dataclass(frozen=True)
class Noop:
    """noop(): do nothing this step (BrowserGym's; with wait_ms the browser waits that long first)."""

    wait_ms: int | None = field(default=None, metadata={ARG: MILLISECONDS})
    name: ClassVar[str] = "noop"


@dataclass(frozen=True)
class KeyboardPress:
    """keyboard_press("Enter"): press a key on whatever has the focus (BrowserGym's)."""

    key: str = field(metadata={ARG: KEY})
    name: ClassVar[str] = "keyboard_press"


Action = Click | Fill | Select | Press | Scroll | Goto | Back | Answer | Stop | Noop | KeyboardPress
BROWSERGYM_ONLY: tuple[type[Action], ...] = (Noop, KeyboardPress)
"""Actions parsed so BrowserGym prompts and logs replay, but not taught in domplay's prompts (nor
offered by its constrained decoder): domplay's own actions do their work."""
ACTION_TYPES: tuple[type[Action], ...] = (Click, Fill, Select, Press, Scroll, Goto, Back, Answer, Stop)
ELEMENT_ACTIONS = (Click, Fill, Select, Press)
"""The actions that act on an element (they have a `target`)."""
ElementAction = Click | Fill | Select | Press
BY_NAME: dict[str, type[Action]] = {t.name: t for t in ACTION_TYPES}
ALIASES: dict[str, str] = {
    "select_option": "select",
    "go_back": "back",
    "send_msg_to_user": "answer",
    "goto_url": "goto",
    "type": "fill",
    "finish": "stop",
    "report_infeasible": "stop",
}
PARSED: dict[str, type[Action]] = BY_NAME | {t.name: t for t in BROWSERGYM_ONLY}
"""Every action the parser reads (by canonical name)."""
IGNORED_KEYWORDS: dict[str, dict[str, object]] = {
    "click": {"button": "left", "modifiers": []},
    "stop": {"reason": None, "text": None},
}
"""BrowserGym keyword arguments accepted at their only supported value (None: any value, dropped):
a left click with no modifier keys; report_infeasible's reason (kept in the step's completion)."""
KEYS = frozenset(
    {
        "Enter",
        "Tab",
        "Escape",
        "ArrowDown",
        "ArrowUp",
        "ArrowLeft",
        "ArrowRight",
        "Backspace",
        "Delete",
        "Space",
        "Home",
        "End",
        "PageDown",
        "PageUp",
    }
)
SCROLL_DIRECTIONS: tuple[str, ...] = ("up", "down")
TERMINAL: tuple[type, ...] = (Answer, Stop)
TARGET_HELP: dict[str, str] = {
    "name": (
        'Name an element by its text in quotes, exactly as the page shows it: click("Add to cart"). '
        "Where several elements share that name, add which one, counting from 1 down the page: "
        'click("Edit", 2).'
    ),
    "id": "Name an element by the id in brackets before it: click(12).",
}
"""How a prompt tells the model to name elements, per action form."""
TARGET_HELP_BRIEF: dict[str, str] = {
    "name": 'Name elements as shown: "Edit", 2 is click("Edit", 2).',
    "id": "Name elements by their [id].",
}
"""`TARGET_HELP` for the brief action list."""
ActionHelp = Literal["full", "brief"]
DEFAULT_ACTION_HELP: ActionHelp = "brief"
"""The action list prompts give unless a config says otherwise (`PolicyConfig.action_help`)."""
"""full: one line per action, its docstring; brief: the calls alone on one line (a fine-tuned model
has learnt what they do, and every step's prompt pays for the list)."""
_TARGET_USAGE = {"name": '"name"', "id": "id"}
_KEYWORDS = {"bid": "target", "id": "target", "key_comb": "key", "options": "option"}
"""Keyword spellings the parser accepts (BrowserGym's, and domplay's older `id=`)."""


@dataclass(frozen=True)
class Param:
    """One argument of an action as written: its field name, kind (TARGET, NTH, FREE, ...) and
    whether it may be left out."""

    name: str
    kind: str
    optional: bool


@functools.cache
def params(cls: type) -> tuple[Param, ...]:
    """The arguments of action `cls` in written order; an ordinal (NTH) follows its target."""
    out = [Param(f.name, f.metadata[ARG], f.default is not MISSING) for f in fields(cls)]
    nth = [p for p in out if p.kind == NTH]
    rest = [p for p in out if p.kind != NTH]
    return tuple(rest[:1] + nth + rest[1:]) if nth else tuple(out)


def describe_actions(
    types: tuple[type[Action], ...] = ACTION_TYPES,
    form: str = DEFAULT_ACTION_FORM,
    help: ActionHelp = DEFAULT_ACTION_HELP,
) -> str:
    """The action list for prompts from the primitives' docstrings, in action form `form`, then how
    to name an element: one line per primitive (`help="full"`), or only the calls (`"brief"`)."""
    if form not in FORMS:
        raise ConfigError(f"action form {form!r} is unknown; use one of {FORMS}")
    lines = [(t.__doc__ or t.name).strip().splitlines()[0].format(target=_TARGET_USAGE[form]) for t in types]
    elements = any(t in ELEMENT_ACTIONS for t in types)
    if help == "brief":
        calls = ", ".join(line.split("): ", 1)[0] + ")" for line in lines)
        return calls + ("\n" + TARGET_HELP_BRIEF[form] if elements else "")
    if elements:
        lines.append(TARGET_HELP[form])
    return "\n".join(lines)


def format_target(target: Target, nth: int | None = None) -> str:
    """How a target is written: `12`, `"Log in"`, or `"Edit", 2` (the 2nd element named "Edit")."""
    text = _literal_text(target)
    return text if nth is None else f"{text}, {nth}"


def format_action(action: Action) -> str:
    """The canonical string of `action`; `parse_action(format_action(a)) == a`."""
    args = []
    cls: type = type(action)  # plain `type`: mypy does not see that a dataclass's class object is hashable
    for p in params(cls):
        value = getattr(action, p.name)
        if not (p.optional and value is None):
            args.append(_literal_text(value))
    return f"{action.name}({', '.join(args)})"


def _literal_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def parse_action(text: str) -> Action:
    """Parse exactly one action call; raise `ActionError` naming the problem and the fix.

    Positional arguments follow `params`; an ordinal may be left out, so it is read only
    when there is one argument more than the required ones (`click("Edit", 2)`,
    `fill("Name", 2, "Ada")`), or given as `nth=2`. A string target stays a string: whether
    it is a name or a BrowserGym bid ("12", "a12") is decided against the page
    (`domplay.env.targets.resolve`).
    """
    src = text.strip()
    if not src:
        raise ActionError("empty action; write one call such as click(12)")
    check_text(src)
    try:
        with warnings.catch_warnings():  # model text such as "a\S" is not the program's to warn about
            warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
            node = ast.parse(src, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # ValueError: a null byte; RecursionError and MemoryError: CPython's parser on deeply nested
        # or very long expressions (`1+1+...`, `not not ...`); none of them is a call we could run.
        raise ActionError(
            f'cannot parse action {_short(src)}; write one call such as click("Log in") or fill(7, "text")'
        ) from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ActionError(f"action {_short(src)} is not a call; write one call such as click(12)")
    fname = ALIASES.get(node.func.id, node.func.id)
    cls = PARSED.get(fname)
    if cls is None:
        raise ActionError(f"unknown action {node.func.id!r}; known actions: {', '.join(BY_NAME)}")
    values = [_literal(a, src) for a in node.args]
    if any(k.arg is None for k in node.keywords):
        raise ActionError(f"**kwargs are not allowed in actions: {_short(src)}")
    kwargs = [(k.arg, _literal(k.value, src)) for k in node.keywords if k.arg is not None]  # None: raised above
    kwargs = _drop_ignored(fname, kwargs, src)
    if node.func.id == "report_infeasible":  # its reason is for the user, not the env
        values = []
    if node.func.id == "scroll":  # BrowserGym's scroll(delta_x, delta_y)
        deltas = dict(kwargs)
        if len(values) == 2 or {"delta_x", "delta_y"} & set(deltas):
            dx, dy = (values + [None, None])[:2] if values else (deltas.get("delta_x", 0), deltas.get("delta_y", 0))
            if isinstance(dx, (int, float)) and isinstance(dy, (int, float)):
                values, kwargs = ["down" if dy > 0 or (dy == 0 and dx > 0) else "up"], []
    signature = params(cast(type, cls))  # see format_action
    required = [p for p in signature if not p.optional]
    positional = signature if len(values) > len(required) else required
    if len(values) > len(signature):
        raise ActionError(f"{fname}() takes at most {len(signature)} argument(s), got {len(values)}: {_short(src)}")
    bound = {p.name: v for p, v in zip(positional, values, strict=False)}  # optional parameters may be left out
    names = {p.name for p in signature}
    for key, value in kwargs:
        key = _KEYWORDS.get(key, key)
        if key in ("value", "text") and key not in names:  # BrowserGym's fill(bid, value=...)
            key = next((p.name for p in signature if p.kind in (FREE, OPTION, KEY)), key)
        if key not in names or key in bound:
            raise ActionError(f"{fname}() got an unexpected or repeated argument {key!r}: {_short(src)}")
        bound[key] = value
    missing = [p.name for p in required if p.name not in bound]
    if missing:
        raise ActionError(f"{fname}() is missing {', '.join(missing)}; usage: {_usage(cls)}")
    coerced: dict[str, Any] = {
        p.name: _coerce(fname, p.kind, p.name, bound[p.name]) for p in signature if p.name in bound
    }
    if coerced.get("nth") is not None and isinstance(coerced["target"], int):
        raise ActionError(
            f'{fname}(): an ordinal goes with a name ("Edit", 2), not with an id: '
            f"[{coerced['target']}] names one element already"
        )
    return cls(**coerced)


def check_text(text: str) -> None:
    """Raise ActionError when `text` cannot be stored or sent: lone surrogates (a backend decoding
    JSON escapes such as "\\ud800" can return them) are not valid Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ActionError(
            f"the action contains {text[exc.start : exc.end]!r} at position {exc.start}, which is not valid "
            "Unicode text (a lone surrogate); write the text without it"
        ) from None


def _usage(cls: type) -> str:
    return " or ".join(
        (cls.__doc__ or "").splitlines()[0].split(":")[0].format(target=t) for t in _TARGET_USAGE.values()
    )


def _literal(node: ast.expr, src: str) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        raise ActionError(f"arguments must be literal numbers or strings: {_short(src)}") from None
    if isinstance(value, str):
        check_text(value)  # an escape such as "\ud800" makes a lone surrogate
    return value


def _coerce(fname: str, kind: str, pname: str, value: object) -> object:
    if kind == TARGET:
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ActionError(f'{fname}(): name the element by its name in quotes ("Log in") or its id (12), got {value!r}')
    if kind == NTH:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ActionError(
                f"{fname}(): the ordinal says which of several same-named elements, counting from 1; got {value!r}"
            )
        return value
    if kind == MILLISECONDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ActionError(f"{fname}(): {pname} is a number of milliseconds >= 0, got {value!r}")
        return int(value)
    if kind == DIRECTION:
        if value not in SCROLL_DIRECTIONS:
            raise ActionError(f'scroll(): direction must be "up" or "down", got {value!r}')
        return value
    if kind == OPTION and isinstance(value, list):  # BrowserGym's select_option(bid, [options])
        if len(value) != 1:
            raise ActionError(
                f"{fname}(): give one option to select, got {len(value)} ({value!r}); selecting several "
                f"options of a multi-select at once is not supported"
            )
        value = value[0]
    if kind == KEY:
        if not isinstance(value, str) or not (value in KEYS or len(value) == 1 or "+" in value):
            raise ActionError(f"press(): unknown key {value!r}; use one of {sorted(KEYS)} or one character")
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ActionError(f"{fname}(): {pname} must be a string, got {value!r}")
    return value


def _drop_ignored(fname: str, kwargs: list[tuple[str, object]], src: str) -> list[tuple[str, object]]:
    """`kwargs` without the BrowserGym keywords of IGNORED_KEYWORDS, each checked against the only
    value domplay supports."""
    supported = IGNORED_KEYWORDS.get(fname, {})
    kept = []
    for key, value in kwargs:
        if key not in supported:
            kept.append((key, value))
        elif supported[key] is not None and value != supported[key]:
            raise ActionError(f"{fname}(): {key}={value!r} is not supported (only {supported[key]!r}): {_short(src)}")
    return kept


def _short(src: str, limit: int = 80) -> str:
    return repr(src if len(src) <= limit else src[: limit - 3] + "...")
