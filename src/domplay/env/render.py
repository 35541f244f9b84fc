"""A page as the text the agent reads, within a token budget that says what it cut.

Two formats (`ObservationConfig.format`). `lines`, one element per line::

    [16] link "Pulse Carbon Power Bank"
    [17] text "Cedar Lane"
    [18] text "$191.00"

and `compact` (the default), one line per line of `Page.lines` (`domplay.env.layout`): text
that describes an element rides on its line, a table row is one line (cells split by `|`), a
text block is one line, headings are marked with `#`, only interactive elements show ids, empty
values and plain input types are left out, and the URL is shown without its origin. An excerpt::

    URL: /shop/category/electronics
    # Electronics
    [8] combobox "Colour" value="Any colour" (17 options)
    [13] combobox "Sort by" value="Relevance" options=["Price: low…", "Price: high…", "Rating:…", "Name:…"]
    Showing 1-20 of 24 products (page 1 of 2)
    [16] link "Pulse Carbon Power Bank" · Cedar Lane · $191.00 · 1.0/5 (1 review) · In stock (27 left)

Every element keeps its id in `Observation.elements` whichever format shows it; both formats
cut whole lines and count the elements they show, so scrolling works alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import pairwise
from urllib.parse import urlsplit

from domplay.env import actions as A
from domplay.env.layout import Line
from domplay.env.observation import Element, Observation, ObservationConfig, Page, quote
from domplay.env.targets import acts_on

NATURAL_ACTIONS: tuple[type, ...] = (A.Fill, A.Select, A.Click)
"""An element's natural action is the first of these that works on it (see `repeated_name_ordinals`)."""

CUT_NOTE_TOKENS = 24
"""Tokens of the budget kept for the cut note."""
PLAIN_INPUT_TYPES = frozenset({None, "", "text", "search", "textarea"})
"""Textbox types the compact rendering does not name (they take any text)."""
MIN_WORDS_CUT = 2
"""Options are cut to their distinguishing words only when that drops at least this many words."""
RIDER_SEPARATOR = " · "
CELL_SEPARATOR = " | "


def render(
    page: Page, *, error: str | None = None, offset: int = 0, config: ObservationConfig = ObservationConfig()
) -> Observation:
    """Render `page` from element `offset` within the token budget, saying what was cut."""
    ordinals = repeated_name_ordinals(page.elements) if config.ids == "unnamed" else {}
    offset = max(0, min(offset, max(0, len(page.elements) - 1)))
    url = page.url if config.format == "lines" else _path(page.url)
    header = [f"URL: {url}"]
    if config.format == "lines" or not _title_in_heading(page):
        header.append(f"Title: {page.title}")
    if error is not None:
        header.append(f"Error: {error}")
    if offset > 0:
        header.append(f'[above: {offset} elements; scroll("up") shows them]')
    budget = config.max_tokens - sum(config.count_tokens(h) + 1 for h in header) - CUT_NOTE_TOKENS
    lines: list[str] = []
    shown = 0
    pieces = (
        _compact(page, offset, config, ordinals) if config.format == "compact" else _per_element(page, offset, config)
    )
    for line, count in pieces:
        cost = config.count_tokens(line) + 1
        if cost > budget:
            break
        budget -= cost
        lines.append(line)
        shown += count
    rest = len(page.elements) - offset - shown
    cut_note = None
    if rest > 0:
        cut_note = f'[cut: {rest} more elements below; scroll("down") shows them]'
        lines.append(cut_note)
    if not page.elements:
        lines.append("[the page has no visible elements]")
    return Observation(
        url=page.url,
        title=page.title,
        elements=page.elements,
        text="\n".join(header + lines),
        error=error,
        offset=offset,
        shown=shown,
        cut_note=cut_note,
    )


def _per_element(page: Page, offset: int, config: ObservationConfig) -> Iterator[tuple[str, int]]:
    for el in page.elements[offset:]:
        yield el.line(config.max_name_chars, config.max_options), 1


def _compact(page: Page, offset: int, config: ObservationConfig, ordinals: dict[int, int]) -> Iterator[tuple[str, int]]:
    """(text, elements it shows) of each line from element `offset` on."""
    lines = page.lines or tuple(Line(i, i + 1) for i in range(len(page.elements)))
    for line in lines:
        if line.end <= offset:
            continue
        if line.start < offset:  # a window that starts inside a line shows the rest element by element
            for el in page.elements[offset : line.end]:
                yield _alone(el, config, ordinals), 1
            continue
        yield compact_line(page.elements, line, config, ordinals), line.end - line.start


