"""Each check kind on a real product page: passes, fails, and the reasons it gives."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from domplay.verify.base import CheckContext
from domplay.verify.checks import CHECK_ADAPTER
from domplay.verify.snapshot import Snapshot
from domplay.verify.state_check import parse_path, resolve
from domplay.verify.textmatch import edit_similarity, parse_number, token_f1
from tests.verify.pages import ADD_BLUE, ADD_RED, CART_LINK, acted, make_snapshot, target


def run(spec: dict, snap: Snapshot | None = None):
    snap = snap if snap is not None else make_snapshot()
    check = CHECK_ADAPTER.validate_python(spec)
    return check.evaluate(snap, CheckContext(snap))


# --- element -----------------------------------------------------------------------------


def test_element_css_matches_stamp_of_last_action_target():
    snap = make_snapshot(actions=acted(("click(6)", ADD_RED), ("click(4)", ADD_BLUE), ("stop()", None)))
    ok = run({"kind": "element", "css": "li:first-child button.add"}, snap)
    assert ok.passed and ok.score == 1.0
    bad = run({"kind": "element", "css": "li:nth-child(2) button.add"}, snap)
    assert not bad.passed and "data-dp=4" in bad.reason and "click(4)" in bad.reason


def test_element_any_action_and_action_name():
    snap = make_snapshot(actions=acted(("click(6)", ADD_RED), ("click(2)", CART_LINK)))
    assert not run({"kind": "element", "css": "li:nth-child(2) button"}, snap).passed
    assert run({"kind": "element", "css": "li:nth-child(2) button", "of": "any_action"}, snap).passed
    assert run({"kind": "element", "css": "button", "action_name": "click"}, snap).passed is False
    fill = run({"kind": "element", "css": "input", "action_name": "fill"}, snap)
    assert not fill.passed and "no fill action" in fill.reason


def test_element_skips_actions_that_errored():
    snap = make_snapshot(actions=acted(("click(4)", ADD_BLUE), error="element is disabled"))
    res = run({"kind": "element", "css": "button.add"}, snap)
    assert not res.passed and "no action on an element" in res.reason


def test_element_role_name_and_text():
    snap = make_snapshot(actions=acted(("click(2)", CART_LINK)))
    assert run({"kind": "element", "role": "link", "name": "cart  (1)"}, snap).passed
    assert not run({"kind": "element", "role": "button", "name": "Cart (1)"}, snap).passed
    assert run({"kind": "element", "text": "cart"}, snap).passed
    assert not run({"kind": "element", "text": "checkout"}, snap).passed


def test_element_falls_back_to_own_attributes_without_page_html():
    snap = make_snapshot(actions=acted(("click(4)", ADD_BLUE), with_html=False))
    ok = run({"kind": "element", "css": "button.add"}, snap)
    assert ok.passed and "page not recorded" in ok.reason
    assert not run({"kind": "element", "css": "a.add"}, snap).passed
    cell = make_snapshot(
        actions=acted(("click(9)", target("cell", "2", "td", "9", **{"class": "qty"})), with_html=False)
    )
    assert run({"kind": "element", "css": "td.qty"}, cell).passed  # table parts survive the probe


def test_element_final_page_and_validation():
    assert run({"kind": "element", "of": "final_page", "css": "p.msg", "text": "blue shirt"}).passed
    assert not run({"kind": "element", "of": "final_page", "css": "p.msg", "text": "red hat"}).passed
    with pytest.raises(ValidationError, match="give the target"):
        CHECK_ADAPTER.validate_python({"kind": "element"})
    with pytest.raises(ValidationError, match="invalid CSS selector"):
        CHECK_ADAPTER.validate_python({"kind": "element", "css": "li[[["})


def test_element_without_actions_fails_with_reason():
    res = run({"kind": "element", "css": "button"})
    assert not res.passed and "no action on an element in the log" in res.reason


# --- attribute ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, passed",
    [
        ({"css": "span.price", "attribute": "data-currency", "value": "USD"}, True),
        ({"css": "span.price", "attribute": "data-currency", "value": "EUR"}, False),
        ({"css": "li", "attribute": "class", "op": "contains", "value": "prod"}, True),
        ({"css": "li", "attribute": "class", "op": "has_token", "value": "prod"}, False),
        ({"css": "li", "attribute": "class", "op": "has_token", "value": "product"}, True),
        ({"css": "input[name=gift]", "attribute": "checked", "op": "present"}, True),
        ({"css": "input[name=q]", "attribute": "checked", "op": "present"}, False),
        ({"css": "input[name=q]", "attribute": "checked", "op": "absent"}, True),
        ({"css": "input[name=q]", "attribute": "value", "value": "shirt"}, True),
        ({"css": "input[name=q]", "attribute": "value", "value": "SHIRT"}, False),
        ({"css": "input[name=q]", "attribute": "value", "value": "SHIRT", "case_sensitive": False}, True),
        ({"css": "option[selected]", "attribute": "value", "value": "m"}, True),
    ],
)
def test_attribute(spec, passed):
    assert run({"kind": "attribute", **spec}).passed is passed


def test_attribute_all_vs_any_and_missing_element():
    spec = {"kind": "attribute", "css": "a", "attribute": "href", "value": "/shop/cart"}
    res = run(spec)
    assert not res.passed and res.score == 0.5 and "1/2 elements pass" in res.reason
    assert run({**spec, "match": "any"}).passed
    none = run({**spec, "css": "a.missing"})
    assert not none.passed and "no element matches" in none.reason
    with pytest.raises(ValidationError, match="needs a value"):
        CHECK_ADAPTER.validate_python({"kind": "attribute", "css": "a", "attribute": "href"})


# --- content -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, passed",
    [
        ({"css": "li:first-child .name", "expected": "blue shirt"}, True),
        ({"css": "li:first-child .name", "expected": "Blue"}, False),
        ({"css": "li:first-child .name", "expected": "Blue", "mode": "contains"}, True),
        ({"css": ".name", "expected": "Red Hat"}, True),  # best of several matches
        ({"css": "p.msg", "expected": r"added \w+ shirt", "mode": "regex"}, True),
        ({"css": "p.msg", "expected": r"^removed", "mode": "regex"}, False),
        ({"css": "li:first-child .price", "expected": 1299, "mode": "numeric"}, True),
        ({"css": "li:first-child .price", "expected": "1,299", "mode": "numeric"}, True),
        ({"css": "li:first-child .price", "expected": 1300, "mode": "numeric"}, False),
        ({"css": "li:first-child .price", "expected": 1300, "mode": "numeric", "abs_tol": 1.0}, True),
        ({"css": "li:first-child .price", "expected": 1300, "mode": "numeric", "rel_tol": 0.01}, True),
        ({"css": "input[name=q]", "attribute": "value", "expected": "shirt"}, True),
        ({"css": "p.msg", "expected": "Added blue shirt to your cart", "normalize": {"punctuation": True}}, True),
        ({"css": "p.msg", "expected": "Added blue shirt to your cart"}, False),
        ({"css": "p.msg", "expected": "Removed|OR|added blue shirt", "mode": "contains"}, True),
    ],
)
def test_content(spec, passed):
    assert run({"kind": "content", **spec}).passed is passed


def test_content_graded_modes_score_and_reason():
    f1 = run({"kind": "content", "css": "p.msg", "expected": "added blue shirt", "mode": "token_f1", "threshold": 0.6})
    assert f1.passed and 0.6 < f1.score < 1.0 and "token F1" in f1.reason
    ed = run(
        {
            "kind": "content",
            "css": "li:first-child .name",
            "expected": "Blue Shrt",
            "mode": "edit_distance",
            "threshold": 0.9,
        }
    )
    assert ed.passed and ed.score == pytest.approx(1 - 1 / 10)
    far = run({"kind": "content", "css": "li:first-child .name", "expected": "Green Trousers", "mode": "edit_distance"})
    assert not far.passed and "'Blue Shirt'" in far.reason


def test_content_from_answer_and_validation():
    snap = make_snapshot(answer="The total is $1,299.00.")
    assert run({"kind": "content", "source": "answer", "expected": 1299, "mode": "numeric"}, snap).passed
    res = run({"kind": "content", "source": "answer", "expected": "x"})
    assert not res.passed and "no answer given" in res.reason
    for bad in (
        {"css": None, "expected": "x"},
        {"css": "p", "expected": "(", "mode": "regex"},
        {"css": "p", "expected": "many", "mode": "numeric"},
    ):
        with pytest.raises(ValidationError):
            CHECK_ADAPTER.validate_python({"kind": "content", **bad})


# --- text helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, suffixes, value",
    [
        ("$1,299.00", False, 1299.0),
        ("-$5", False, -5.0),
        ("USD 12", False, 12.0),
        ("1.2k followers", True, 1200.0),
        ("1.2k followers", False, 1.2),
        ("3M", True, 3e6),
        ("12 km", True, 12.0),
        ("no digits", False, None),
        ("€0.5", False, 0.5),
    ],
)
def test_parse_number(text, suffixes, value):
    assert parse_number(text, suffixes) == value


def test_similarity_helpers():
    assert token_f1("a b c", "a b c") == 1.0 and token_f1("a b", "c d") == 0.0
    assert token_f1("a b c d", "a b") == pytest.approx(2 / 3)
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("", "") == 1.0


# --- structure ----------------------------------------------------------------------------

EXPECTED_LIST = (
    "<ul><li><span></span><span></span><button></button></li><li><span></span><span></span><button></button></li></ul>"
)


def test_structure_identical_is_one_and_monotone_in_edits():
    assert run({"kind": "structure", "css": "#products", "expected_html": EXPECTED_LIST}).score == 1.0
    li = "<li><span></span><span></span><button></button></li>"
    variants = [
        f"<ul>{li}{li}</ul>",
        f"<ul>{li}<li><span></span><span></span></li></ul>",  # 1 deletion
        f"<ul>{li}<li><span></span></li></ul>",  # 2 deletions
        "<ul><li><span></span></li><li><span></span></li></ul>",  # 4 deletions
        "<ul></ul>",
    ]
    snaps = [make_snapshot(html=f"<html><body>{v}</body></html>") for v in variants]
    scores = [run({"kind": "structure", "css": "ul", "expected_html": EXPECTED_LIST}, s).score for s in snaps]
    assert scores[0] == 1.0
    assert all(a > b for a, b in itertools.pairwise(scores)), scores
    assert 0.0 < scores[-1] < 0.2


def test_structure_threshold_attrs_and_caps():
    res = run({"kind": "structure", "css": "#products", "expected_html": "<ul><li></li></ul>", "threshold": 0.9})
    assert not res.passed and "similarity" in res.reason
    labelled = {
        "kind": "structure",
        "css": "#products",
        "attrs": ["class"],
        "expected_html": EXPECTED_LIST.replace("<li>", '<li class="product">'),
    }
    assert run(labelled).score < 1.0  # the spans and button carry classes the snippet lacks
    cut = run({"kind": "structure", "css": "#products", "expected_html": "<ul><li></li></ul>", "max_nodes": 3})
    assert "cut to 3 elements" in cut.reason
    missing = run({"kind": "structure", "css": "ol", "expected_html": "<ol></ol>"})
    assert not missing.passed and "no element matches" in missing.reason
    with pytest.raises(ValidationError, match="exactly one root"):
        CHECK_ADAPTER.validate_python({"kind": "structure", "css": "ul", "expected_html": "<p></p><p></p>"})


# --- state --------------------------------------------------------------------------------

STATE = {
    "shop": {
        "cart": [],
        "orders": [
            {"id": 1, "status": "paid", "total": 30.0, "items": [{"product_id": 3, "qty": 1}]},
            {
                "id": 2,
                "status": "pending",
                "total": 12,
                "items": [{"product_id": 17, "qty": 2}, {"product_id": 4, "qty": 1}],
            },
        ],
        "user": {"name": "ann", "newsletter": True},
    }
}


@pytest.mark.parametrize(
    "path, value",
    [
        ("shop.user.name", "ann"),
        ("shop.orders.0.id", 1),
        ("shop.orders.-1.id", 2),
        ("shop.orders.*.id", [1, 2]),
        ("shop.orders[status=paid].id", [1]),
        ("shop.orders[id=2][status=pending].total", [12]),
        ("shop.orders[status=refunded]", []),
        ("shop.orders.*.items.*.product_id", [3, 17, 4]),
    ],
)
def test_state_paths(path, value):
    r = resolve(STATE, path)
    assert r.found and r.value == value


def test_state_path_missing_and_syntax_errors():
    r = resolve(STATE, "shop.order")
    assert not r.found and "'shop.order' not found" in r.missing and "orders" in r.missing
    assert not resolve(STATE, "shop.orders.5").found
    for bad in ("", "shop..orders", "shop.orders[status]", "a[b=c"):
        with pytest.raises(ValueError, match="state path"):
            parse_path(bad)


@pytest.mark.parametrize(
    "spec, passed",
    [
        ({"path": "shop.orders"}, True),
        ({"path": "shop.refunds"}, False),
        ({"path": "shop.refunds", "op": "absent"}, True),
        ({"path": "shop.orders[status=refunded]"}, False),
        ({"path": "shop.user.newsletter", "op": "equals", "expected": True}, True),
        ({"path": "shop.user.newsletter", "op": "equals", "expected": 1}, False),
        ({"path": "shop.orders.0.total", "op": "equals", "expected": 30}, True),
        ({"path": "shop.user.name", "op": "contains", "expected": "an"}, True),
        ({"path": "shop.orders.*.status", "op": "contains", "expected": "paid"}, True),
        ({"path": "shop.orders", "op": "length_eq", "expected": 2}, True),
        ({"path": "shop.cart", "op": "length_ge", "expected": 1}, False),
        ({"path": "shop.cart", "op": "length_le", "expected": 0}, True),
        ({"path": "shop.orders", "op": "any_match", "expected": {"items": {"product_id": 17, "qty": 2}}}, True),
        ({"path": "shop.orders", "op": "any_match", "expected": {"items": {"product_id": 17, "qty": 1}}}, False),
        (
            {"path": "shop.orders", "op": "any_match", "expected": {"status": "paid", "items": [{"product_id": 3}]}},
            True,
        ),
    ],
)
def test_state_ops(spec, passed):
    res = run({"kind": "state", **spec}, make_snapshot(state=STATE))
    assert res.passed is passed, res.reason


def test_state_reasons_and_validation():
    res = run({"kind": "state", "path": "shop.cart", "op": "length_ge", "expected": 1}, make_snapshot(state=STATE))
    assert "length 0" in res.reason
    missing = run({"kind": "state", "path": "forum.posts", "op": "length_ge", "expected": 1})
    assert not missing.passed and "'forum' not found" in missing.reason
    for bad in (
        {"path": "a", "op": "length_eq", "expected": "2"},
        {"path": "a", "op": "any_match", "expected": 3},
        {"path": "a", "op": "equals"},
        {"path": "a[b]"},
    ):
        with pytest.raises(ValidationError):
            CHECK_ADAPTER.validate_python({"kind": "state", **bad})
    assert CHECK_ADAPTER.validate_python({"kind": "state", "path": "a", "op": "equals", "expected": None})


# --- element_present ----------------------------------------------------------------------


def test_element_present_and_absent():
    assert run({"kind": "element_present", "css": "p.msg", "text": "added BLUE shirt"}).passed
    res = run({"kind": "element_present", "css": "p.msg", "text": "removed"})
    assert not res.passed and "found none" in res.reason
    assert run({"kind": "element_present", "css": "p.error", "present": False}).passed
    gone = run({"kind": "element_present", "css": "p.msg", "present": False})
    assert not gone.passed and "expected no element" in gone.reason


# --- url ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "found, spec, passed",
    [
        ("http://h/viewedasdf", {"expected": "/viewed"}, False),  # WebArena's substring bug
        ("http://h/viewed/", {"expected": "/viewed"}, True),
        ("http://h/viewed", {"expected": "/viewed/"}, True),
        ("http://h/s?b=2&a=1", {"expected": "/s?a=1&b=2"}, True),
        ("http://h/s?a=1", {"expected": "/s?a=1&b=2"}, False),
        ("http://h/s?a=1&b=2&c=3", {"expected": "/s?a=1&b=2"}, False),
        ("http://h/s?a=1&b=2&c=3", {"expected": "/s?a=1&b=2", "ignore_extra_query": True}, True),
        ("http://h/s?a=2", {"expected": "/s?a=1"}, False),
        ("http://h/s?q=blue+shirt", {"expected": "/s?q=blue%20shirt"}, True),
        ("http://h/a%20b", {"expected": "/a b"}, True),
        ("http://h:8000/s", {"expected": "http://other:8000/s"}, False),
        ("http://H:8000/s#top", {"expected": "http://h:8000/s"}, True),
        ("https://h/s", {"expected": "https://h:443/s"}, True),
        ("http://h/cart", {"expected": "/checkout |OR| /cart"}, True),
        ("http://h/", {"expected": "/"}, True),
    ],
)
def test_url(found, spec, passed):
    res = run({"kind": "url", **spec}, make_snapshot(url=found))
    assert res.passed is passed, res.reason


def test_url_reason_and_validation():
    res = run({"kind": "url", "expected": "/viewed"}, make_snapshot(url="http://h/viewedasdf"))
    assert "path '/viewedasdf' is not '/viewed'" in res.reason
    with pytest.raises(ValidationError, match="must be a path"):
        CHECK_ADAPTER.validate_python({"kind": "url", "expected": "shop/cart"})


# --- answer -------------------------------------------------------------------------------


def test_answer_modes_and_alternatives():
    snap = make_snapshot(answer="  Paris ")
    assert run({"kind": "answer", "expected": "paris"}, snap).passed
    assert run({"kind": "answer", "expected": "London|OR|Paris"}, snap).passed
    assert run({"kind": "answer", "expected": ["London", "paris"]}, snap).passed
    assert not run({"kind": "answer", "expected": "London|OR|Berlin"}, snap).passed
    long = make_snapshot(answer="The capital is Paris.")
    assert not run({"kind": "answer", "expected": "Paris"}, long).passed
    assert run({"kind": "answer", "expected": "Paris", "mode": "contains"}, long).passed
    price = make_snapshot(answer="$1,299.00")
    assert run({"kind": "answer", "expected": "1299", "mode": "numeric"}, price).passed
    assert not run({"kind": "answer", "expected": "1298", "mode": "numeric"}, price).passed


def test_answer_missing_and_validation():
    res = run({"kind": "answer", "expected": "Paris"})
    assert not res.passed and "no answer given" in res.reason
    with pytest.raises(ValidationError, match="numbers"):
        CHECK_ADAPTER.validate_python({"kind": "answer", "expected": "many", "mode": "numeric"})
    with pytest.raises(ValidationError, match="empty"):
        CHECK_ADAPTER.validate_python({"kind": "answer", "expected": " |OR| "})


# --- the union ----------------------------------------------------------------------------


def test_unknown_kind_and_extra_fields_are_rejected():
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        CHECK_ADAPTER.validate_python({"kind": "magic"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        CHECK_ADAPTER.validate_python({"kind": "url", "expected": "/", "expcted": "/x"})


def test_checks_round_trip_through_json():
    spec = {"kind": "content", "css": "p", "expected": "x", "mode": "token_f1", "normalize": {"case": False}}
    check = CHECK_ADAPTER.validate_python(spec)
    assert CHECK_ADAPTER.validate_json(CHECK_ADAPTER.dump_json(check)) == check
