"""Interaction success on the backend: a fact about `Snapshot.state` (the sites' JSON state).

Path syntax (dot-separated segments, keys must not contain `.`, `[` or `]`):

- `shop.orders` — dict keys;
- `shop.orders.0`, `shop.orders.-1` — a list element by index;
- `shop.orders.*` — every element of a list (or value of a dict);
- `shop.orders[status=paid]` — the list elements whose field `status` equals `paid`
  (the value is read as JSON when it parses, so `[product_id=17]` matches the number 17;
  filters chain: `[status=paid][user=ann]`).

A path without `*` or filters resolves to one value (or is missing). A path with them
resolves to the list of values it collects (possibly empty), e.g. `shop.orders.*.total`
is the list of all order totals and `shop.orders[status=paid]` the list of paid orders.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import field_validator, model_validator

from domplay.verify.base import CheckBase, CheckContext, CheckResult
from domplay.verify.snapshot import Snapshot

_SEGMENT = re.compile(r"^(?P<key>[^.\[\]=]+)?(?P<filters>(?:\[[^\[\]=]+=[^\[\]]*\])*)$")
_FILTER = re.compile(r"\[(?P<field>[^\[\]=]+)=(?P<value>[^\[\]]*)\]")
_MISSING = object()


@dataclass(frozen=True)
class Segment:
    key: str | None
    filters: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Resolved:
    found: bool
    value: Any
    multi: bool
    """True when the path had `*` or filters (then `value` is a list)."""
    missing: str = ""
    """Where resolution stopped, for reasons."""


def parse_path(path: str) -> tuple[Segment, ...]:
    """Parse a state path; raise ValueError naming the bad segment."""
    if not path.strip():
        raise ValueError("state path is empty; write e.g. shop.orders")
    segments = []
    for raw in path.split("."):
        m = _SEGMENT.match(raw.strip())
        if m is None or (m.group("key") is None and not m.group("filters")):
            raise ValueError(f"bad segment {raw!r} in state path {path!r}; use key, index, *, or key[field=value]")
        filters = tuple(
            (f.group("field").strip(), _filter_value(f.group("value"))) for f in _FILTER.finditer(m.group("filters"))
        )
        segments.append(Segment(m.group("key"), filters))
    return tuple(segments)


def _filter_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def resolve(state: Any, path: str) -> Resolved:
    """Resolve `path` in `state` (see the module docstring)."""
    values, multi = [state], False
    for depth, seg in enumerate(parse_path(path)):
        prefix = ".".join(path.split(".")[: depth + 1])
        if seg.key is not None:
            nxt = []
            for v in values:
                if seg.key == "*":
                    nxt += list(v) if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else []
                else:
                    child = _child(v, seg.key)
                    if child is not _MISSING:
                        nxt.append(child)
            multi = multi or seg.key == "*"
            if not nxt and not multi:
                return Resolved(False, None, False, f"{prefix!r} not found{_keys_hint(values)}")
            values = nxt
        if seg.filters:
            multi = True
            values = [
                el
                for v in values
                if isinstance(v, list)
                for el in v
                if all(_field_equals(el, f, want) for f, want in seg.filters)
            ]
    if multi:
        return Resolved(True, values, True)
    return Resolved(True, values[0], False)


def _child(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key, _MISSING)
    if isinstance(value, list) and re.fullmatch(r"-?\d+", key):
        i = int(key)
        return value[i] if -len(value) <= i < len(value) else _MISSING
    return _MISSING


def _keys_hint(values: list) -> str:
    if len(values) == 1 and isinstance(values[0], dict):
        return f" (keys there: {', '.join(sorted(map(str, values[0])))[:200]})"
    if len(values) == 1 and isinstance(values[0], list):
        return f" (a list of {len(values[0])})"
    return ""


def _field_equals(element: Any, field: str, want: Any) -> bool:
    if not isinstance(element, dict) or field not in element:
        return False
    have = element[field]
    return json_equal(have, want) or (isinstance(want, str) and not isinstance(have, str) and str(have) == want)


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values where 2 == 2.0 but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def matches(actual: Any, expected: Any) -> bool:
    """Partial match: a dict matches when every expected key matches; a list actual matches a
    non-list expected when any element matches; a list expected matches when each of its
    items matches some element; scalars compare with `json_equal`.

    `matches(order, {"items": {"product_id": 17, "qty": 2}})` is "the order has an item
    with product 17 and quantity 2".
    """
    if isinstance(expected, dict):
        if isinstance(actual, list):
            return any(matches(el, expected) for el in actual)
        return isinstance(actual, dict) and all(k in actual and matches(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(matches(a, e) for a in actual) for e in expected)
    if isinstance(actual, list):
        return any(matches(el, expected) for el in actual)
    return json_equal(actual, expected)


Op = Literal["exists", "absent", "equals", "contains", "length_eq", "length_ge", "length_le", "any_match", "at_least"]


class StateCheck(CheckBase):
    """A fact about the backend state: the value at `path` (module docstring) satisfies `op`.

    exists/absent: the path resolves (a `*`/filter path: to a non-empty list). equals: JSON
    equality. contains: a string contains `expected`, a list has an element that `matches`
    it, a dict has it as a key. length_eq/ge/le: `len(value)` against `expected`.
    any_match: some element of the list `matches` the dict `expected` (partial match).
    at_least: a number >= the number `expected` (a MiniWoB++ raw reward against its threshold).
    """

    kind: Literal["state"] = "state"
    path: str
    op: Op = "exists"
    expected: Any = None

    @field_validator("path")
    @classmethod
    def _valid_path(cls, v: str) -> str:
        parse_path(v)
        return v

    @model_validator(mode="after")
    def _valid_expected(self) -> StateCheck:
        if self.op.startswith("length_") and (not isinstance(self.expected, int) or isinstance(self.expected, bool)):
            raise ValueError(f"op {self.op!r} needs an integer expected, got {self.expected!r}")
        if self.op == "at_least" and not _number(self.expected):
            raise ValueError(f"op 'at_least' needs a number expected, got {self.expected!r}")
        if self.op == "any_match" and not isinstance(self.expected, dict):
            raise ValueError(f"op 'any_match' needs a dict of field: expected value, got {self.expected!r}")
        if self.op in ("equals", "contains") and self.expected is None and "expected" not in self.model_fields_set:
            raise ValueError(f"op {self.op!r} needs an expected value")
        return self

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        r = resolve(snapshot.state, self.path)
        want = f"{self.path} {self.op}" + ("" if self.op in ("exists", "absent") else f" {_short(self.expected)}")
        exists = r.found and (not r.multi or bool(r.value))
        if self.op in ("exists", "absent"):
            passed = exists == (self.op == "exists")
            found = f"found {_short(r.value)}" if exists else (r.missing or "nothing matched")
            return self.result(passed, f"expected {want}: {found}")
        if not r.found:
            return self.result(False, f"expected {want}: {r.missing}")
        passed, found = self._apply(r.value)
        return self.result(passed, f"expected {want}: {found}")

    def _apply(self, value: Any) -> tuple[bool, str]:
        shown = f"found {_short(value)}"
        if self.op == "equals":
            return json_equal(value, self.expected), shown
        if self.op == "at_least":
            if not _number(value):
                return False, f"{shown}, which is not a number"
            return value >= self.expected, shown
        if self.op == "contains":
            if isinstance(value, str):
                return isinstance(self.expected, str) and self.expected in value, shown
            if isinstance(value, list):
                return any(matches(el, self.expected) for el in value), shown
            if isinstance(value, dict):
                return isinstance(self.expected, str) and self.expected in value, shown
            return False, f"{shown}, which is not a string, list or dict"
        if not isinstance(value, (list, dict, str)):
            return False, f"{shown}, which has no length"
        if self.op == "any_match":
            if not isinstance(value, list):
                return False, f"{shown}, which is not a list"
            return any(matches(el, self.expected) for el in value), shown
        n, shown = len(value), f"length {len(value)}"
        return {"length_eq": n == self.expected, "length_ge": n >= self.expected, "length_le": n <= self.expected}[
            self.op
        ], shown


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
