"""What every check shares: its result type, its evaluation context and its base model.

A check is a pydantic model (data: it lives in task files) with one method,
`evaluate(snapshot, ctx) -> CheckResult`. The `CheckContext` holds what several checks of
one snapshot would otherwise recompute: the parsed final page, selector results, parsed
action-time pages, and the sandbox for `code` checks.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from domplay.errors import CheckError
from domplay.verify.snapshot import Snapshot
from domplay.verify.textmatch import collapse

if TYPE_CHECKING:  # the sandbox module is imported lazily: only `code` checks need it
    from domplay.verify.sandbox import Sandbox


class CheckResult(BaseModel):
    """The outcome of one check on one snapshot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    score: float = Field(ge=0.0, le=1.0)
    passed: bool
    reason: str
    """What was expected and what was found, for people and for relabeling."""
    error: str | None = None
    """Set when the check could not be evaluated (crashed code, bad selector); never a pass."""


class CheckContext:
    """Per-snapshot caches shared by the checks of one `verify` call."""

    def __init__(self, snapshot: Snapshot, sandbox: Sandbox | None = None) -> None:
        self.snapshot = snapshot
        self.sandbox = sandbox
        self._final: LexborHTMLParser | None = None
        self._selected: dict[str, tuple[LexborNode, ...]] = {}
        self._action_pages: dict[int, LexborHTMLParser | None] = {}
        self._json: dict[str, Any] | None = None

    @property
    def final_page(self) -> LexborHTMLParser:
        """The final page, parsed once."""
        if self._final is None:
            self._final = LexborHTMLParser(self.snapshot.html)
        return self._final

    def select(self, css: str) -> tuple[LexborNode, ...]:
        """Elements of the final page matching `css` (cached per selector)."""
        hit = self._selected.get(css)
        if hit is None:
            try:
                hit = tuple(self.final_page.css(css))
            except SelectolaxError as exc:
                raise CheckError(f"invalid CSS selector {css!r}: {exc}") from None
            self._selected[css] = hit
        return hit

    def action_page(self, index: int) -> LexborHTMLParser | None:
        """The page action `index` was taken on, parsed once; None if it was not recorded."""
        if index not in self._action_pages:
            html = self.snapshot.actions[index].page_html
            self._action_pages[index] = LexborHTMLParser(html) if html is not None else None
        return self._action_pages[index]

    def snapshot_json(self) -> dict[str, Any]:
        """The snapshot as plain JSON data (what the sandbox receives), dumped once."""
        if self._json is None:
            self._json = self.snapshot.model_dump(mode="json")
        return self._json

    def require_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            raise CheckError("a code check needs a sandbox; pass sandbox=Sandbox() to verify()")
        return self.sandbox


class CheckBase(BaseModel):
    """Fields every check has. Subclasses add a `kind` literal and `evaluate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float = Field(default=1.0, ge=0.0)
    """Weight of this check's score in the verdict's weighted mean."""
    required: bool = True
    """Whether the task fails when this check fails (False: partial credit only)."""

    @abstractmethod
    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        """Score `snapshot`; raise `CheckError` when the check cannot be evaluated."""

    def result(self, passed: bool, reason: str, score: float | None = None) -> CheckResult:
        """A result of this check's kind; `score` defaults to 1.0 / 0.0 from `passed`."""
        value = float(passed) if score is None else min(1.0, max(0.0, score))
        return CheckResult(kind=self.kind, score=value, passed=passed, reason=reason)  # type: ignore[attr-defined]


def validate_css(css: str) -> str:
    """Raise ValueError (for pydantic) when selectolax cannot compile `css`."""
    if not css.strip():
        raise ValueError("CSS selector is empty")
    _compile_css(css)
    return css


@lru_cache(maxsize=4096)
def _compile_css(css: str) -> None:
    try:
        _EMPTY_PAGE.css(css)
    except SelectolaxError:
        raise ValueError(f"invalid CSS selector {css!r}; check brackets and quotes") from None


_EMPTY_PAGE = LexborHTMLParser("<html><body></body></html>")

CssSelector = Annotated[str, AfterValidator(validate_css)]
"""A CSS selector field, compiled once when the check is built so typos fail at load time."""


def node_text(node: LexborNode) -> str:
    """The whitespace-collapsed text content of `node`."""
    return collapse(node.text(deep=True, separator=" "))


def describe_node(node: LexborNode) -> str:
    """A short description of an element for reasons: tag, id/class, text."""
    attrs: dict[str, Any] = node.attributes
    bits = [node.tag or "?"]
    if attrs.get("id"):
        bits.append(f"#{attrs['id']}")
    if attrs.get("class"):
        bits.append("." + ".".join(str(attrs["class"]).split()))
    text = node_text(node)
    return "".join(bits) + (f" {text[:40]!r}" if text else "")
