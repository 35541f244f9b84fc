"""The action grammar machine (fast) and constrained decoding on the embedded model (slow)."""

from __future__ import annotations

import re

import pytest

from domplay.env.actions import Click, Fill, Select, parse_action
from domplay.errors import ActionError, ConfigError
from domplay.llm import Constraint, GenerationParams
from domplay.llm.constrained import DONE, START, ActionGrammar

PAGE = Constraint(targets=[3, 7, 12, 15], select_options={15: ["S", "M", 'Large "XL"']})
VALID = [
    "click(12)",
    "click(3)",
    'fill(7, "blue shirt")',
    'fill(7,"")',
    'select(15, "M")',
    'select(15, "Large \\"XL\\"")',
    'select(12, "anything")',
    'press(7, "Enter")',
    'scroll("down")',
    'scroll("up")',
    'goto("/cart?x=1")',
    "back()",
    'answer("42 items")',
    "stop()",
]
INVALID = [
    "click(1)",
    "click(120)",
    "click(012)",
    "clik(12)",
    "click(12))",
    "click( 12)",
    'fill(7, "a\\nb")',
    'select(15, "XL")',
    'press(7, "Return")',
    'scroll("left")',
    "goto(url)",
    "back(1)",
    "stop() ",
    " click(12)",
    'fill(7, "multi\nline")',
]


@pytest.mark.parametrize("text", VALID)
def test_valid_actions_reach_done_and_parse(text):
    grammar = ActionGrammar(PAGE)
    assert grammar.advance(START, text) == DONE
    action = parse_action(text)
    assert (getattr(action, "target", 12), None) in PAGE.targets
    assert re.fullmatch(PAGE.to_regex(), text)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_actions_are_refused(text):
    assert ActionGrammar(PAGE).advance(START, text) != DONE
    assert not re.fullmatch(PAGE.to_regex(), text)


def test_prefixes_stay_alive_until_they_break():
    grammar = ActionGrammar(PAGE)
    assert grammar.advance(START, "cl") is not None
    assert grammar.advance(START, "click(1") is not None  # could become 12 or 15
    assert grammar.advance(START, "click(4") is None
    assert grammar.in_free_text(grammar.advance(START, 'fill(7, "half'))
    assert not grammar.in_free_text(grammar.advance(START, 'select(15, "'))


def test_no_targets_means_no_element_actions():
    grammar = ActionGrammar(Constraint(targets=[]))
    assert grammar.advance(START, "click(") is None
    assert grammar.advance(START, "stop()") == DONE


def test_action_subset_and_json_round_trip():
    only = Constraint(targets=[5], actions=["click", "answer"])
    assert ActionGrammar(only).advance(START, "stop()") is None
    assert Constraint.from_json(only.to_json()) == only
    assert hash(Constraint.from_json(PAGE.to_json())) == hash(PAGE)


NARROW = Constraint(
    targets=[3, 7, 12, 15],
    select_options={15: ["S", "M"]},
    action_targets={"click": [3, 12], "fill": [7], "select": [15], "press": [7]},
    scroll_directions=["down"],
)


@pytest.mark.parametrize(
    "text,ok",
    [
        ("click(12)", True),
        ("click(7)", False),
        ('fill(7, "x")', True),
        ('fill(12, "x")', False),
        ('select(15, "M")', True),
        ('select(12, "M")', False),
        ('press(7, "Enter")', True),
        ('press(3, "Enter")', False),
        ('scroll("down")', True),
        ('scroll("up")', False),
    ],
)
def test_action_targets_and_scroll_directions_narrow_the_grammar(text, ok):
    assert (ActionGrammar(NARROW).advance(START, text) == DONE) is ok
    assert bool(re.fullmatch(NARROW.to_regex(), text)) is ok


def test_an_action_with_nothing_to_name_is_not_allowed():
    none = Constraint(targets=[3], action_targets={"fill": []}, scroll_directions=[])
    grammar = ActionGrammar(none)
    assert grammar.advance(START, "fill(") is None and grammar.advance(START, "scroll(") is None
    assert grammar.advance(START, "click(3)") == DONE
    assert not none.allows("fill") and not none.allows("scroll") and none.allows("click")
    assert Constraint.from_json(none.to_json()) == none
    assert Constraint.from_json(NARROW.to_json()) == NARROW


def test_bad_constraints_fail_loudly():
    with pytest.raises(ConfigError, match="unknown"):
        Constraint(targets=[1], actions=["jump"])
    with pytest.raises(ConfigError, match="non-negative integers"):
        Constraint(targets=[-1])
    with pytest.raises(ConfigError, match="ordinal"):
        Constraint(targets=[(12, 2)])
    with pytest.raises(ConfigError, match="ordinal"):
        Constraint(targets=[("Edit", 0)])
    with pytest.raises(ConfigError, match=r"only .* take targets"):
        Constraint(targets=[1], action_targets={"scroll": [1]})
    with pytest.raises(ConfigError, match="scroll_directions"):
        Constraint(targets=[1], scroll_directions=["left"])


