"""Checks on plain values of the snapshot: the final URL and the agent's answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from domplay.verify.base import CheckBase, CheckContext, CheckResult
from domplay.verify.snapshot import Snapshot
from domplay.verify.textmatch import Normalize, alternatives, best_match, clip, parse_number

_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True)
class _Url:
    host: str | None
    """Lowercased host[:port] without default ports; None for a relative URL."""
    path: str
    """Percent-decoded path without trailing slash ("/" for the root)."""
    query: dict[str, list[str]]
    """Query keys to their sorted values."""


def _parse_url(url: str) -> _Url:
    parts = urlsplit(url.strip())
    host = None
    if parts.netloc:
        host = (parts.hostname or "").lower()
        if parts.port is not None and str(parts.port) != _DEFAULT_PORTS.get(parts.scheme.lower()):
            host += f":{parts.port}"
    path = unquote(parts.path).rstrip("/") or "/"
    query = {k: sorted(v) for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return _Url(host, path, query)


def url_mismatch(found: str, expected: str, ignore_extra_query: bool) -> str | None:
    """Why `found` does not match `expected` (None when it does).

    Paths compare exactly (after decoding and dropping a trailing slash): `/viewedasdf` is
    not `/viewed`. Every expected query key must be present with the same values, in any
    order; other keys in `found` fail unless `ignore_extra_query`. The host is compared only
    when `expected` is absolute. Fragments are ignored.
    """
    f, e = _parse_url(found), _parse_url(expected)
    if e.host is not None and f.host != e.host:
        return f"host {f.host!r} is not {e.host!r}"
    if f.path != e.path:
        return f"path {f.path!r} is not {e.path!r}"
    for key, values in e.query.items():
        if key not in f.query:
            return f"query key {key!r} missing"
        if f.query[key] != values:
            return f"query {key}={f.query[key]} is not {values}"
    extra = sorted(set(f.query) - set(e.query))
    if extra and not ignore_extra_query:
        return f"unexpected query keys {extra}"
    return None


class UrlCheck(CheckBase):
    """The final URL matches `expected` (a path like "/shop/cart?step=2" or an absolute URL;
    `|OR|` separates alternatives). See `url_mismatch` for the comparison."""

    kind: Literal["url"] = "url"
    expected: str
    ignore_extra_query: bool = False

    @field_validator("expected")
    @classmethod
    def _valid(cls, v: str) -> str:
        alts = alternatives(v)
        if not alts:
            raise ValueError("expected URL is empty")
        for alt in alts:
            parts = urlsplit(alt)
            if not (alt.startswith("/") or (parts.scheme in ("http", "https") and parts.netloc)):
                raise ValueError(f"expected URL {alt!r} must be a path starting with '/' or an absolute http(s) URL")
        return v

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        misses = []
        for alt in alternatives(self.expected):
            why = url_mismatch(snapshot.url, alt, self.ignore_extra_query)
            if why is None:
                return self.result(True, f"URL {snapshot.url!r} matches {alt!r}")
            misses.append(f"{alt!r}: {why}")
        return self.result(False, f"URL {snapshot.url!r} matches no expected URL ({'; '.join(misses)})")


class AnswerCheck(CheckBase):
    """The agent's answer matches one of `expected`'s alternatives (a list, and/or `|OR|`
    inside a string) by `mode`: exact, contains (the answer contains it), numeric."""

    kind: Literal["answer"] = "answer"
    expected: str | list[str]
    mode: Literal["exact", "contains", "numeric"] = "exact"
    abs_tol: float = Field(default=0.0, ge=0.0)
    rel_tol: float = Field(default=0.0, ge=0.0)
    suffixes: bool = False
    normalize: Normalize = Normalize()

    @model_validator(mode="after")
    def _valid(self) -> AnswerCheck:
        alts = alternatives(self.expected)
        if not alts:
            raise ValueError("expected answer is empty")
        if self.mode == "numeric":
            bad = [a for a in alts if parse_number(a, self.suffixes) is None]
            if bad:
                raise ValueError(f"numeric mode needs numbers as expected answers, got {bad}")
        return self

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        shown = " | ".join(repr(a) for a in alternatives(self.expected))
        if snapshot.answer is None:
            return self.result(False, f"expected answer ({self.mode}) {shown}; no answer given")
        m, alt = best_match(
            snapshot.answer,
            self.expected,
            self.mode,
            norm=self.normalize,
            abs_tol=self.abs_tol,
            rel_tol=self.rel_tol,
            suffixes=self.suffixes,
        )
        detail = f" ({m.detail})" if m.detail else ""
        if m.passed:
            return self.result(True, f"answer {clip(snapshot.answer)} matches {alt!r} ({self.mode}){detail}")
        return self.result(False, f"expected answer ({self.mode}) {shown}; got {clip(snapshot.answer)}{detail}")
