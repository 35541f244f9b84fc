"""One extraction function for both envs: HTML in, numbered elements and their lines out.

DomEnv feeds it the tree it parsed itself; BrowserEnv feeds it the live DOM serialized
after a small script has stamped every element (`data-dp`) and reflected live form values
into attributes (`value`, `checked`, `selected`). Both envs therefore see the same
Observation for the same page, and an observation id maps back to a stamp that each env
can act on.

Elements are numbered from 1 in document order; `extract_page` also records how the compact
rendering groups them into lines (`domplay.env.layout`). `domplay.env.render` turns a Page into
the text the agent reads within a token budget, in the format `ObservationConfig.format` names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from pydantic import Field
from selectolax.lexbor import LexborHTMLParser, LexborNode

from domplay.env.layout import TEXT_INLINE_TAGS, Kind, Line, Place, layout
from domplay.settings import Settings

STAMP_ATTR = "data-dp"
"""Attribute holding an element's stamp: its index in document order on that page."""
HIDDEN_ATTR = "data-dp-hidden"
"""Set by BrowserEnv on elements the browser does not render (computed style)."""
CLICK_ATTR = "data-dp-click"
"""Set by BrowserEnv on text a script made clickable, to the role it plays (`CLICK_ROLES`)."""
LEVEL_ATTR = "data-dp-level"
EXPANDED_ATTR = "data-dp-expanded"
"""A clickable tree item's depth (1 = top) and, for a folder, whether its list is open."""
CLICK_ROLES = frozenset({"link", "treeitem"})

SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "svg",
        "iframe",
        "object",
        "embed",
        "canvas",
        "meta",
        "link",
        "-comment",
    }
)
TEXT_INPUT_TYPES = frozenset(
    {
        "text",
        "search",
        "email",
        "password",
        "number",
        "tel",
        "url",
        "date",
        "datetime-local",
        "month",
        "week",
        "time",
        "color",
        "range",
        "",
    }
)
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset", "image"})
ROLE_BY_ATTR = frozenset(
    {"button", "link", "tab", "checkbox", "radio", "menuitem", "option", "switch", "combobox", "textbox", "searchbox"}
)
INTERACTIVE_CSS = f"a[href], button, input, select, textarea, summary, [role], [contenteditable], [{CLICK_ATTR}]"
_MAYBE_INTERACTIVE = frozenset({"a", "button", "summary", "input", "textarea", "select"})
_MARKED_INTERACTIVE = frozenset({"role", "contenteditable", CLICK_ATTR})
"""Attributes that make any other element interactive."""
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_WS = re.compile(r"\s+")

TokenCounter = Callable[[str], int]


TOKEN_PIECES = re.compile(r" ?[^\W\d_]+| ?[^\w\s]{1,2}|\d|\s+|_")
"""How a BPE tokenizer such as SmolLM2's splits observation text, roughly: a word or one or two
punctuation marks with the space before them, each digit (`" 12"` is three tokens), a run of spaces."""
LETTERS_PER_TOKEN = 6
"""A word longer than this costs one token more per this many letters (names such as
"Nakamura" split in pieces)..."""
BARE_LETTERS_PER_TOKEN = 5
"""...and a word with no space before it (after a quote, at the start of a line) splits sooner."""


def approx_tokens(text: str) -> int:
    """Cheap token estimate for observation text (see TOKEN_PIECES): 0.92x to 1.10x SmolLM2's count
    on the built-in sites' pages, 1.01x on the median one (the observations of bench/observation_budget.py;
    characters / 2.2, the estimate before, ranged from 0.64x on pages of numbers to 1.7x)."""
    n = 0
    for piece in TOKEN_PIECES.findall(text):
        word = piece.lstrip(" ")
        n += 1
        if word[:1].isalpha():
            per_token = LETTERS_PER_TOKEN if piece[0] == " " else BARE_LETTERS_PER_TOKEN
            n += (len(word) - 1) // per_token + sum(not c.isascii() for c in word)
    return n


