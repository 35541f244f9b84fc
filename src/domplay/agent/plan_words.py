"""The words plan mode reads plans with: content words of a text (`keywords`) and the verbs that make
a plan step look executable. Used by the heuristic Infer scores and by merging plans."""

from __future__ import annotations

import re

WORD = re.compile(r"[a-z0-9$][a-z0-9$.'-]*")
STOPWORDS = frozenset(
    (
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "from",
        "by",
        "at",
        "is",
        "are",
        "be",
        "it",
        "its",
        "this",
        "that",
        "what",
        "which",
        "how",
        "many",
        "much",
        "do",
        "does",
        "you",
        "your",
        "me",
        "my",
        "find",
        "show",
        "tell",
        "give",
        "get",
        "then",
        "there",
        "their",
        "as",
        "into",
        "than",
        "all",
        "any",
    )
)
ACTION_VERBS = frozenset(
    (
        "click",
        "open",
        "go",
        "navigate",
        "search",
        "type",
        "fill",
        "enter",
        "select",
        "choose",
        "pick",
        "press",
        "submit",
        "add",
        "read",
        "find",
        "look",
        "check",
        "answer",
        "report",
        "note",
        "sort",
        "filter",
        "scroll",
        "view",
        "visit",
        "return",
        "back",
        "browse",
        "compare",
        "count",
        "set",
        "log",
        "sign",
        "buy",
        "checkout",
        "order",
        "reply",
        "post",
        "edit",
        "update",
        "save",
        "stop",
    )
)
"""Words that make a plan step look executable (the heuristic's feasibility)."""


def keywords(text: str) -> set[str]:
    """Content words of a text (lower case, no stopwords, at least 3 characters or a number)."""
    words = (w.strip(".'-") for w in WORD.findall(text.lower()))
    return {w for w in words if w and w not in STOPWORDS and (len(w) >= 3 or any(c.isdigit() for c in w))}


def content_words(text: str) -> set[str]:
    """`keywords` without the action verbs: what a step is about rather than what it does."""
    return keywords(text) - ACTION_VERBS
