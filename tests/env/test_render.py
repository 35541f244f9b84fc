"""The compact and per-element renderings of real pages of the built-in sites (DomEnv, in-process)."""

from __future__ import annotations

import pytest

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.observation import ObservationConfig
from domplay.sites.app import SitesApp

CATEGORY = "/shop/category/electronics"
WHOLE_PAGE_TOKENS = 4096
"""A budget no built-in page reaches: the whole page is shown."""
SMALL_TOKENS = 256


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(seed=0, names=["shop", "forum"])


def observe(sites: SitesApp, url: str, **config):
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(**config)), sites=sites)
    try:
        return env.reset(options={"start_url": url})[0], env
    finally:
        env.close()


def cards(obs) -> list[tuple[int, list[str]]]:
    """Each product link of a listing with the texts after it (brand, price, rating, stock)."""
    out = []
    for i, e in enumerate(obs.elements):
        if e.role == "link" and (e.href or "").startswith("/shop/product/"):
            out.append((e.id, [t.name for t in obs.elements[i + 1:i + 5] if t.role == "text"]))
    return out


def test_category_page_shows_each_product_on_one_line(sites):
    obs, _ = observe(sites, CATEGORY, max_tokens=WHOLE_PAGE_TOKENS)
    products = cards(obs)
    assert len(products) == 20
    lines = obs.text.split("\n")
    for product_id, texts in products:
        assert len(texts) == 4, texts  # brand, price, rating, stock
        line = next(x for x in lines if x.startswith(f"[{product_id}] link "))
        for text in texts:
            assert text in line, (text, line)
    assert obs.cut_note is None and obs.shown == len(obs.elements)
    assert '] text "' not in obs.text  # text has no ids of its own: it rides or stands alone
    old, _ = observe(sites, CATEGORY, max_tokens=WHOLE_PAGE_TOKENS, format="lines")
    assert len(obs.text) < 0.8 * len(old.text)


def test_both_formats_keep_every_element_and_its_options(sites):
    compact, _ = observe(sites, CATEGORY, max_tokens=WHOLE_PAGE_TOKENS)
    lines, _ = observe(sites, CATEGORY, max_tokens=WHOLE_PAGE_TOKENS, format="lines")
    assert compact.elements == lines.elements
    colour = next(e for e in compact.elements if e.name == "Colour")
    assert len(colour.options) > ObservationConfig().max_options  # too many to list...
    assert f"({len(colour.options)} options)" in compact.text  # ...so the line says how many
    assert f'[{colour.id}] combobox "Colour" value="Any colour"' in compact.text


def test_long_options_are_cut_to_their_distinguishing_words(sites):
    obs, _ = observe(sites, "/shop/search?q=ceramic", max_tokens=WHOLE_PAGE_TOKENS)
    sort = next(e for e in obs.elements if e.name == "Sort by")
    assert "Price: low to high" in sort.options
    line = next(x for x in obs.text.split("\n") if x.startswith(f"[{sort.id}] "))
    assert '"Price: low…"' in line and '"Price: high…"' in line and "Relevance" in line


def test_the_lines_format_is_one_element_per_line(sites):
    obs, _ = observe(sites, CATEGORY, max_tokens=WHOLE_PAGE_TOKENS, format="lines")
    product_id, texts = cards(obs)[0]
    assert f'[{product_id + 1}] text "{texts[0]}"' in obs.text
    assert "URL: http://127.0.0.1:8000/shop/category/electronics" in obs.text


def test_a_page_that_does_not_fit_is_cut_and_scrolls_line_by_line(sites):
    obs, _ = observe(sites, CATEGORY, max_tokens=SMALL_TOKENS)
    assert obs.cut_note is not None and 'scroll("down")' in obs.text
    assert obs.shown + int(obs.cut_note.split()[1]) == len(obs.elements)
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(max_tokens=SMALL_TOKENS)), sites=sites)
    try:
        first, _ = env.reset(options={"start_url": CATEGORY})
        second, *_ = env.step('scroll("down")')
    finally:
        env.close()
    assert second.offset == first.shown and "[above:" in second.text
    top = second.text.split("\n")[3]  # after URL, Title and the [above: …] note
    assert second.elements[second.offset].name in top and top not in first.text


def test_table_rows_are_one_line_each(sites):
    obs, _ = observe(sites, "/forum/", max_tokens=WHOLE_PAGE_TOKENS)
    board = next(e for e in obs.elements if e.role == "link" and e.name == "Gardening")
    row = next(x for x in obs.text.split("\n") if x.startswith(f"[{board.id}] "))
    assert row.count(" | ") == 2  # board | description | threads
    assert "Board | Description | Threads" in obs.text


def test_text_repeating_an_element_is_not_shown_twice():
    from selectolax.lexbor import LexborHTMLParser

    from domplay.env.observation import extract_page, stamp_tree
    from domplay.env.render import render

    tree = LexborHTMLParser('<div><img alt="Trail Boot"><a href="/p/2">Trail Boot</a><div>$95.00</div></div>'
                            '<p>Brand: <a href="/b/n">Northstar</a></p>')
    stamp_tree(tree)
    text = render(extract_page(tree, "http://127.0.0.1:8000/shoes"), config=ObservationConfig()).text
    assert text.split("\n") == ["URL: /shoes", "Title: ", '[2] link "Trail Boot" · $95.00',
                                'Brand: [5] link "Northstar"']
