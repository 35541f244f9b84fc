"""Checks that read elements: element localization, attributes, content, post-condition elements.

Page checks select with CSS on the final page (`Snapshot.html`, parsed once per snapshot);
the `element` check also reads the page each action was taken on.
"""

from __future__ import annotations

import html
import re
from typing import Literal

from pydantic import Field, model_validator
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from domplay.errors import CheckError
from domplay.verify.base import CheckBase, CheckContext, CheckResult, CssSelector, describe_node, node_text
from domplay.verify.snapshot import ActionRecord, Snapshot, TargetElement
from domplay.verify.textmatch import Normalize, best_match, clip, parse_number

STAMP_ATTR = "data-dp"
"""The attribute envs stamp on every element of an observed page (its observation id)."""

_PROBE_ATTR = "data-dp-probe"
# Tags an HTML parser drops outside their table/select context; the probe wraps them.
_PROBE_WRAP = {
    "td": ("<table><tr>", "</tr></table>"),
    "th": ("<table><tr>", "</tr></table>"),
    "tr": ("<table>", "</table>"),
    "tbody": ("<table>", "</table>"),
    "thead": ("<table>", "</table>"),
    "tfoot": ("<table>", "</table>"),
    "option": ("<select>", "</select>"),
    "optgroup": ("<select>", "</select>"),
}


class ElementCheck(CheckBase):
    """Element localization: the element the agent acted on (or a final-page element) is the target.

    `of` picks the element: "last_action" (the last action that resolved to an element,
    without error), "any_action" (any such action), or "final_page" (an element of the
    final page). `action_name` restricts actions to one name (e.g. "click"). The target is
    given by `css` (matched on the action's recorded page by `data-dp` stamp; when the page
    was not recorded, matched on the element's own tag and attributes only), and/or
    `role` + `name` (exact after normalization), and/or `text` (contained, normalized).
    """

    kind: Literal["element"] = "element"
    of: Literal["last_action", "any_action", "final_page"] = "last_action"
    action_name: str | None = None
    css: CssSelector | None = None
    role: str | None = None
    name: str | None = None
    text: str | None = None
    normalize: Normalize = Normalize()

    @model_validator(mode="after")
    def _needs_target(self) -> ElementCheck:
        if self.css is None and self.role is None and self.name is None and self.text is None:
            raise ValueError("give the target: css, role/name, or text")
        if self.of == "final_page" and (self.css is None or self.role is not None or self.name is not None):
            raise ValueError('of="final_page" needs css (optionally text); role/name apply to acted-on elements')
        return self

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        if self.of == "final_page":
            hits = [n for n in ctx.select(self.css or "") if self._text_ok(node_text(n))]
            found = f"found {describe_node(hits[0])}" if hits else "no element matches"
            return self.result(bool(hits), f"final page element {self._want()}: {found}")
        records = [
            (i, r)
            for i, r in enumerate(snapshot.actions)
            if r.target is not None
            and r.error is None
            and (self.action_name is None or _action_name(r) == self.action_name)
        ]
        acted = f"{self.action_name} action" if self.action_name else "action on an element"
        if not records:
            return self.result(False, f"expected {self._want()}, but no {acted} in the log")
        if self.of == "last_action":
            records = records[-1:]
        for i, rec in records:
            ok, how = self._matches(i, rec, ctx)
            if ok:
                return self.result(True, f"{rec.action} acted on the target {self._want()}{how}")
        i, rec = records[-1]
        which = "last" if self.of == "last_action" else "no"
        return self.result(
            False,
            f"{which} {acted} hit the target {self._want()}; {rec.action} acted on {_describe_target(rec.target)}",
        )

    def _want(self) -> str:
        parts = [f"css {self.css!r}"] if self.css is not None else []
        parts += [f"role {self.role!r}"] if self.role is not None else []
        parts += [f"name {self.name!r}"] if self.name is not None else []
        parts += [f"text containing {self.text!r}"] if self.text is not None else []
        return "(" + ", ".join(parts) + ")"

    def _text_ok(self, text: str) -> bool:
        return self.text is None or self.normalize.apply(self.text) in self.normalize.apply(text)

    def _matches(self, index: int, rec: ActionRecord, ctx: CheckContext) -> tuple[bool, str]:
        t = rec.target
        assert t is not None
        if self.role is not None and t.role.casefold() != self.role.casefold():
            return False, ""
        if self.name is not None and self.normalize.apply(t.name) != self.normalize.apply(self.name):
            return False, ""
        if not self._text_ok(t.text or t.name):
            return False, ""
        if self.css is None:
            return True, ""
        page = ctx.action_page(index)
        stamp = t.attrs.get(STAMP_ATTR)
        if page is not None and stamp is not None:
            stamps = {n.attributes.get(STAMP_ATTR) for n in page.css(self.css)}
            return stamp in stamps, ""
        return _probe_matches(t, self.css), " (page not recorded: matched on the element's own tag/attributes)"


