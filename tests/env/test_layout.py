"""Which elements share a compact line, on small hand-written pages (through `extract_page`)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from domplay.env.layout import MAX_BLOCK_ELEMENTS
from domplay.env.observation import extract_page, stamp_tree

PAGE = """<html><body>
<nav><a href="/">Home</a><a href="/cart">Cart</a></nav>
<h1>Shoes</h1>
<div class="card"><a href="/p/1">Trail Runner</a><div>Northstar</div><div>$80.00</div></div>
<div class="card"><img alt="Trail Boot"><a href="/p/2">Trail Boot</a><div>$95.00</div></div>
<p>Brand: <a href="/b/n">Northstar</a></p>
<section><h2>Help</h2><p>Questions?</p><a href="/faq">FAQ</a></section>
<p>Price: <span class="p">$5</span> each</p>
<table><tr><th>Name</th><th>Qty</th></tr>
<tr><td><a href="/p/1">Trail Runner</a> <a href="/t/x">#new</a></td><td>2</td></tr></table>
</body></html>"""


def lines_of(html: str):
    tree = LexborHTMLParser(html)
    stamp_tree(tree)
    page = extract_page(tree, "http://127.0.0.1:8000/")
    return [(line.kind, [e.name for e in page.elements[line.start : line.end]]) for line in page.lines], page


def test_items_rows_and_text_blocks():
    lines, page = lines_of(PAGE)
    assert lines == [
        ("text", ["Home", "Cart"]),  # the links of one block share a line
        ("single", ["Shoes"]),
        ("item", ["Trail Runner", "Northstar", "$80.00"]),
        ("item", ["Trail Boot", "Trail Boot", "$95.00"]),  # image alt, then the link
        ("item", ["Brand:", "Northstar"]),
        ("single", ["Help"]),
        ("single", ["Questions?"]),
        ("single", ["FAQ"]),  # a heading is no item's text
        ("text", ["Price:", "$5", "each"]),
        ("row", ["Name", "Qty"]),
        ("row", ["Trail Runner", "#new", "2"]),
    ]
    row = page.lines[-1]
    assert row.cells == (row.start, row.start + 2)  # two links in the first cell, then "2"
    assert [line.start for line in page.lines][1:] == [line.end for line in page.lines][:-1]  # contiguous


def test_a_block_of_links_and_text_is_one_line_but_form_fields_are_not():
    lines, _ = lines_of(
        "<nav><a href='/'>Home</a> <a href='/s'>Search</a> <button>Log out</button> "
        "<span>Logged in as <a href='/u/vera'>vera</a></span></nav>"
        "<form><label>Name <input name=n></label> <label>City <input name=c></label><button>Save</button></form>"
    )
    assert lines == [
        ("text", ["Home", "Search", "Log out"]),
        ("item", ["Logged in as", "vera"]),  # a box of text around one link stays an item
        ("single", ["Name"]),
        ("single", ["City"]),
        ("single", ["Save"]),
    ]


def test_a_long_block_goes_on_in_the_next_line():
    links = "".join(f"<a href='/t/{i}'>#{i}</a> " for i in range(MAX_BLOCK_ELEMENTS + 3))
    lines, _ = lines_of(f"<p>{links}</p>")
    assert [len(names) for _, names in lines] == [MAX_BLOCK_ELEMENTS, 3]
