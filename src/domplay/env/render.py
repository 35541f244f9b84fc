"""A page as the text the agent reads, within a token budget that says what it cut.

Two formats (`ObservationConfig.format`). `lines`, one element per line::

    [16] link "Pulse Carbon Power Bank"
    [17] text "Cedar Lane"
    [18] text "$191.00"

and `compact` (the default), one line per line of `Page.lines` (`domplay.env.layout`): text
that describes an element rides on its line (after it, split by spaces), a table row is one line
(cells split by `|`), the links of a text block share its line, headings are marked with `#`, a
link is its quoted name alone and other controls say their role first (`select` for a select),
options are listed bare (quoted only where a comma or quote would make the list ambiguous), only
interactive elements show ids (with `ids: unnamed`, only those without a name), empty values and
plain input types are left out, the URL is shown without its origin and empty query parameters,
and the title only when the headings and URL path do not say it. An excerpt (`ids: all`)::

    URL: /shop/category/electronics
    [1] "Shop home" [2] "All products" [3] "Cart (0)" [4] "Orders"
    # Electronics
    [8] select "Colour" value="Any colour" (17 options)
    [13] select "Sort by" value="Relevance" options=[Price: low…, Price: high…, Rating:…, Name:…]
    Showing 1-20 of 24 products (page 1 of 2)
    [16] "Pulse Carbon Power Bank" Cedar Lane $191.00 1.0/5 (1 review) In stock (27 left)

Every element keeps its id in `Observation.elements` whichever format shows it; both formats
cut whole lines and count the elements they show, so scrolling works alike. The budget is in
tokens as `ObservationConfig.count_tokens` counts them; the cut note's room is kept only when
the page does not fit whole.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import pairwise
from urllib.parse import urlsplit

from domplay.env import actions as A
from domplay.env.layout import Line
from domplay.env.observation import Element, Observation, ObservationConfig, Page, quote
from domplay.env.targets import acts_on, same_link

NATURAL_ACTIONS: tuple[type, ...] = (A.Fill, A.Select, A.Click)
"""An element's natural action is the first of these that works on it (see `repeated_name_ordinals`)."""

CUT_NOTE_TOKENS = 24
"""Tokens of the budget kept for the cut note."""
PLAIN_INPUT_TYPES = frozenset({None, "", "text", "search", "textarea"})
"""Textbox types the compact rendering does not name (they take any text)."""
MIN_WORDS_CUT = 2
"""Options are cut to their distinguishing words only when that drops at least this many words."""
OPTION_DELIMITERS = frozenset(',"[]')
"""Characters that make an option list quote its options."""
WORD = re.compile(r"\w+")
RIDER_SEPARATOR = " "
CELL_SEPARATOR = " |"
"""Between two cells of a row; a space follows before a word (a tokenizer reads \" word\" as one
token), none before a number or a quoted name (\" 2\" is two tokens)."""


def render(
    page: Page, *, error: str | None = None, offset: int = 0, config: ObservationConfig = ObservationConfig()
) -> Observation:
    """Render `page` from element `offset` within the token budget, saying what was cut."""
    ordinals = repeated_name_ordinals(page.elements) if config.ids == "unnamed" else {}
    offset = max(0, min(offset, max(0, len(page.elements) - 1)))
    url = page.url if config.format == "lines" else _path(page.url)
    header = [f"URL: {url}"]
    if config.format == "lines" or not _title_is_said(page):
        header.append(f"Title: {page.title}")
    if error is not None:
        header.append(f"Error: {error}")
    if offset > 0:
        header.append(f'[above: {offset} elements; scroll("up") shows them]')
    room = config.max_tokens - sum(config.count_tokens(h) + 1 for h in header)
    pieces = (
        _compact(page, offset, config, ordinals) if config.format == "compact" else _per_element(page, offset, config)
    )
    lines, shown = _fit(pieces, room, config)
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


