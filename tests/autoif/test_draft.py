from domplay.autoif.draft import (
    PageView,
    describe_state,
    draft_prompt,
    read_code,
    read_draft,
    read_intent,
    read_score,
    split_actions,
)
from tests.autoif.writer import draft

CODE = "def check(snapshot):\n    return snapshot['answer'] == '3'"


def test_a_reply_in_the_format_reads_as_a_draft():
    text = draft("Say 3.", CODE, ['answer("3")', 'click("A; B"); answer("3")'], ["", 'answer("4")'])
    d = read_draft(text, max_paths=4, max_actions=5)
    assert not isinstance(d, str)
    assert d.intent == "Say 3." and d.code == CODE
    assert d.pass_paths == (('answer("3")',), ('click("A; B")', 'answer("3")'))
    assert d.fail_paths == ((), ('answer("4")',))


def test_a_given_intent_replaces_the_written_one():
    d = read_draft(draft("Something else", CODE, ['answer("3")']), 4, 5, intent="Say 3.")
    assert not isinstance(d, str) and d.intent == "Say 3."


def test_unreadable_replies_say_why():
    assert read_draft("Sure! Here is a task about shoes.", 4, 5) == "no INTENT: line"
    assert read_draft("INTENT: Say 3.\nPASS: answer('3')", 4, 5) == "no check code (def check(snapshot))"
    assert read_draft(f"INTENT: Say 3.\n```python\n{CODE}\n```", 4, 5) == "no PASS: test path"
    bad = read_draft(draft("Say 3.", CODE, ["rm -rf /"]), 4, 5)
    assert isinstance(bad, str) and "does not parse" in bad
    long = read_draft(draft("Say 3.", CODE, ['scroll("down"); ' * 6 + 'answer("3")']), 4, 5)
    assert isinstance(long, str) and "at most 5" in long


def test_code_without_a_fence_is_read_up_to_the_next_label():
    assert read_code(f"CHECK:\n{CODE}\nPASS: answer('3')") == CODE
    assert read_code("no code here") is None


def test_split_actions_respects_quotes():
    assert split_actions('fill("q", "a;b"); press("q", "Enter")') == ['fill("q", "a;b")', 'press("q", "Enter")']


def test_scores_and_intents():
    assert read_score("SCORE: 8") == 0.8
    assert read_score("**Score**: 10/10") == 1.0
    assert read_score("score: 42") is None and read_score("they match") is None
    assert read_intent("INTENT: Buy socks.\nmore") == "Buy socks."
    assert read_intent("Buy socks.") == "Buy socks." and read_intent("  ") is None


def test_the_prompt_shows_page_state_and_actions():
    state = describe_state({"shop": {"cart": [{"product_id": 1, "qty": 2}], "user": None}})
    assert "snapshot['state']['shop']['cart']: list of 1, each with keys ['product_id', 'qty']" in state
    page = PageView("/shop/", "shop", 'link "Kitchen"', state)
    user = draft_prompt(page, "Open Kitchen.", 100)[1]["content"]
    system = draft_prompt(page, None, 100)[0]["content"]
    assert "Open Kitchen." in user and 'link "Kitchen"' in user and "list of 1" in user
    assert "click(" in system and "query(html, css)" in system
