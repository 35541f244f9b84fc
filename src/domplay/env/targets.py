"""Which element an action acts on: the one place where a target becomes an element.

Both envs resolve through `resolve` (in `WebEnv.step`), the policy builds its page
constraint and the reference policy its actions from the same rules, so what the agent
may write and what the env accepts cannot drift apart.

Rule for a target, against the current page (all its elements, shown or scrolled away):

1. an int is an observation id (`click(12)`);
2. a string is first a *name*: among the elements the action works on (`acts_on`: click
   → links, buttons, checkboxes and other controls that are not textboxes or selects,
   fill → textboxes, select → selects, press → any interactive element), those whose
   name equals it after whitespace collapsing; if none, those equal ignoring case; if
   none and it ends in "…" (a name the observation cut), those whose name starts with
   the rest. Several matches need an ordinal (1 = first down the page), unless they are
   links to one address (`same_link`: a tag linked from every row), which act alike;
3. a string no name matches is a BrowserGym bid when it reads like one ("12", "a12"),
   so a pagination link named "2" is clicked by `click("2")` and element [2] by `click(2)`;
4. anything else is an `ActionError` that says which names the page has.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import replace

from domplay.env import actions as A
from domplay.env.observation import Element
from domplay.errors import ActionError

BID = re.compile(r"[a-z]*(\d+)")
"""A BrowserGym bid: digits after an optional frame prefix of lowercase letters."""
CUT_MARK = "…"
"""What the observation puts at the end of a name it cut."""
LISTED_NAMES = 20
"""How many names an error message lists."""
FILLABLE_ROLES = frozenset({"textbox", "searchbox", "combobox"})
KINDS: dict[type, str] = {
    A.Click: "clickable element",
    A.Fill: "textbox",
    A.Select: "select",
    A.Press: "element that takes keys",
}
"""What an error calls the elements each element action works on."""
PLURALS: dict[type, str] = {
    A.Click: "clickable elements",
    A.Fill: "textboxes",
    A.Select: "selects",
    A.Press: "elements that take keys",
}


def acts_on(kind: type, el: Element) -> bool:
    """Whether an action of type `kind` works on elements of `el`'s role (state such as
    disabled or read-only is the env's to check, so ordinals do not shift with it). Click
    leaves textboxes and selects to fill and select, so a search box and its button, both
    named "Search", need no ordinal."""
    fillable = el.role in FILLABLE_ROLES and el.tag != "select"
    if kind is A.Fill:
        return fillable
    if kind is A.Select:
        return el.tag == "select"
    if kind is A.Click:
        return el.interactive and not fillable and el.tag != "select"
    return el.interactive


def collapse(name: str) -> str:
    """`name` with runs of whitespace as one space (element names come collapsed already)."""
    return " ".join(name.split())


def same_link(elements: Sequence[Element]) -> bool:
    """Whether `elements` are links to one address (not a page anchor or a script), so that
    clicking any of them does the same: a name they share then needs no ordinal."""
    first = elements[0].href if elements else None
    if first is None or first.startswith(("#", "javascript:")) or not first.strip():
        return False
    return all(e.role == "link" and e.href == first for e in elements)


def resolve(action: A.Action, elements: Sequence[Element]) -> Element | None:
    """The element `action` acts on among a page's `elements` (ids are 1-based positions),
    None for actions without a target; ActionError (shown to the agent) when there is none."""
    if not isinstance(action, A.ELEMENT_ACTIONS):
        return None
    target = action.target
    if isinstance(target, int):
        return _by_id(target, elements)
    matches = _named(type(action), target, elements)
    if matches:
        return _pick(action, matches)
    bid = BID.fullmatch(target.strip())
    if bid is not None:
        if action.nth is not None:
            raise ActionError(
                f"no {KINDS[type(action)]} is named {target!r} here, and an ordinal does not go "
                f"with an id; {_names_hint(type(action), target, elements)}"
            )
        return _by_id(int(bid.group(1)), elements)
    raise ActionError(
        f"no {KINDS[type(action)]} named {target!r} on this page"
        f"{_other_roles(type(action), target, elements)}; {_names_hint(type(action), target, elements)}"
    )


def name_target(el: Element, kind: type, elements: Sequence[Element]) -> tuple[str, int | None] | None:
    """(name, ordinal) that names `el` for an action of type `kind`: the ordinal counts
    same-named elements the action works on, and is None when the name is unique or all of
    them are one link (`same_link`: the name then resolves to the first). None when
    `el` cannot be named so (it has no name, or the action does not work on its role)."""
    if not el.name or not acts_on(kind, el):
        return None
    same = [e for e in elements if e.name == el.name and acts_on(kind, e)]
    return el.name, (same.index(el) + 1 if len(same) > 1 and not same_link(same) else None)


def in_form(action: A.Action, elements: Sequence[Element], form: str) -> A.Action:
    """`action` naming its element in action form `form` ("name" or "id"). An element with
    no name (or one the action's role filter excludes) keeps its id in the name form.
    Raises ActionError when the target is not on the page."""
    el = resolve(action, elements)
    if el is None or not isinstance(action, A.ELEMENT_ACTIONS):
        return action
    named = name_target(el, type(action), elements) if form == "name" else None
    if named is None:
        return replace(action, target=el.id, nth=None)
    return replace(action, target=named[0], nth=named[1])


def _by_id(element_id: int, elements: Sequence[Element]) -> Element:
    if 1 <= element_id <= len(elements):
        return elements[element_id - 1]
    raise ActionError(f"no element [{element_id}] on this page; ids go from 1 to {len(elements)}")


def _named(kind: type, target: str, elements: Sequence[Element]) -> list[Element]:
    wanted = collapse(target)
    usable = [e for e in elements if acts_on(kind, e)]
    exact = [e for e in usable if e.name == wanted]
    if exact:
        return exact
    folded = [e for e in usable if e.name.casefold() == wanted.casefold()]
    if folded or not wanted.endswith(CUT_MARK) or len(wanted) == 1:
        return folded
    head = wanted[:-1]
    return [e for e in usable if e.name.startswith(head) and len(e.name) > len(head)]


def _pick(action: A.ElementAction, matches: list[Element]) -> Element:
    kind, target, nth = KINDS[type(action)], action.target, action.nth
    if nth is None:
        if len(matches) == 1 or same_link(matches):
            return matches[0]
        raise ActionError(
            f"{len(matches)} {PLURALS[type(action)]} are named {target!r}; say which, counting from 1 "
            f"down the page: {_call(action, 1)} to {_call(action, len(matches))}"
        )
    if nth > len(matches):
        only = (
            f"there is only one {kind}"
            if len(matches) == 1
            else f"there are only {len(matches)} {PLURALS[type(action)]}"
        )
        fix = f"leave the ordinal out: {_call(action, None)}" if len(matches) == 1 else f"use 1 to {len(matches)}"
        raise ActionError(f"{only} named {target!r}, not a #{nth}; {fix}")
    return matches[nth - 1]


def _call(action: A.ElementAction, nth: int | None) -> str:
    """`action` written with ordinal `nth`: the fix an error message proposes."""
    return A.format_action(replace(action, nth=nth))


def _other_roles(kind: type, target: str, elements: Sequence[Element]) -> str:
    others = sorted({e.role for e in elements if e.name == collapse(target) and not acts_on(kind, e)})
    return f" (there is a {' and a '.join(others)} with that name)" if others else ""


def _names_hint(kind: type, target: str, elements: Sequence[Element]) -> str:
    names = list(dict.fromkeys(e.name for e in elements if e.name and acts_on(kind, e)))
    if not names:
        return f"this page has no {KINDS[kind]} to name"
    close = difflib.get_close_matches(collapse(target), names, n=3)
    shown = ", ".join(repr(n) for n in names[:LISTED_NAMES])
    more = f" and {len(names) - LISTED_NAMES} more" if len(names) > LISTED_NAMES else ""
    guess = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"{guess}{PLURALS[kind]} here: {shown}{more} (write one exactly as shown, or the element's id)"
