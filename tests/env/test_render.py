"""The compact and per-element renderings of real pages of the built-in sites (DomEnv, in-process)."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.observation import ObservationConfig, Page, approx_tokens, extract_page, stamp_tree
from domplay.env.render import render
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
        line = next(x for x in lines if x.startswith(f'[{product_id}] "'))  # a link: its quoted name alone
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
    assert f'[{colour.id}] select "Colour" value="Any colour"' in compact.text


def test_long_options_are_cut_to_their_distinguishing_words(sites):
    obs, _ = observe(sites, "/shop/search?q=ceramic", max_tokens=WHOLE_PAGE_TOKENS)
    sort = next(e for e in obs.elements if e.name == "Sort by")
    assert "Price: low to high" in sort.options
    line = next(x for x in obs.text.split("\n") if x.startswith(f"[{sort.id}] "))
    assert "options=[Price: low…, Price: high…, " in line and "Relevance" in line


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
    assert row.count(" |") == 2  # board | description | threads
    assert "Board | Description | Threads" in obs.text
    assert row.rsplit(" |", 1)[1].isdigit()  # no space between the bar and a number: " |29" (" 29" is two tokens)


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
        "URL: /shoes",  # no title: no title line
        '[2] "Trail Boot" $95.00',
        'Brand: [5] "Northstar"',  # a link is its quoted name
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
        'First "Edit", 1',
        'Second "Edit", 2',
        'textbox "Edit"',
        f'[{button.id}] button ""',
    ]
    second = resolve(A.parse_action('click("Edit", 2)'), page.elements)
    assert second is not None and second.href == "/e/2"
    assert 'textbox "Edit"' in lines and f"[{button.id}]" in "\n".join(lines)  # the textbox is fill's, no ordinal
    assert "Title:" not in "\n".join(lines)  # the title repeats the heading
    every = render(page, config=ObservationConfig(ids="all")).text
    assert f'[{second.id}] "Edit"' in every and "Title: Posts - Forum" not in every


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
    assert 'Lorem "ipsum" dolor' in obs.text  # a link is its quoted name
    assert 'treeitem "Docs" level=1 expanded' in obs.text
    assert 'treeitem "cv.pdf" level=2' in obs.text
    assert 'treeitem "Music" level=1 collapsed' in obs.text
    assert {name for name, _ in page_constraint(obs).targets_for("click")} == {"ipsum", "Docs", "cv.pdf", "Music"}


def page_of(html: str, url: str = "http://127.0.0.1:8000/p") -> Page:
    tree = LexborHTMLParser(html)
    stamp_tree(tree)
    return extract_page(tree, url)


def test_options_are_listed_bare_unless_one_would_make_the_list_ambiguous():
    page = page_of(
        "<select aria-label=Size><option>S</option><option>M</option></select>"
        "<select aria-label=Ship><option>Standard</option><option>Express, 2 days</option>"
        "<option>Express, 5 days</option></select>"
    )
    lines = render(page).text.split("\n")
    assert 'select "Size" value="S" options=[M]' in lines
    assert 'select "Ship" value="Standard" options=["Express, 2 days", "Express, 5 days"]' in lines


def test_the_url_drops_empty_parameters_and_the_title_what_headings_and_path_say():
    url = "http://127.0.0.1:8000/shop/search?q=boots&brand=&color=&sort=price"
    said = page_of("<title>Search: boots - Shop</title><h1>Results for boots</h1>", url)
    assert render(said).text.split("\n") == ["URL: /shop/search?q=boots&sort=price", "# Results for boots"]
    new = page_of("<title>Home - Shop</title><h1>Shop</h1>", "http://127.0.0.1:8000/shop/")
    assert "Title: Home - Shop" in render(new).text  # "Home" is said nowhere else
    assert render(said, config=ObservationConfig(format="lines")).text.startswith(f"URL: {url}\nTitle: ")


def test_a_page_that_fits_the_budget_needs_no_room_for_a_cut_note():
    page = page_of("".join(f"<p>Line number {i} of the page</p>" for i in range(20)))
    whole = render(page, config=ObservationConfig(max_tokens=WHOLE_PAGE_TOKENS))
    exact = approx_tokens(whole.text) + 1  # every line pays for its newline
    assert render(page, config=ObservationConfig(max_tokens=exact)).cut_note is None
    cut = render(page, config=ObservationConfig(max_tokens=exact - 1))
    assert cut.cut_note is not None and approx_tokens(cut.text) <= exact - 1
    assert cut.shown < len(page.elements) - 1  # more than the one line over budget gave way to the note


def test_the_token_estimate_is_close_to_the_models_tokenizer_on_real_pages(sites):
    from transformers import AutoTokenizer

    from domplay.llm.embedded import embedded_model_dir

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    for url in [CATEGORY, "/forum/", "/forum/users", "/shop/product/13"]:
        text = observe(sites, url, max_tokens=WHOLE_PAGE_TOKENS, ids="unnamed")[0].text
        ratio = approx_tokens(text) / len(tokenizer(text).input_ids)
        assert 0.9 < ratio < 1.15, (url, ratio)  # characters / 2.2 gave 0.64 on /forum/users (dates, counts)
