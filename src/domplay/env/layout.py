"""Which elements of a page share a line in the compact rendering, from where they sit in the DOM.

Besides an element alone, a line is one of:

- a table row: the elements of one `tr`, cell by cell;
- an item: an interactive element with the text around it, inside the largest ancestor that
  holds no other interactive element and no heading (a product card: its link, then brand,
  price, rating and stock);
- a text block: consecutive text runs, links and buttons of one block element (`Price:` and
  `$5.00` of one `<p>`; the links of a `<nav>`; `Logged in as` and its user's link).

Lines cover consecutive elements in document order, so an observation's window (offset and
count of elements shown) stays a contiguous range of ids whatever the rendering.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Place = tuple[tuple[int, str], ...]
"""Where an element sits: (node key, tag) of each ancestor from below `<body>` down to its own node
(for a text run, the node whose text it is). A node key is any number unique to the node on its page."""
Kind = Literal["interactive", "link", "heading", "image", "text"]
"""What an element is to the layout: `link` is a link or button (a control that reads inline,
in a text block), `interactive` any other control."""
CONTROL_KINDS = frozenset({"interactive", "link"})
BLOCK_KINDS = frozenset({"text", "link"})
"""Kinds a text block is made of."""
LineKind = Literal["single", "item", "row", "text"]

ROW_TAG = "tr"
CELL_TAGS = frozenset({"td", "th"})
TEXT_INLINE_TAGS = frozenset(
    {"em", "strong", "b", "i", "small", "abbr", "code", "sup", "sub", "mark", "u", "s", "span", "time", "data", "q"}
    | {"cite", "kbd", "var", "bdi", "br"}
)
"""Tags that format text inside a line: an element's name reads through them."""
INLINE_TAGS = TEXT_INLINE_TAGS | {"a", "label", "button"}
"""Tags that stay inside a line when grouping a page into lines: text formatting, links, labels, buttons."""
MAX_ITEM_ELEMENTS = 8
"""Most elements an item line gathers: a box with more is a section of the page, not a card."""
MAX_BLOCK_ELEMENTS = 12
"""Most elements a text block gathers on one line (a longer block goes on in the next line)."""


@dataclass(frozen=True)
class Line:
    """Elements `start` to `end - 1` (indexes into `Page.elements`) shown on one line."""

    start: int
    end: int
    kind: LineKind = "single"
    head: int = -1
    """An item's interactive element (index); the text before it is a prefix, after it riders."""
    cells: tuple[int, ...] = ()
    """A row's cell starts (indexes); the row's first cell starts at `start`."""


def layout(kinds: Sequence[Kind], places: Sequence[Place]) -> tuple[Line, ...]:
    """The compact rendering's lines of a page whose elements have these kinds and places."""
    rows = [_nearest(p, lambda tag: tag == ROW_TAG) for p in places]
    items = _items(kinds, places, rows)
    lines: list[Line] = []
    i, n = 0, len(kinds)
    while i < n:
        if rows[i] is not None:
            end = i
            while end < n and rows[end] == rows[i]:
                end += 1
            lines.append(Line(i, end, "row", cells=_cell_starts(places, i, end)))
        elif i in items:
            start, head, end = items[i]
            lines.append(Line(start, end, "item", head=head))
        elif kinds[i] in BLOCK_KINDS:
            block = _block(places[i])
            end = i + 1
            while (
                end < n
                and end - i < MAX_BLOCK_ELEMENTS
                and kinds[end] in BLOCK_KINDS
                and rows[end] is None
                and end not in items
                and _block(places[end]) == block
            ):
                end += 1
            lines.append(Line(i, end, "text" if end > i + 1 else "single"))
        else:
            end = i + 1
            lines.append(Line(i, end))
        i = end
    return tuple(lines)


def _items(
    kinds: Sequence[Kind], places: Sequence[Place], rows: Sequence[int | None]
) -> dict[int, tuple[int, int, int]]:
    """First index of each item line → (start, head, end)."""
    interactive: Counter[int] = Counter()
    blocked: set[int] = set()  # ancestors holding a heading or a table row: never an item's box
    members: Counter[int] = Counter()
    for kind, place, row in zip(kinds, places, rows, strict=True):
        for node, _ in place:
            members[node] += 1
            if kind in CONTROL_KINDS:
                interactive[node] += 1
            elif kind == "heading" or row is not None:
                blocked.add(node)
    items: dict[int, tuple[int, int, int]] = {}
    for head, (kind, place) in enumerate(zip(kinds, places, strict=True)):
        if kind not in CONTROL_KINDS or rows[head] is not None:
            continue
        box = None
        for node, _ in reversed(place):
            if interactive[node] > 1 or node in blocked or members[node] > MAX_ITEM_ELEMENTS:
                break
            box = node
        if box is None or members[box] == 1:
            continue
        start, end = head, head + 1
        while start > 0 and _holds(places[start - 1], box):
            start -= 1
        while end < len(places) and _holds(places[end], box):
            end += 1
        items[start] = (start, head, end)
    return items


def _holds(place: Place, node: int) -> bool:
    return any(key == node for key, _ in place)


def _nearest(place: Place, wanted) -> int | None:
    for node, tag in reversed(place):
        if wanted(tag):
            return node
    return None


def _block(place: Place) -> int | None:
    return _nearest(place, lambda tag: tag not in INLINE_TAGS)


def _cell_starts(places: Sequence[Place], start: int, end: int) -> tuple[int, ...]:
    starts, previous = [], object()
    for i in range(start, end):
        cell = _nearest(places[i], lambda tag: tag in CELL_TAGS)
        if cell != previous or cell is None:
            starts.append(i)
        previous = cell
    return tuple(starts)
