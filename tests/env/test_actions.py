"""The action parser: canonical forms, BrowserGym aliases, and clear errors."""

from __future__ import annotations

import re

import pytest

from domplay.env.actions import (
    ACTION_TYPES,
    Answer,
    Back,
    Click,
    Fill,
    Goto,
    Press,
    Scroll,
    Select,
    Stop,
    describe_actions,
    format_action,
    parse_action,
)
from domplay.errors import ActionError


@pytest.mark.parametrize(
    "text,expected",
    [
        ("click(12)", Click(12)),
        ("  click( 12 )  ", Click(12)),
        ('click("a12")', Click("a12")),  # a bid or a name: the env decides against the page
        ('click(bid="7")', Click("7")),
        ('click("Add to cart")', Click("Add to cart")),
        ('click("Edit", 2)', Click("Edit", 2)),
        ('click("Edit", nth=2)', Click("Edit", 2)),
        ('fill("Username", "vera")', Fill("Username", "vera")),
        ('fill("Name", 2, "Ada")', Fill("Name", "Ada", 2)),
        ('fill("Name", "Ada", nth=2)', Fill("Name", "Ada", 2)),
        ('fill("Qty", 3)', Fill("Qty", "3")),  # two arguments: the second is the text, not an ordinal
        ('select("Colour", "Purple")', Select("Colour", "Purple")),
        ('press("Search", "Enter")', Press("Search", "Enter")),
        ("click(id=7)", Click(7)),
        ('fill(3, "blue shirt")', Fill(3, "blue shirt")),
        ("fill(3, 'it''s')", Fill(3, "its")),
        ("fill(3, 42)", Fill(3, "42")),
        ('select(4, "Red")', Select(4, "Red")),
        ('select_option("4", "Red")', Select("4", "Red")),
        ('press(5, "Enter")', Press(5, "Enter")),
        ('press(5, key_comb="Enter")', Press(5, "Enter")),
        ('scroll("down")', Scroll("down")),
        ("scroll(0, 300)", Scroll("down")),
        ("scroll(0, -300)", Scroll("up")),
        ('goto("/shop/cart")', Goto("/shop/cart")),
        ("back()", Back()),
        ("go_back()", Back()),
        ('answer("$19.99")', Answer("$19.99")),
        ('send_msg_to_user("42")', Answer("42")),
        ("stop()", Stop()),
    ],
)
def test_parses(text, expected):
    assert parse_action(text) == expected


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("", "empty action"),
        ("click", "not a call"),
        ("click(", "cannot parse"),
        ("click()", "missing target"),
        ("click(1, 2)", "ordinal goes with a name"),
        ('click("Edit", 0)', "counting from 1"),
        ('click("Edit", "2")', "counting from 1"),
        ('click("Edit", 2, 3)', "at most 2"),
        ("click(x)", "literal"),
        ("click(True)", "its name in quotes"),
        ("click(1.5)", "its name in quotes"),
        ("hover(3)", "unknown action 'hover'"),
        ("os.system('ls')", "not a call"),
        ("__import__('os')", "unknown action"),
        ("fill(1, [1, 2])", "must be a string"),
        ('press(1, "Hyper")', "unknown key"),
        ('scroll("left")', 'direction must be "up" or "down"'),
        ("click(1); click(2)", "cannot parse"),
        ('fill(1, text="a", text="b")', "repeated"),
        ('click(1, color="red")', "unexpected"),
    ],
)
def test_rejects_with_a_clear_error(text, fragment):
    with pytest.raises(ActionError, match=None) as err:
        parse_action(text)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    "action",
    [
        Click(1),
        Fill(2, 'say "hi"\n'),
        Select(3, "Größe L"),
        Press(4, "Enter"),
        Scroll("up"),
        Goto("https://x.test/?a=1&b=2"),
        Back(),
        Answer(""),
        Stop(),
        Click("Log in"),
        Click("2"),
        Click('Say "hi"', 3),
        Fill("Name", "Ada", 2),
        Select("Colour", "Purple", 2),
        Press("Search", "Enter"),
    ],
)
def test_format_round_trips(action):
    assert parse_action(format_action(action)) == action


def test_canonical_form_puts_the_ordinal_after_the_name():
    assert format_action(Fill("Name", "Ada", 2)) == 'fill("Name", 2, "Ada")'
    assert format_action(Click("Edit")) == 'click("Edit")'
    assert format_action(Select(4, "Red")) == 'select(4, "Red")'


@pytest.mark.parametrize("form,usage", [("name", 'click("name")'), ("id", "click(id)")])
def test_docstrings_are_the_prompt_text(form, usage):
    text = describe_actions(form=form, help="full")
    lines = text.splitlines()
    assert len(lines) == len(ACTION_TYPES) + 1  # one per action, then how to name an element
    for t, line in zip(ACTION_TYPES, lines[:-1], strict=True):
        assert line.startswith(f"{t.name}(")
    assert lines[0].startswith(usage) and "{target}" not in text
    assert ('click("Edit", 2)' in text) is (form == "name")
    brief = describe_actions(form=form, help="brief").splitlines()  # the calls of the same docstrings, one line
    assert len(brief) == 2 and brief[0] == ", ".join(line.split("): ", 1)[0] + ")" for line in lines[:-1])
    assert brief[0].startswith(usage) and ('click("Edit", 2)' in brief[1]) is (form == "name")


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("noop()", "noop()"),
        ("noop(wait_ms=500)", "noop(500)"),
        ('keyboard_press("Enter")', 'keyboard_press("Enter")'),
        ('keyboard_press(key="Control+a")', 'keyboard_press("Control+a")'),
        ('report_infeasible("the item is sold out")', "stop()"),
        ('report_infeasible(reason="no such page")', "stop()"),
        ('select_option("12", ["Red"])', 'select("12", "Red")'),
        ('select_option(bid="12", options=["Red"])', 'select("12", "Red")'),
        ('click(bid="a12", button="left", modifiers=[])', 'click("a12")'),
        ('fill(bid="3", value="blue shirt")', 'fill("3", "blue shirt")'),
        ('press("4", key_comb="Enter")', 'press("4", "Enter")'),
        ("scroll(delta_x=0, delta_y=300)", 'scroll("down")'),
        ("scroll(0, -300)", 'scroll("up")'),
    ],
)
def test_browsergym_action_set_is_accepted(text, canonical):
    """BrowserGym's prompts and logs replay: its names, keyword arguments and list of options."""
    assert format_action(parse_action(text)) == canonical
    assert format_action(parse_action(canonical)) == canonical


@pytest.mark.parametrize(
    "text, problem",
    [
        ('select_option("12", ["Red", "Blue"])', "one option"),
        ('click("12", button="right")', "button='right' is not supported"),
        ('click("12", modifiers=["Shift"])', "modifiers"),
        ("noop(wait_ms=-5)", "milliseconds"),
        ('keyboard_press("NoSuchKey")', "unknown key"),
    ],
)
def test_browsergym_actions_domplay_cannot_do_say_why(text, problem):
    with pytest.raises(ActionError, match=re.escape(problem)):
        parse_action(text)


def test_browsergym_only_actions_stay_out_of_the_prompt():
    listed = describe_actions()
    assert "noop" not in listed and "keyboard_press" not in listed