# Name form: names (a repeated one with its ordinal) and a select's options by name.
NAMES = Constraint(
    targets=["Log in", ("Edit", 1), ("Edit", 2), ("Edit", 12), "2", "Colour", "Username", 9],
    select_options={"Colour": ["Red", "Purple"]},
    action_targets={
        "click": ["Log in", ("Edit", 1), ("Edit", 2), ("Edit", 12), "2", 9],
        "fill": ["Username"],
        "select": ["Colour"],
        "press": ["Username"],
    },
)


@pytest.mark.parametrize(
    "text,ok",
    [
        ('click("Log in")', True),
        ('click("Edit", 2)', True),
        ('click("Edit", 12)', True),
        ('click("2")', True),
        ("click(9)", True),
        ('fill("Username", "vera")', True),
        ('select("Colour", "Purple")', True),
        ('press("Username", "Enter")', True),
        ('click("Log")', False),
        ('click("log in")', False),
        ('click("Edit")', False),
        ('click("Edit", 3)', False),
        ('click("Edit", 1 )', False),
        ("click(2)", False),
        ('fill("Log in", "x")', False),
        ('select("Colour", "Green")', False),
        ('select("Username", "Red")', False),
        ('click("Colour")', False),
    ],
)
def test_names_ordinals_and_options_are_exactly_the_pages(text, ok):
    assert (ActionGrammar(NAMES).advance(START, text) == DONE) is ok
    assert bool(re.fullmatch(NAMES.to_regex(), text)) is ok
    if ok:
        parse_action(text)


def test_a_name_that_prefixes_an_ordinal_waits_for_the_next_character():
    grammar = ActionGrammar(NAMES)
    after_one = grammar.advance(START, 'click("Edit", 1')
    assert after_one is not None and grammar.advance(after_one, ")") == DONE
    assert grammar.advance(after_one, "2)") == DONE and grammar.advance(after_one, "3") is None
    assert Constraint.from_json(NAMES.to_json()) == NAMES


def test_the_grammar_is_derived_from_the_action_classes():
    from domplay.env import actions as A
    from domplay.llm.constrained import PIECES

    assert set(PIECES) == set(A.BY_NAME)
    for name, cls in A.BY_NAME.items():
        kinds = [k for k, _ in PIECES[name] if k not in ("lit", "space")]
        assert kinds == [p.kind for p in A.params(cls) if p.kind != A.NTH]


# ----- real decoding with the embedded model -----

OBSERVATION = """Task: buy a medium blue shirt.
Page: Shop - Blue shirt
[3] link "Home"
[7] textbox "Search"
[12] button "Add to cart"
[15] select "Size" (options: S, M, Large "XL")
Reply with exactly one action such as click(3) or fill(7, "text")."""
SAMPLES = 20


def _parsed_ok(text: str, constraint: Constraint) -> bool:
    try:
        action = parse_action(text)
    except ActionError:
        return False
    if isinstance(action, (Click, Fill, Select)) or hasattr(action, "target"):
        return (action.target, action.nth) in constraint.targets
    return True


@pytest.mark.slow
def test_constrained_sampling_always_yields_valid_actions(embedded_model):
    prompts = [[{"role": "user", "content": OBSERVATION}]]
    params = GenerationParams(temperature=1.0, n=SAMPLES, max_new_tokens=16, seed=7)
    constrained = embedded_model.generate(prompts, params, [PAGE])[0]
    free = embedded_model.generate(prompts, params.model_copy(update={"n": SAMPLES // 2}))[0]
    bad = [c.text for c in constrained if not _parsed_ok(c.text, PAGE)]
    assert bad == [], bad
    assert all(c.finish_reason == "stop" for c in constrained)
    unconstrained_valid = sum(_parsed_ok(c.text, PAGE) for c in free)
    assert unconstrained_valid <= len(free) // 2, [c.text for c in free]


@pytest.mark.slow
def test_token_budget_forces_the_closing_quote(embedded_model):
    only_answer = Constraint(targets=[], actions=["answer"])
    prompt = [[{"role": "user", "content": "Write a long story about the sea, then stop."}]]
    out = embedded_model.generate(
        prompt, GenerationParams(temperature=1.0, max_new_tokens=10, seed=1, n=4), [only_answer]
    )[0]
    for c in out:
        assert c.text.startswith('answer("') and c.text.endswith('")'), c.text
        parse_action(c.text)


@pytest.mark.slow
def test_constrained_sampling_by_name_writes_only_the_pages_names(embedded_model):
    page = (
        'Task: edit the second post.\n[1] button "Log in"\n[2] link "Edit"\n[3] link "Edit"\n'
        '[4] textbox "Username"\n[5] combobox "Colour" options=["Red", "Purple"]\n'
        'Reply with one action such as click("Log in").'
    )
    params = GenerationParams(temperature=1.0, n=SAMPLES, max_new_tokens=24, seed=3)
    out = embedded_model.generate([[{"role": "user", "content": page}]], params, [NAMES])[0]
    for c in out:
        action = parse_action(c.text)
        if hasattr(action, "target"):
            assert (action.target, action.nth) in NAMES.targets_for(action.name), c.text
        if isinstance(action, Select):
            assert action.option in ("Red", "Purple"), c.text
