"""The action parser: canonical forms, BrowserGym aliases, and clear errors."""

from __future__ import annotations

import pytest

from domplay.env.actions import (ACTION_TYPES, Answer, Back, Click, Fill, Goto, Press, Scroll, Select, Stop,
                                 describe_actions, format_action, parse_action)
from domplay.errors import ActionError


@pytest.mark.parametrize("text,expected", [
    ("click(12)", Click(12)),
    ("  click( 12 )  ", Click(12)),
    ('click("a12")', Click(12)),
    ('click(bid="7")', Click(7)),
    ('fill(3, "blue shirt")', Fill(3, "blue shirt")),
    ("fill(3, 'it''s')", Fill(3, "its")),
    ('fill(3, 42)', Fill(3, "42")),
    ('select(4, "Red")', Select(4, "Red")),
    ('select_option("4", "Red")', Select(4, "Red")),
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
])
def test_parses(text, expected):
    assert parse_action(text) == expected


@pytest.mark.parametrize("text,fragment", [
    ("", "empty action"),
    ("click", "not a call"),
    ("click(", "cannot parse"),
    ("click()", "missing id"),
    ("click(1, 2)", "takes 1 argument"),
    ("click(x)", "literal"),
    ("click(True)", "must be an integer"),
    ('click("abc")', "not a number"),
    ("hover(3)", "unknown action 'hover'"),
    ("os.system('ls')", "not a call"),
    ("__import__('os')", "unknown action"),
    ('fill(1, [1, 2])', "must be a string"),
    ('press(1, "Hyper")', "unknown key"),
    ('scroll("left")', 'direction must be "up" or "down"'),
    ('click(1); click(2)', "cannot parse"),
    ('fill(1, text="a", text="b")', "repeated"),
    ('click(1, color="red")', "unexpected"),
])
def test_rejects_with_a_clear_error(text, fragment):
    with pytest.raises(ActionError, match=None) as err:
        parse_action(text)
    assert fragment in str(err.value)


@pytest.mark.parametrize("action", [Click(1), Fill(2, 'say "hi"\n'), Select(3, "Größe L"), Press(4, "Enter"),
                                    Scroll("up"), Goto("https://x.test/?a=1&b=2"), Back(), Answer(""), Stop()])
def test_format_round_trips(action):
    assert parse_action(format_action(action)) == action


def test_docstrings_are_the_prompt_text():
    text = describe_actions()
    assert len(text.splitlines()) == len(ACTION_TYPES)
    for t in ACTION_TYPES:
        assert text.count(f"{t.name}(") >= 1
