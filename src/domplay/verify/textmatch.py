"""Text comparison for checks: normalization, |OR| alternatives, token F1, edit similarity, numbers.

Pure functions of strings, shared by the `content` and `answer` checks. Every comparison
returns a `Match` (score in [0, 1], passed, and what was compared) so reasons can say
what was expected and what was found.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from rapidfuzz.distance import Levenshtein

OR_SEPARATOR = "|OR|"
"""Splits alternatives inside one expected string: `"Paris|OR|paris, France"`."""

EDIT_DISTANCE_MAX_CHARS = 1000
"""Edit similarity compares at most this many characters of each text (a bound on the O(n*m) work a
check of a long page text does; the scores of checks stored before rapidfuzz replaced the Python DP
stay the same)."""

FLOAT_REL_EPS = 1e-9
"""Relative slack added to numeric tolerances so that 0.1 + 0.2 equals 0.3."""

_PUNCT_TABLE = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’–—…", " "))
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+")
_CURRENCY = r"(?:[$€£¥₹]|USD|EUR|GBP|JPY)"
_NUMBER = re.compile(
    rf"(?P<sign>[-+−])?\s*{_CURRENCY}?\s*(?P<sign2>[-+−])?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?P<suffix>[kKmMbB])(?![A-Za-z]))?"
)
_SUFFIX_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}


class Normalize(BaseModel):
    """How texts are normalized before comparison (applied to both sides)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: bool = True
    """Ignore case (casefold)."""
    whitespace: bool = True
    """Collapse runs of whitespace to one space and strip the ends."""
    punctuation: bool = False
    """Replace punctuation with spaces (then whitespace is collapsed)."""

    def apply(self, text: str) -> str:
        if self.case:
            text = text.casefold()
        if self.punctuation:
            text = text.translate(_PUNCT_TABLE)
        if self.whitespace or self.punctuation:
            text = _WS.sub(" ", text).strip()
        return text


@dataclass(frozen=True)
class Match:
    """Outcome of comparing one found text with one expected value."""

    score: float
    passed: bool
    detail: str = ""
    """Extra words for the reason, e.g. the parsed number or the F1 value."""


def alternatives(expected: str | list[str]) -> list[str]:
    """Split `expected` (a string or a list of strings) on `|OR|` into stripped alternatives."""
    items = [expected] if isinstance(expected, str) else list(expected)
    return [alt.strip() for item in items for alt in item.split(OR_SEPARATOR) if alt.strip()]


def collapse(text: str) -> str:
    """Whitespace-collapsed text (how page text is shown in reasons)."""
    return _WS.sub(" ", text).strip()


def clip(text: str, limit: int = 80) -> str:
    """`text` shortened for a reason line."""
    text = collapse(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def token_f1(found: str, expected: str) -> float:
    """SQuAD-style token F1 between two (already normalized) texts."""
    f, e = _TOKEN.findall(found), _TOKEN.findall(expected)
    if not f or not e:
        return float(f == e)
    common = sum((Counter(f) & Counter(e)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(f), common / len(e)
    return 2 * precision * recall / (precision + recall)


def edit_similarity(found: str, expected: str) -> float:
    """1 - Levenshtein(found, expected) / max length, on the first `EDIT_DISTANCE_MAX_CHARS` chars
    (rapidfuzz's C++ Levenshtein; 1.0 for two empty strings)."""
    return Levenshtein.normalized_similarity(found[:EDIT_DISTANCE_MAX_CHARS], expected[:EDIT_DISTANCE_MAX_CHARS])


def parse_number(text: str, suffixes: bool = False) -> float | None:
    """The first number in `text`: handles signs, currency symbols, thousands commas, and with
    `suffixes` "1.2k"/"3M"/"2b". Returns None when `text` holds no number."""
    m = _NUMBER.search(text)
    if m is None:
        return None
    value = float(m.group("num").replace(",", ""))
    if (m.group("sign") or m.group("sign2")) in ("-", "−"):
        value = -value
    if suffixes and m.group("suffix"):
        value *= _SUFFIX_SCALE[m.group("suffix").lower()]
    return value


def numbers_close(found: float, expected: float, abs_tol: float, rel_tol: float) -> bool:
    """|found - expected| within the larger of `abs_tol` and `rel_tol * |expected|`."""
    tol = max(abs_tol, rel_tol * abs(expected)) + FLOAT_REL_EPS * max(1.0, abs(expected))
    return math.isfinite(found) and abs(found - expected) <= tol


def compare(
    found: str,
    expected: str,
    mode: str,
    *,
    norm: Normalize,
    threshold: float = 1.0,
    abs_tol: float = 0.0,
    rel_tol: float = 0.0,
    suffixes: bool = False,
) -> Match:
    """Compare one found text with one expected alternative under `mode`.

    Modes: exact, contains, regex (search; case-insensitive when `norm.case`), token_f1 and
    edit_distance (score is the similarity, pass when >= `threshold`), numeric (first number
    of each side, within tolerance).
    """
    if mode == "numeric":
        return _compare_numeric(found, expected, abs_tol, rel_tol, suffixes)
    if mode == "regex":
        flags = re.IGNORECASE if norm.case else 0
        hit = re.search(expected, collapse(found), flags) is not None
        return Match(float(hit), hit)
    f, e = norm.apply(found), norm.apply(expected)
    if mode == "exact":
        return Match(float(f == e), f == e)
    if mode == "contains":
        return Match(float(e in f), e in f)
    if mode == "token_f1":
        score = token_f1(f, e)
        return Match(score, score >= threshold, f"token F1 {score:.2f}, threshold {threshold:.2f}")
    if mode == "edit_distance":
        score = edit_similarity(f, e)
        return Match(score, score >= threshold, f"edit similarity {score:.2f}, threshold {threshold:.2f}")
    raise ValueError(f"unknown text match mode {mode!r}")


def _compare_numeric(found: str, expected: str, abs_tol: float, rel_tol: float, suffixes: bool) -> Match:
    want = parse_number(expected, suffixes)
    if want is None:
        raise ValueError(f"expected value {expected!r} holds no number")
    got = parse_number(found, suffixes)
    if got is None:
        return Match(0.0, False, "no number found")
    ok = numbers_close(got, want, abs_tol, rel_tol)
    return Match(float(ok), ok, f"parsed {got:g}, expected {want:g} (abs_tol {abs_tol:g}, rel_tol {rel_tol:g})")


def best_match(found: str, expected: str | list[str], mode: str, **kwargs) -> tuple[Match, str]:
    """The best `compare` over the `|OR|` alternatives of `expected` (regex is not split),
    with the alternative that gave it."""
    alts = [expected] if mode == "regex" and isinstance(expected, str) else alternatives(expected)
    best: tuple[Match, str] | None = None
    for alt in alts:
        m = compare(found, alt, mode, **kwargs)
        if best is None or (m.passed, m.score) > (best[0].passed, best[0].score):
            best = (m, alt)
    if best is None:
        raise ValueError(f"no expected alternatives in {expected!r}")
    return best
