"""Resolving a target (an id, a name with its ordinal, or a BrowserGym bid) against a page."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.observation import Element
from domplay.env.targets import acts_on, in_form, name_target, resolve, same_link
from domplay.errors import ActionError
from domplay.sites.app import SitesApp


def _page(*specs: tuple[str, str]) -> tuple[Element, ...]:
    tags = {"link": "a", "button": "button", "textbox": "input", "combobox": "select", "text": "p"}
    return tuple(
        Element(
            id=i, stamp=i, role=role, name=name, tag=tags[role], options=("Red", "Purple") if role == "combobox" else ()
        )
        for i, (role, name) in enumerate(specs, start=1)
    )


PAGE = _page(
    ("link", "Home"),
    ("text", "Edit"),
    ("button", "Edit"),
    ("link", "Edit"),
    ("textbox", "Username"),
    ("combobox", "Colour"),
    ("link", "2"),
    ("button", "Add to cart"),
    ("textbox", "Search"),
    ("button", "Search"),
    ("link", "A very long product name that the observation cut"),
)


@pytest.mark.parametrize(
    "action,expected",
    [
        (A.Click("Home"), 1),
        (A.Click("Edit", 1), 3),  # the text "Edit" cannot be clicked: ordinals count clickable ones
        (A.Click("Edit", 2), 4),
        (A.Click(" Add  to\ncart "), 8),  # whitespace collapsed
        (A.Click("home"), 1),  # no exact match: case-insensitive
        (A.Click("A very long product…"), 11),  # a name the observation cut
        (A.Fill("Username", "vera"), 5),
        (A.Fill("Search", "lamps"), 9),  # the textbox, not the button of the same name
        (A.Click("Search"), 10),  # click leaves textboxes to fill
        (A.Press("Search", "Enter", 2), 10),  # press works on both: the ordinal says which
        (A.Select("Colour", "Purple"), 6),
        (A.Press("Username", "Enter"), 5),
        (A.Click(2), 2),  # an int is always an id
        (A.Click("2"), 7),  # a string is a name first: the pagination link "2"
        (A.Click("a9"), 9),  # then a BrowserGym bid
        (A.Fill("5", "x"), 5),
    ],
)
def test_resolves_names_ordinals_ids_and_bids(action, expected):
    assert resolve(action, PAGE).id == expected


@pytest.mark.parametrize(
    "action,fragments",
    [
        (A.Click("Edit"), ["2 clickable elements are named 'Edit'", 'click("Edit", 1) to click("Edit", 2)']),
        (A.Click("Edit", 3), ["there are only 2 clickable elements named 'Edit', not a #3", "use 1 to 2"]),
        (A.Click("Home", 2), ["only one", 'leave the ordinal out: click("Home")']),
        (A.Click("Add to card"), ["no clickable element named 'Add to card'", "did you mean 'Add to cart'", "'Home'"]),
        (
            A.Fill("Colour", "x"),
            ["no textbox named 'Colour'", "there is a combobox with that name", "textboxes here: 'Username', 'Search'"],
        ),
        (A.Select("Size", "M"), ["no select named 'Size'", "'Colour'"]),
        (A.Fill("Edit", "x", 2), ["no textbox named 'Edit'", "there is a button and a link and a text with that name"]),
        (A.Press("Search", "Enter"), ['press("Search", 1, "Enter") to press("Search", 2, "Enter")']),
        (A.Click(99), ["no element [99]", "1 to 11"]),
        (A.Click("99"), ["no element [99]"]),
        (A.Click("12", 2), ["an ordinal does not go with an id"]),
    ],
)
def test_mistakes_are_action_errors_that_say_the_fix(action, fragments):
    with pytest.raises(ActionError) as err:
        resolve(action, PAGE)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_links_to_one_address_need_no_ordinal():
    tag = Element(id=1, stamp=1, role="link", name="#gear", tag="a", href="/search?tag=gear")
    page = (tag, replace(tag, id=2, stamp=2), replace(tag, id=3, stamp=3, href="/t/3"))
    assert resolve(A.Click("#gear"), page[:2]).id == 1 and name_target(page[1], A.Click, page[:2]) == ("#gear", None)
    assert resolve(A.Click("#gear", 2), page[:2]).id == 2  # an ordinal still counts them
    with pytest.raises(ActionError, match="3 clickable elements are named '#gear'"):
        resolve(A.Click("#gear"), page)  # one of them goes elsewhere
    assert name_target(page[1], A.Click, page) == ("#gear", 2)
    anchors = (replace(tag, href="#top"), replace(tag, id=2, stamp=2, href="#top"))
    assert not same_link(anchors)  # an anchor's link does what a script makes of it


def test_actions_without_a_target_resolve_to_none():
    assert resolve(A.Scroll("down"), PAGE) is None and resolve(A.Stop(), PAGE) is None


def test_id_to_name_to_element_round_trips_on_a_real_page():
    env = DomEnv(DomEnvConfig(), SitesApp(seed=0, names=["forum"]))
    obs, _ = env.reset(options={"start_url": "/forum/"})
    env.close()
    named = 0
    for el in obs.elements:
        for kind, action in [(A.Click, A.Click(el.id)), (A.Fill, A.Fill(el.id, "x")), (A.Select, A.Select(el.id, "x"))]:
            by_name = in_form(action, obs.elements, "name")
            got = resolve(by_name, obs.elements)
            assert got == el or (got is not None and got.name == el.name and same_link([got, el]))  # or its twin
            assert in_form(by_name, obs.elements, "id") == replace(action, target=got.id if got else None)
            if acts_on(kind, el) and el.name:
                named += 1
                assert by_name.target == el.name
                assert name_target(el, kind, obs.elements) == (el.name, by_name.nth)
            else:
                assert by_name == action  # kept its id: nothing to name it by
    assert named > 30
    gear = [e for e in obs.elements if e.name == "#gear"]
    assert len(gear) == 3 and same_link(gear)
    assert in_form(A.Click(gear[2].id), obs.elements, "name") == A.Click("#gear")  # three links to one address


@pytest.fixture(scope="module")
def shop():
    env = DomEnv(DomEnvConfig(), SitesApp(seed=0, names=["shop"]))
    yield env
    env.close()


def test_dom_env_acts_by_name_on_a_built_in_site(shop):
    obs, _ = shop.reset(options={"start_url": "/shop/product/13"})
    for action in ['select("Size", "M")', 'fill("Quantity", "2")', 'click("Add to cart")']:
        obs, *_ = shop.step(action)
        assert obs.error is None, (action, obs.error)
    assert any(e.name == "Cart (2)" for e in obs.elements)
    obs, *_ = shop.step('click("Cart (2)")')
    assert obs.error is None and obs.url.endswith("/shop/cart")
    log = shop.snapshot().actions
    assert log[2].action == 'click("Add to cart")' and log[2].target.name == "Add to cart"


def test_a_pagination_link_named_2_is_clicked_by_name_and_element_2_by_id(shop):
    obs, _ = shop.reset(options={"start_url": "/shop/category/outerwear"})
    assert obs.element(2).name != "2"
    obs, *_ = shop.step('click("2")')
    assert obs.error is None and "page=2" in obs.url
    obs, _ = shop.reset(options={"start_url": "/shop/category/outerwear"})
    second = obs.element(2)
    obs, *_ = shop.step("click(2)")
    assert obs.error is None and second.href is not None and obs.url.endswith(second.href)


def test_a_name_not_on_the_page_is_an_observation_not_a_crash(shop):
    obs, _ = shop.reset(options={"start_url": "/shop/product/13"})
    obs, reward, terminated, _, _ = shop.step('click("Buy now")')
    assert not terminated and reward == 0.0
    assert "no clickable element named 'Buy now'" in obs.error and "'Add to cart'" in obs.text
    obs, *_ = shop.step('click("Add to cart")')
    assert obs.error is None
