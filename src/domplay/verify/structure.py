"""DOM structural consistency: tree edit distance between a final-page subtree and an expected tree.

Trees are element-only (text is ignored); a node's label is its tag, plus the values of the
attributes listed in `attrs`. Similarity = 1 - TED / (n_found + n_expected), with unit
insert/delete/relabel costs (Zhang-Shasha, the `zss` package), so it is 1 for identical
trees, decreases with every edit, and is 0 only when nothing can be kept.

Speed: Zhang-Shasha costs O(n^2 * depth^2) in pure Python (about 50 ms for two 50-node trees),
so each tree is cut to its first `max_nodes` elements in document order (the reason says so)
and at most `max_candidates` matching elements are compared. Identical trees skip the DP.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import zss
from pydantic import Field, model_validator
from selectolax.lexbor import LexborHTMLParser, LexborNode

from domplay.verify.base import CheckBase, CheckContext, CheckResult, CssSelector, describe_node
from domplay.verify.snapshot import Snapshot

DEFAULT_MAX_NODES = 60
"""Default cap on elements per compared tree (see the module docstring for the cost)."""
DEFAULT_MAX_CANDIDATES = 5
"""Default cap on final-page elements compared with the expected tree."""


def build_tree(root: LexborNode, attrs: tuple[str, ...], max_nodes: int) -> tuple[zss.Node, int, bool]:
    """The element tree under `root` as zss nodes: (tree, node count, truncated?)."""
    count, truncated = 0, False

    def visit(node: LexborNode) -> zss.Node:
        nonlocal count, truncated
        count += 1
        out = zss.Node(_label(node, attrs))
        child = node.child
        while child is not None:
            if child.tag and not child.tag.startswith("-"):  # skip text and comment nodes
                if count >= max_nodes:
                    truncated = True
                    break
                out.addkid(visit(child))
            child = child.next
        return out

    return visit(root), count, truncated


def _label(node: LexborNode, attrs: tuple[str, ...]) -> str:
    if not attrs:
        return node.tag or ""
    values = node.attributes
    return (node.tag or "") + "".join(
        f"|{a}={' '.join(sorted((values.get(a) or '').split()))}" for a in attrs if a in values
    )


def tree_signature(tree: zss.Node) -> tuple:
    return (tree.label, tuple(tree_signature(c) for c in tree.children))


@lru_cache(maxsize=1024)
def expected_root(snippet: str) -> LexborNode:
    """The single root element of an HTML snippet (cached: task files repeat snippets)."""
    body = LexborHTMLParser(f"<html><body>{snippet}</body></html>").body
    roots = [c for c in (body.iter() if body is not None else []) if c.tag and not c.tag.startswith("-")]
    if len(roots) != 1:
        raise ValueError(f"expected_html must have exactly one root element, found {len(roots)}")
    return roots[0]


def similarity(found: zss.Node, n_found: int, expected: zss.Node, n_expected: int) -> float:
    """1 - TED / (n_found + n_expected), in [0, 1]."""
    if tree_signature(found) == tree_signature(expected):
        return 1.0
    distance = zss.simple_distance(found, expected)
    return max(0.0, 1.0 - distance / (n_found + n_expected))


class StructureCheck(CheckBase):
    """The subtree at `css` on the final page is structurally like `expected_html`
    (similarity >= `threshold`; the best of the first `max_candidates` matches counts)."""

    kind: Literal["structure"] = "structure"
    css: CssSelector
    expected_html: str
    threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    attrs: tuple[str, ...] = ()
    """Attributes that are part of a node's label (e.g. ("class",)); by default tags only."""
    max_nodes: int = Field(default=DEFAULT_MAX_NODES, ge=1)
    max_candidates: int = Field(default=DEFAULT_MAX_CANDIDATES, ge=1)

    @model_validator(mode="after")
    def _valid_snippet(self) -> StructureCheck:
        _, _, truncated = build_tree(expected_root(self.expected_html), self.attrs, self.max_nodes)
        if truncated:
            raise ValueError(
                f"expected_html has more than max_nodes={self.max_nodes} elements; "
                "raise max_nodes or give a smaller tree"
            )
        return self

    def evaluate(self, snapshot: Snapshot, ctx: CheckContext) -> CheckResult:
        want, n_want, _ = build_tree(expected_root(self.expected_html), self.attrs, self.max_nodes)
        nodes = ctx.select(self.css)[: self.max_candidates]
        if not nodes:
            return self.result(False, f"expected a subtree at {self.css!r}; no element matches {self.css!r}")
        best: tuple[float, LexborNode, bool] | None = None
        for node in nodes:
            tree, n, truncated = build_tree(node, self.attrs, self.max_nodes)
            score = similarity(tree, n, want, n_want)
            if best is None or score > best[0]:
                best = (score, node, truncated)
        assert best is not None
        score, node, truncated = best
        cut = f" (cut to {self.max_nodes} elements)" if truncated else ""
        return self.result(
            score >= self.threshold,
            f"subtree {describe_node(node)} at {self.css!r}{cut} has structural similarity "
            f"{score:.2f} to the expected tree, threshold {self.threshold:.2f}",
            score,
        )