@dataclass(frozen=True)
class Element:
    """One line of an observation: an interactive or text element of the page."""

    id: int
    """Observation id shown to the agent (`[id]`), numbered from 1 in document order."""
    stamp: int
    """The element's `data-dp` stamp: how the env finds it on the page."""
    role: str
    name: str
    tag: str
    value: str | None = None
    options: tuple[str, ...] = ()
    checked: bool | None = None
    disabled: bool = False
    readonly: bool = False
    input_type: str | None = None
    href: str | None = None
    level: int | None = None
    """A tree item's depth (1 = top level)."""
    expanded: bool | None = None
    """A tree item that holds others: whether they show (None: it holds none)."""

    @property
    def interactive(self) -> bool:
        return self.role not in ("text", "heading", "cell", "columnheader", "image")

    def line(self, max_name_chars: int = 120, max_options: int = 12) -> str:
        """The compact rendering of this element."""
        parts = [f"[{self.id}] {self.role} {quote(self.name, max_name_chars)}"]
        if self.input_type not in (None, "text", "") and self.role == "textbox":
            parts.append(f"type={self.input_type}")
        if self.value is not None:
            parts.append(f"value={quote(self.value, max_name_chars)}")
        if self.options:
            shown = ", ".join(quote(o, 40) for o in self.options[:max_options])
            more = f", +{len(self.options) - max_options} more" if len(self.options) > max_options else ""
            parts.append(f"options=[{shown}{more}]")
        if self.checked:
            parts.append("checked")
        parts += self.tree_state()
        if self.disabled:
            parts.append("disabled")
        return " ".join(parts)

    def tree_state(self) -> list[str]:
        """How a rendering shows a tree item's place: `level=2`, then `expanded` or `collapsed`."""
        parts = [f"level={self.level}"] if self.level is not None else []
        if self.expanded is not None:
            parts.append("expanded" if self.expanded else "collapsed")
        return parts


@dataclass(frozen=True)
class Page:
    """Everything extracted from one page, before budgeting."""

    url: str
    title: str
    elements: tuple[Element, ...]
    requires_js: bool = False
    lines: tuple[Line, ...] = ()
    """How the compact rendering groups `elements` into lines (see `domplay.env.layout`)."""

    def by_id(self, element_id: int) -> Element | None:
        if 1 <= element_id <= len(self.elements):
            return self.elements[element_id - 1]
        return None


@dataclass(frozen=True)
class Observation:
    """What the agent sees after reset or a step."""

    url: str
    title: str
    elements: tuple[Element, ...]
    """All elements of the page (the rendered text may show only part of them)."""
    text: str
    """The rendered observation within the token budget."""
    error: str | None = None
    """The last action's error, if any (also in `text`)."""
    offset: int = 0
    """Index of the first element shown (moved by scroll)."""
    shown: int = 0
    """How many elements `text` shows."""
    cut_note: str | None = None
    """What was cut to fit the budget, in words (also in `text`)."""

    def element(self, element_id: int) -> Element | None:
        if 1 <= element_id <= len(self.elements):
            return self.elements[element_id - 1]
        return None

    @property
    def ids(self) -> frozenset[int]:
        """Ids the agent can act on (all elements, shown or not)."""
        return frozenset(e.id for e in self.elements)


MAX_NESTING_DEPTH = 256
"""Elements nested deeper than this are left out of a page's observation: real pages nest a few dozen
levels, and the walk recurses per level, so a page of 1,000 nested divs would exceed Python's
recursion limit (browsers cap nesting too: Chromium's HTML parser at 512)."""


# -- stamping ---------------------------------------------------------------------------
def stamp_tree(tree: LexborHTMLParser) -> dict[int, LexborNode]:
    """Stamp every element of `tree` with `data-dp` in document order; return stamp → node."""
    nodes: dict[int, LexborNode] = {}
    root = tree.root
    if root is None:
        return nodes
    for i, node in enumerate(root.traverse(include_text=False)):
        node.attrs[STAMP_ATTR] = str(i)
        nodes[i] = node
    return nodes


# -- extraction -------------------------------------------------------------------------
@dataclass
class _Walk:
    """What the walk over one page reads (labels, the tree) and writes (elements and their places)."""

    labels: dict[str, str]
    tree: LexborHTMLParser
    out: list[Element] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)

    def add(self, el: Element, place: Place) -> None:
        self.out.append(el)
        self.places.append(place)


def extract_page(tree: LexborHTMLParser, url: str) -> Page:
    """The elements of a stamped page, numbered from 1 in document order, and their lines."""
    walk = _Walk(_label_texts(tree), tree)
    body = tree.body
    if body is not None:
        _walk(body, (), walk)
    title_node = tree.css_first("title")
    title = _collapse(title_node.text()) if title_node is not None else ""
    lines = layout([_kind(e) for e in walk.out], walk.places)
    return Page(url=url, title=title, elements=tuple(walk.out), requires_js=requires_js(tree), lines=lines)


def requires_js(tree: LexborHTMLParser) -> bool:
    """True when a page says it needs JavaScript.

    Built-in sites mark such pages with `<meta name="domplay:requires" content="javascript">`;
    other pages are judged by a `<noscript>` with text next to scripts (the common way a
    page says "enable JavaScript").
    """
    meta = tree.css_first('meta[name="domplay:requires"]')
    if meta is not None and "javascript" in (meta.attributes.get("content") or ""):
        return True
    if tree.css_first("script") is None:
        return False
    return any(_collapse(n.text()) for n in tree.css("body noscript"))


