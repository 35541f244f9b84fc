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
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(**{"ids": "all", **config})), sites=sites)
    try:
        return env.reset(options={"start_url": url})[0], env
    finally:
        env.close()


def cards(obs) -> list[tuple[int, list[str]]]:
    """Each product link of a listing with the texts after it (brand, price, rating, stock)."""
    out = []
    for i, e in enumerate(obs.elements):
        if e.role == "link" and (e.href or "").startswith("/shop/product/"):
            out.append((e.id, [t.name for t in obs.elements[i + 1 : i + 5] if t.role == "text"]))
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
    env = DomEnv(DomEnvConfig(observation=ObservationConfig(max_tokens=SMALL_TOKENS, ids="all")), sites=sites)
    try:
        first, _ = env.reset(options={"start_url": CATEGORY})
        second, *_ = env.step('scroll("down")')
    finally:
        env.close()
    assert second.offset == first.shown and "[above:" in second.text
    lines = second.text.split("\n")
    top = lines[next(i for i, x in enumerate(lines) if x.startswith("[above:")) + 1]  # the first line shown
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

    tree = LexborHTMLParser(
        '<div><img alt="Trail Boot"><a href="/p/2">Trail Boot</a><div>$95.00</div></div>'
        '<p>Brand: <a href="/b/n">Northstar</a></p>'
    )
    stamp_tree(tree)
    text = render(extract_page(tree, "http://127.0.0.1:8000/shoes"), config=ObservationConfig(ids="all")).text
    assert text.split("\n") == [
        "URL: /shoes",
        "Title: ",
        '[2] link "Trail Boot" · $95.00',
        'Brand: [5] link "Northstar"',
    ]


def test_by_default_only_nameless_elements_show_ids_and_repeated_names_their_ordinal():
    """ids="unnamed" (the default, for agents acting by name): a named element shows no id, a name
    that repeats among the elements its action works on shows the ordinal an action must add, and
    that ordinal resolves to that very element."""
    from selectolax.lexbor import LexborHTMLParser

    from domplay.env import actions as A
    from domplay.env.observation import extract_page, stamp_tree
    from domplay.env.render import render
    from domplay.env.targets import resolve

    tree = LexborHTMLParser(
        "<title>Posts - Forum</title><h1>Posts</h1>"
        '<p>First <a href="/e/1">Edit</a></p><p>Second <a href="/e/2">Edit</a></p>'
        '<input name="q" aria-label="Edit"><button><img src="x.png"></button>'
    )
    stamp_tree(tree)
    page = extract_page(tree, "http://127.0.0.1:8000/posts")
    lines = render(page, config=ObservationConfig()).text.split("\n")
    button = next(e for e in page.elements if e.role == "button")
    assert lines == [
        "URL: /posts",
        "# Posts",
        'First link "Edit", 1',
        'Second link "Edit", 2',
        'textbox "Edit"',
        f'[{button.id}] button ""',
    ]
    second = resolve(A.parse_action('click("Edit", 2)'), page.elements)
    assert second is not None and second.href == "/e/2"
    assert 'textbox "Edit"' in lines and f"[{button.id}]" in "\n".join(lines)  # the textbox is fill's, no ordinal
    assert "Title:" not in "\n".join(lines)  # the title repeats the heading
    every = render(page, config=ObservationConfig(ids="all")).text
    assert f'[{second.id}] link "Edit"' in every and "Title: Posts - Forum" not in every


def test_a_run_acting_by_id_must_show_ids():
    from domplay.config import load_config
    from domplay.errors import ConfigError

    with pytest.raises(ConfigError, match=r"env\.observation\.ids: all"):
        load_config(preset="quick", overrides={"policy": {"action_form": "id"}})
    config = load_config(
        preset="quick", overrides={"policy": {"action_form": "id"}, "env": {"observation": {"ids": "all"}}}
    )
    assert config.env.observation.ids == "all"


def test_text_a_script_made_clickable_renders_as_links_and_tree_items():
    """What BrowserEnv's observe script marks (data-dp-click and the tree attributes) becomes elements
    a click can name: a word drawn as a span, and tree items with their level and open state."""
    from selectolax.lexbor import LexborHTMLParser

    from domplay.agent.policy import page_constraint
    from domplay.env.observation import extract_page
    from domplay.env.render import render

    html = (
        "<body><p>Lorem <span class='w' data-dp-click='link'>ipsum</span> dolor</p><ul>"
        "<li><span data-dp-click='treeitem' data-dp-level='1' data-dp-expanded='true'>Docs</span><ul>"
        "<li><span data-dp-click='treeitem' data-dp-level='2'>cv.pdf</span></li></ul></li>"
        "<li><span data-dp-click='treeitem' data-dp-level='1' data-dp-expanded='false'>Music</span></li></ul></body>"
    )
    obs = render(extract_page(LexborHTMLParser(html), "http://127.0.0.1/t"))
    assert 'link "ipsum"' in obs.text
    assert 'treeitem "Docs" level=1 expanded' in obs.text
    assert 'treeitem "cv.pdf" level=2' in obs.text
    assert 'treeitem "Music" level=1 collapsed' in obs.text
    assert {name for name, _ in page_constraint(obs).targets_for("click")} == {"ipsum", "Docs", "cv.pdf", "Music"}