def _action_name(rec: ActionRecord) -> str:
    return rec.action.split("(", 1)[0].strip()


def _describe_target(t: TargetElement | None) -> str:
    if t is None:
        return "nothing"
    stamp = t.attrs.get(STAMP_ATTR)
    return f'{t.role} "{t.name}" <{t.tag}>' + (f" ({STAMP_ATTR}={stamp})" if stamp is not None else "")


def _probe_matches(t: TargetElement, css: str) -> bool:
    """Whether `css` matches an element rebuilt from the target's tag and attributes alone
    (descendant/sibling parts of the selector then cannot match)."""
    tag = t.tag.lower() if re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", t.tag) else "div"
    attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in t.attrs.items() if re.fullmatch(r"[^\s\"'>/=]+", k))
    before, after = _PROBE_WRAP.get(tag, ("", ""))
    doc = f"<html><body>{before}<{tag}{attrs} {_PROBE_ATTR}>{html.escape(t.text)}</{tag}>{after}</body></html>"
    try:
        return any(_PROBE_ATTR in n.attributes for n in LexborHTMLParser(doc).css(css))
    except SelectolaxError as exc:
        raise CheckError(f"invalid CSS selector {css!r}: {exc}") from None


class AttributeCheck(CheckBase):
    """Elements selected by `css` on the final page have attribute `attribute` that
    `equals`/`contains`/`has_token` (a whitespace-separated token, e.g. a class) `value`,
    or is `present`/`absent`. `match` says whether all or any selected element must pass;
    with "all" the score is the fraction that pass."""

    kind: Literal["attribute"] = "attribute"
    css: CssSelector
    attribute: str = Field(min_length=1)
    op: Literal["equals", "contains", "has_token", "present", "absent"] = "equals"
    value: str | None = None
    match: Literal["all", "any"] = "all"
    case_sensitive: bool = True

    @model_validator(mode="after")
    def _needs_value(self) -> AttributeCheck:
        if self.op in ("equals", "contains", "has_token") and self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        return self

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        nodes = ctx.select(self.css)
        want = f"{self.attribute} {self.op}" + (f" {self.value!r}" if self.value is not None else "")
        if not nodes:
            return self.result(False, f"expected {self.css!r} with {want}; no element matches {self.css!r}")
        oks = [self._ok(n.attributes) for n in nodes]
        passed = all(oks) if self.match == "all" else any(oks)
        score = sum(oks) / len(oks) if self.match == "all" else float(passed)
        bad = [n for n, ok in zip(nodes, oks, strict=True) if not ok]
        shown = bad[0] if bad else nodes[0]
        found = (
            f"{sum(oks)}/{len(oks)} elements pass; e.g. {describe_node(shown)} has "
            f"{self.attribute}={shown.attributes.get(self.attribute, '<absent>')!r}"
        )
        return self.result(passed, f"expected {self.match} of {self.css!r} with {want}: {found}", score)

    def _ok(self, attrs: dict) -> bool:
        if self.op in ("present", "absent"):
            return (self.attribute in attrs) == (self.op == "present")
        if self.attribute not in attrs:
            return False
        have, want = attrs[self.attribute] or "", self.value or ""
        if not self.case_sensitive:
            have, want = have.casefold(), want.casefold()
        if self.op == "equals":
            return have == want
        if self.op == "contains":
            return want in have
        return want in have.split()