def _fit(pieces: Iterator[tuple[str, int]], room: int, config: ObservationConfig) -> tuple[list[str], int]:
    """The first lines of `pieces` (text, elements it shows) that fit in `room` tokens, and how many
    elements they show: all of them when they fit, else those that leave room for the cut note."""
    taken: list[tuple[str, int]] = []
    before_note = 0  # how many of `taken` fit with the cut note
    used = 0
    for line, count in pieces:
        used += config.count_tokens(line) + 1
        if used > room:
            taken = taken[:before_note]
            break
        taken.append((line, count))
        if used <= room - CUT_NOTE_TOKENS:
            before_note = len(taken)
    return [line for line, _ in taken], sum(count for _, count in taken)


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
        return "".join(
            (CELL_SEPARATOR + (" " if cell[:1].isalpha() else "") if i else "") + cell for i, cell in enumerate(cells)
        )
    if line.kind == "item":
        head = elements[line.head]
        same = head.name.casefold()
        before = [_text(e, config) for e in elements[line.start : line.head] if e.name.casefold() != same]
        after = [_text(e, config) for e in elements[line.head + 1 : line.end] if e.name.casefold() != same]
        text = " ".join([*before, _control(head, config, ordinals)])
        return RIDER_SEPARATOR.join([text, *after])
    if line.kind == "text":
        return " ".join(_inline(e, config, ordinals) for e in elements[line.start : line.end])
    return _alone(elements[line.start], config, ordinals)


def _title_is_said(page: Page) -> bool:
    """The page's title says no more than its headings and URL path ("Alpine Wool Vest - Shop" over
    the heading "Alpine Wool Vest", "Search: boots - Shop" over 'Results for "boots"' at /shop/search,
    or no title at all): the compact rendering then leaves the title out."""
    main = page.title.split(" - ", 1)[0]
    said = " ".join([urlsplit(page.url).path, *(e.name for e in page.elements if e.role == "heading")])
    return set(WORD.findall(main.casefold())) <= set(WORD.findall(said.casefold()))


def _path(url: str) -> str:
    """`url` without scheme and host (the agent acts on one site, and `goto` takes paths) and
    without empty query parameters (`&brand=&color=` of a form sent with its fields blank)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    query = "&".join(p for p in parts.query.split("&") if p and not p.endswith("="))
    return (parts.path or "/") + (f"?{query}" if query else "")


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
    return _cut(el.name, config)


def _cut(text: str, config: ObservationConfig) -> str:
    return text if len(text) <= config.max_name_chars else text[: config.max_name_chars - 1] + "…"


def repeated_name_ordinals(elements: Sequence[Element]) -> dict[int, int]:
    """Element id -> its ordinal among the elements sharing its name that its natural action (fill a
    textbox, select a select, click the rest) works on, for names that repeat, unless all of them are
    one link (`same_link`): what an action by name must add (`click("Edit", 2)`, `env.targets`), shown
    so it is copied rather than counted."""
    groups: dict[tuple[type, str], list[Element]] = defaultdict(list)
    for el in elements:
        kind = next((k for k in NATURAL_ACTIONS if acts_on(k, el)), None)
        if kind is not None and el.name:
            groups[(kind, el.name)].append(el)
    return {
        el.id: i for same in groups.values() if len(same) > 1 and not same_link(same) for i, el in enumerate(same, 1)
    }


def _role_word(el: Element) -> str:
    """What the compact rendering calls an element before its quoted name: nothing for a link
    (the most common control: a quoted name alone is a link), `select` for a select (the action
    that works on it), the role otherwise."""
    if el.role == "link":
        return ""
    return ("select" if el.tag == "select" else el.role) + " "


def _option_list(options: list[str], config: ObservationConfig) -> str:
    """Options split by commas, quoted only when one of them holds a character that would make
    the list ambiguous (a comma, quote or bracket)."""
    if any(c in o for o in options for c in OPTION_DELIMITERS):
        return ", ".join(quote(o, config.max_name_chars) for o in options)
    return ", ".join(_cut(o, config) for o in options)


def _control(el: Element, config: ObservationConfig, ordinals: dict[int, int]) -> str:
    """An interactive element: id (all of them, or only where it has no name to be called by),
    role and name (with its ordinal where the name repeats), then only the state that says something."""
    said = _role_word(el) + quote(el.name, config.max_name_chars)
    if config.ids == "unnamed" and el.name:
        ordinal = ordinals.get(el.id)
        parts = [said + (f", {ordinal}" if ordinal else "")]
    else:
        parts = [f"[{el.id}] {said}"]
    if el.role == "textbox" and el.input_type not in PLAIN_INPUT_TYPES:
        parts.append(f"type={el.input_type}")
    if el.value:
        parts.append(f"value={quote(el.value, config.max_name_chars)}")
    others = [o for o in el.options if o != el.value]
    if 0 < len(others) <= config.max_options:
        parts.append("options=[" + _option_list(_prefixes(others), config) + "]")
    elif others:
        parts.append(f"({len(el.options)} options)")
    if el.checked:
        parts.append("checked")
    parts += el.tree_state()
    if el.disabled:
        parts.append("disabled")
    return " ".join(parts)