def _kind(el: Element) -> Kind:
    if el.interactive:
        return "link" if el.role in ("link", "button") else "interactive"
    return {"heading": "heading", "image": "image"}.get(el.role, "text")  # type: ignore[return-value]


def _walk(node: LexborNode, place: Place, walk: _Walk) -> None:
    for child in node.iter(include_text=False):
        if child.tag not in SKIP_TAGS:
            _walk_one(child, place, walk)


def _walk_one(child: LexborNode, place: Place, walk: _Walk) -> None:
    if len(place) >= MAX_NESTING_DEPTH:
        return  # deeper markup is not read (the walk recurses per level)
    attrs = child.attributes  # selectolax builds a new dict per access: read it once
    if _hidden(attrs):
        return
    tag, stamp = child.tag or "", _stamp(attrs)  # elements always have a tag; only the stub allows None
    here = (*place, (child.mem_id, tag))
    out = walk.out
    el = _interactive(child, tag, attrs, walk.labels, walk.tree, len(out) + 1)
    if el is not None:
        walk.add(el, here)
        return  # an interactive element's content is its name
    if tag == "img":
        alt = _collapse(attrs.get("alt") or "")
        if alt:
            walk.add(Element(id=len(out) + 1, stamp=stamp, role="image", name=alt, tag=tag), here)
        return
    if tag == "label" and _labels_control(child):
        _walk(child, here, walk)  # its text is the control's name
        return
    # Text runs in document order: text nodes and plain inline children (`Price: <b>$5</b>`)
    # join into one line; any other child ends the run and is walked on its own.
    role = _text_role(tag)
    run: list[str] = []
    for c in child.iter(include_text=True):
        ctag = c.tag
        if ctag == "-text":
            run.append(c.text_content or "")
            continue
        if ctag in SKIP_TAGS:
            continue
        if ctag in TEXT_INLINE_TAGS:
            cattrs = c.attributes
            if (
                not _hidden(cattrs)
                and CLICK_ATTR not in cattrs
                and not _has_interactive(c)
                and (ctag != "span" or "class" not in cattrs)
            ):
                run.append(c.text(deep=True) or "")
                continue
        _flush(run, role, stamp, tag, here, walk)
        _walk_one(c, here, walk)
    _flush(run, role, stamp, tag, here, walk)


def _flush(run: list[str], role: str, stamp: int, tag: str, place: Place, walk: _Walk) -> None:
    if run:
        text = _collapse("".join(run))
        run.clear()
        if text:
            walk.add(Element(id=len(walk.out) + 1, stamp=stamp, role=role, name=text, tag=tag), place)


class _Common(TypedDict):
    """The fields every interactive Element shares."""

    id: int
    stamp: int
    tag: str
    disabled: bool
    readonly: bool


def _interactive(
    node: LexborNode, tag: str, attrs: dict, labels: dict[str, str], tree: LexborHTMLParser, next_id: int
) -> Element | None:
    if tag not in _MAYBE_INTERACTIVE and not _MARKED_INTERACTIVE.intersection(attrs):
        return None
    disabled = "disabled" in attrs
    readonly = "readonly" in attrs and tag in ("input", "textarea")
    role = (attrs.get("role") or "").strip()
    common = _Common(id=next_id, stamp=_stamp(attrs), tag=tag, disabled=disabled, readonly=readonly)
    if tag == "a" and attrs.get("href") is not None:
        return Element(role="link", name=_name(node, labels, tree), href=attrs.get("href"), **common)
    if tag == "button" or tag == "summary":
        return Element(role="button", name=_name(node, labels, tree), **common)
    if tag == "input":
        itype = (attrs.get("type") or "text").lower()
        if itype == "hidden":
            return None
        if itype in BUTTON_INPUT_TYPES:
            default = {"submit": "Submit", "reset": "Reset"}.get(itype, itype)
            name = _name(node, labels, tree) or attrs.get("value") or default
            return Element(role="button", name=name, input_type=itype, **common)
        if itype in ("checkbox", "radio"):
            return Element(
                role=itype, name=_name(node, labels, tree), checked="checked" in attrs, input_type=itype, **common
            )
        if itype == "file":
            return Element(role="button", name=_name(node, labels, tree) or "Choose file", input_type=itype, **common)
        return Element(
            role="textbox", name=_name(node, labels, tree), value=attrs.get("value") or "", input_type=itype, **common
        )
    if tag == "textarea":
        value = attrs.get("value")
        if value is None:
            value = node.text(deep=True)
        return Element(role="textbox", name=_name(node, labels, tree), value=value, input_type="textarea", **common)
    if tag == "select":
        options = list(node.css("option"))
        texts = tuple(_collapse(o.text()) for o in options)
        first = texts[0] if texts else ""
        selected = next((t for o, t in zip(options, texts, strict=True) if "selected" in o.attributes), first)
        return Element(role="combobox", name=_name(node, labels, tree), value=selected, options=texts, **common)
    if role in ROLE_BY_ATTR:
        checked = None
        if role in ("checkbox", "radio", "switch"):
            checked = (attrs.get("aria-checked") or "") == "true"
        return Element(role=role, name=_name(node, labels, tree), checked=checked, **common)
    if attrs.get("contenteditable") in ("", "true"):
        return Element(role="textbox", name=_name(node, labels, tree), value=_collapse(node.text()), **common)
    click_role = attrs.get(CLICK_ATTR)
    if click_role in CLICK_ROLES:
        level = attrs.get(LEVEL_ATTR) or ""
        expanded = attrs.get(EXPANDED_ATTR)
        return Element(
            role=click_role,
            name=_name(node, labels, tree),
            level=int(level) if level.isdigit() else None,
            expanded=None if expanded is None else expanded == "true",
            **common,
        )
    return None