class ContentCheck(CheckBase):
    """Text from the final page (`css`, the element's text or its `attribute`) or from the
    answer, compared with `expected` by `mode`. With several matching elements the best
    one counts. `expected` may hold `|OR|` alternatives (except in regex mode)."""

    kind: Literal["content"] = "content"
    source: Literal["page", "answer"] = "page"
    css: CssSelector | None = None
    attribute: str | None = None
    """Read this attribute instead of the text (e.g. `value` of an input)."""
    expected: str | int | float
    mode: Literal["exact", "contains", "regex", "token_f1", "edit_distance", "numeric"] = "exact"
    threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    """Pass mark for token_f1 and edit_distance scores."""
    abs_tol: float = Field(default=0.0, ge=0.0)
    rel_tol: float = Field(default=0.0, ge=0.0)
    suffixes: bool = False
    """numeric: read "1.2k", "3M", "2b" as thousands, millions, billions."""
    normalize: Normalize = Normalize()

    @model_validator(mode="after")
    def _consistent(self) -> ContentCheck:
        if self.source == "page" and self.css is None:
            raise ValueError('source "page" needs css (the element to read)')
        if self.mode == "regex":
            try:
                re.compile(str(self.expected))
            except re.error as exc:
                raise ValueError(f"invalid regex {self.expected!r}: {exc}") from None
        if self.mode == "numeric" and parse_number(str(self.expected), self.suffixes) is None:
            raise ValueError(f"numeric mode needs a number as expected, got {self.expected!r}")
        return self

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        want = f"{self.mode} {self.expected!r}"
        if self.source == "answer":
            if snapshot.answer is None:
                return self.result(False, f"expected answer {want}; no answer given")
            texts, where = [snapshot.answer], "answer"
        else:
            nodes = ctx.select(self.css or "")
            if not nodes:
                return self.result(False, f"expected {self.css!r} {want}; no element matches {self.css!r}")
            texts = [n.attributes.get(self.attribute) or "" if self.attribute else node_text(n) for n in nodes]
            where = repr(self.css) + (f"[{self.attribute}]" if self.attribute else "")
        best = None
        for text in texts:
            m, _ = best_match(
                text,
                str(self.expected),
                self.mode,
                norm=self.normalize,
                threshold=self.threshold,
                abs_tol=self.abs_tol,
                rel_tol=self.rel_tol,
                suffixes=self.suffixes,
            )
            if best is None or (m.passed, m.score) > (best[0].passed, best[0].score):
                best = (m, text)
        assert best is not None
        m, text = best
        detail = f" ({m.detail})" if m.detail else ""
        return self.result(m.passed, f"expected {where} {want}; found {clip(text)}{detail}", m.score)


class ElementPresentCheck(CheckBase):
    """Interaction success on the page: an element matching `css` (and containing `text`,
    if given) exists on the final page — or, with `present: false`, does not."""

    kind: Literal["element_present"] = "element_present"
    css: CssSelector
    text: str | None = None
    present: bool = True
    normalize: Normalize = Normalize()

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        nodes = ctx.select(self.css)
        if self.text is not None:
            want = self.normalize.apply(self.text)
            nodes = tuple(n for n in nodes if want in self.normalize.apply(node_text(n)))
        what = repr(self.css) + (f" containing {self.text!r}" if self.text is not None else "")
        found = f"found {len(nodes)}, e.g. {describe_node(nodes[0])}" if nodes else "found none"
        expect = "expected" if self.present else "expected no"
        return self.result(bool(nodes) == self.present, f"{expect} element {what}: {found}")
