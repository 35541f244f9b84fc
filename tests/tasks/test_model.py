"""The Task model: fields are validated, references are parsed actions, checks are typed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domplay.tasks.model import Provenance, Task
from domplay.verify.checks import AnswerCheck, UrlCheck


def task(**kw) -> Task:
    base = {
        "id": "shop-1",
        "intent": "Add the blue shirt to the cart",
        "site": "shop",
        "start_url": "/shop/",
        "checks": [{"kind": "state", "path": "shop.cart", "op": "length_eq", "expected": 1}],
        "difficulty": "easy",
    }
    base.update(kw)
    return Task.model_validate(base)


def test_minimal_task_and_defaults():
    t = task()
    assert t.provenance == Provenance() and t.provenance.proposer == "manual" and t.reference is None
    assert t.checks[0].kind == "state" and not t.is_external


def test_checks_are_parsed_into_their_kinds():
    t = task(checks=[{"kind": "url", "expected": "/shop/cart"}, {"kind": "answer", "expected": "3"}])
    assert isinstance(t.checks[0], UrlCheck) and isinstance(t.checks[1], AnswerCheck)


def test_reference_is_validated_and_canonical():
    t = task(reference=["click('12')", 'fill(7,"blue shirt")', "send_msg_to_user('done')"])
    # A string target stays a string: the env reads it as a name, else as a bid, on the page.
    assert t.reference == ['click("12")', 'fill(7, "blue shirt")', 'answer("done")']
    assert task(reference=["click(12)", 'click("Edit", nth=2)']).reference == ["click(12)", 'click("Edit", 2)']
    with pytest.raises(ValidationError, match="reference action #1 'clck"):
        task(reference=["click(1)", "clck(2)"])


def test_site_and_start_url():
    t = task(site="https://Example.org/", start_url="https://example.org/search?q=x")
    assert t.site == "https://Example.org" and t.is_external
    for bad in (
        {"site": "Shop Site"},
        {"site": "https://example.org/path"},
        {"site": "ftp://x"},
        {"start_url": "shop/"},
        {"id": "has space"},
        {"id": ""},
        {"intent": ""},
        {"difficulty": "trivial"},
        {"checks": []},
        {"colour": "blue"},
        {"provenance": {"proposer": "llm", "split": "test"}},
    ):
        with pytest.raises(ValidationError):
            task(**bad)


def test_provenance_fields():
    t = task(
        provenance={
            "proposer": "template",
            "template": "add_to_cart",
            "seed": 3,
            "split": "heldout",
            "extra": {"product_id": 17},
        }
    )
    assert t.provenance.split == "heldout" and t.provenance.extra == {"product_id": 17}


def test_check_objects_are_accepted_as_they_are():
    url = UrlCheck(expected="/shop/cart")
    t = task(checks=[url])
    assert t.checks == [url] and Task.model_validate_json(t.model_dump_json()) == t