def _name(node: LexborNode, labels: dict[str, str], tree: LexborHTMLParser) -> str:
    """Accessible name, simplified: aria-label, aria-labelledby, label, text, placeholder, title, alt."""
    attrs = node.attributes
    if attrs.get("aria-label"):
        return _collapse(attrs["aria-label"])
    labelledby = attrs.get("aria-labelledby")
    if labelledby:
        parts = [tree.css_first(f"#{i}") for i in labelledby.split() if _css_ident(i)]
        text = " ".join(_collapse(p.text()) for p in parts if p is not None)
        if text:
            return text
    el_id = attrs.get("id")
    if el_id and el_id in labels:
        return labels[el_id]
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "form"):
        if parent.tag == "label":
            return _collapse(_text_without(parent, node))
        parent = parent.parent
    if node.tag not in ("input", "select", "textarea"):
        text = _collapse(node.text())
        if text:
            return text
        img = node.css_first("img[alt]")
        if img is not None:
            return _collapse(img.attributes.get("alt") or "")
    for key in ("placeholder", "title", "alt", "name"):
        if attrs.get(key):
            return _collapse(attrs[key])
    return ""


def _label_texts(tree: LexborHTMLParser) -> dict[str, str]:
    return {target: _collapse(lab.text()) for lab in tree.css("label[for]") if (target := lab.attributes.get("for"))}


def _labels_control(label: LexborNode) -> bool:
    return bool(label.attributes.get("for")) or label.css_first("input, select, textarea") is not None


def _text_without(label: LexborNode, control: LexborNode) -> str:
    parts = []
    for child in label.iter(include_text=True):
        if child.tag in ("input", "select", "textarea") or child.mem_id == control.mem_id:
            continue
        parts.append(child.text(deep=True) if child.tag != "-text" else (child.text_content or ""))
    return " ".join(parts)


def _has_interactive(node: LexborNode) -> bool:
    return node.css_first(INTERACTIVE_CSS) is not None


def _hidden(attrs: dict) -> bool:
    if "hidden" in attrs or HIDDEN_ATTR in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    if style:
        s = style.replace(" ", "").lower()
        return "display:none" in s or "visibility:hidden" in s
    return False


def _text_role(tag: str) -> str:
    if tag in HEADINGS:
        return "heading"
    return {"td": "cell", "th": "columnheader"}.get(tag, "text")


def _stamp(attrs: dict) -> int:
    raw = attrs.get(STAMP_ATTR)
    return int(raw) if raw is not None and raw.isdigit() else -1


def _collapse(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _css_ident(s: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][\w-]*", s))


def quote(text: str, limit: int) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- budgeting --------------------------------------------------------------------------
class ObservationConfig(Settings):
    """How observations are rendered; recorded with every run."""

    max_tokens: int = Field(
        1024,
        ge=64,
        description="token budget of the rendered observation (header included), as count_tokens "
        "counts them; at 1024 the compact rendering shows 96 % of the held-out reference steps their "
        "whole page and none needs a scroll (bench/observation_budget.py)",
    )
    max_name_chars: int = Field(120, ge=1)
    max_options: int = Field(12, ge=1)
    format: Literal["compact", "lines"] = Field(
        "compact",
        description="compact: text that describes an element rides on its line, table rows and text "
        "blocks are one line each (domplay.env.render); lines: one line per element, as before (kept for comparison)",
    )
    ids: Literal["all", "unnamed"] = Field(
        "unnamed",
        description="compact format: which interactive elements show their [id]: all (for agents that "
        "act by id, policy.action_form: id) or unnamed (only elements without a name; the others are acted on by "
        'name, and a name that repeats shows its ordinal, "Edit", 2, unless all its elements are one link)',
    )
    count_tokens: TokenCounter = Field(approx_tokens, exclude=True, repr=False)