def compact_line(elements: tuple[Element, ...], line: Line, config: ObservationConfig, ordinals: dict[int, int]) -> str:
    """The compact text of one line of a page with these elements (`ordinals`: of repeated names,
    shown when only nameless elements show ids, see `repeated_name_ordinals`)."""
    if line.kind == "row":
        bounds = (*line.cells, line.end)
        cells = [" ".join(_inline(e, config, ordinals) for e in elements[a:b]) for a, b in pairwise(bounds)]
        return CELL_SEPARATOR.join(cells)
    if line.kind == "item":
        head = elements[line.head]
        same = head.name.casefold()
        before = [_text(e, config) for e in elements[line.start : line.head] if e.name.casefold() != same]
        after = [_text(e, config) for e in elements[line.head + 1 : line.end] if e.name.casefold() != same]
        text = " ".join([*before, _control(head, config, ordinals)])
        return RIDER_SEPARATOR.join([text, *after])
    if line.kind == "text":
        return " ".join(_text(e, config) for e in elements[line.start : line.end])
    return _alone(elements[line.start], config, ordinals)


def _title_in_heading(page: Page) -> bool:
    """The page's title says no more than one of its headings ("Alpine Wool Vest - Shop" over the
    heading "Alpine Wool Vest"): the compact rendering then leaves the title out."""
    main = page.title.split(" - ", 1)[0].strip()
    return bool(main) and any(e.role == "heading" and e.name == main for e in page.elements)


def _path(url: str) -> str:
    """`url` without scheme and host: the agent acts on one site, and `goto` takes paths."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _prefixes(options: list[str]) -> list[str]:
    """Each option cut to its first words that no other option starts with ("Express…" for
    "Express (2-3 business days) - $14.99"): enough to choose, and the constrained decoder
    completes the option from there."""
    words = [o.split(" ") for o in options]
    out = []
    for i, w in enumerate(words):
        n = 1
        while n < len(w) and any(j != i and v[:n] == w[:n] for j, v in enumerate(words)):
            n += 1
        cut = len(w) - n >= MIN_WORDS_CUT
        out.append(" ".join(w[:n]) + "…" if cut else " ".join(w))
    return out


def _alone(el: Element, config: ObservationConfig, ordinals: dict[int, int]) -> str:
    """An element on a line of its own."""
    if el.role == "heading":
        level = int(el.tag[1]) if el.tag[1:].isdigit() else 1
        return "#" * level + " " + _text(el, config)
    if el.role == "image":
        return f"image {quote(el.name, config.max_name_chars)}"
    return _inline(el, config, ordinals)


def _inline(el: Element, config: ObservationConfig, ordinals: dict[int, int]) -> str:
    return _control(el, config, ordinals) if el.interactive else _text(el, config)


def _text(el: Element, config: ObservationConfig) -> str:
    name = el.name
    return name if len(name) <= config.max_name_chars else name[: config.max_name_chars - 1] + "…"


def repeated_name_ordinals(elements: Sequence[Element]) -> dict[int, int]:
    """Element id -> its ordinal among the elements sharing its name that its natural action (fill a
    textbox, select a select, click the rest) works on, for names that repeat: what an action by name
    must add (`click("Edit", 2)`, `env.targets`), shown so it is copied rather than counted."""
    groups: dict[tuple[type, str], list[int]] = defaultdict(list)
    for el in elements:
        kind = next((k for k in NATURAL_ACTIONS if acts_on(k, el)), None)
        if kind is not None and el.name:
            groups[(kind, el.name)].append(el.id)
    return {el_id: i for ids in groups.values() if len(ids) > 1 for i, el_id in enumerate(ids, 1)}


def _control(el: Element, config: ObservationConfig, ordinals: dict[int, int]) -> str:
    """An interactive element: id (all of them, or only where it has no name to be called by),
    role and name (with its ordinal where the name repeats), then only the state that says something."""
    if config.format == "compact" and config.ids == "unnamed" and el.name:
        ordinal = ordinals.get(el.id)
        parts = [f"{el.role} {quote(el.name, config.max_name_chars)}" + (f", {ordinal}" if ordinal else "")]
    else:
        parts = [f"[{el.id}] {el.role} {quote(el.name, config.max_name_chars)}"]
    if el.role == "textbox" and el.input_type not in PLAIN_INPUT_TYPES:
        parts.append(f"type={el.input_type}")
    if el.value:
        parts.append(f"value={quote(el.value, config.max_name_chars)}")
    others = [o for o in el.options if o != el.value]
    if 0 < len(others) <= config.max_options:
        parts.append("options=[" + ", ".join(quote(o, config.max_name_chars) for o in _prefixes(others)) + "]")
    elif others:
        parts.append(f"({len(el.options)} options)")
    if el.checked:
        parts.append("checked")
    parts += el.tree_state()
    if el.disabled:
        parts.append("disabled")
    return " ".join(parts)
