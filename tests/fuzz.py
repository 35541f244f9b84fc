"""Hypothesis strategies for model replies, shared by the env and policy fuzz tests (issue 21).

Example counts are kept small so the fuzz tests run in seconds in CI; `derandomize` makes every CI run
see the same examples, and no example database is written.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from domplay.env import actions as A

FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Replies that raised something other than ActionError before issue 21 (or that sit at an edge).
HOSTILE_REPLIES = [
    'click("²")',
    'click("①")',
    'click("٣")',
    'goto("http://[::1")',
    'goto("http://ex\uff03ample.com/")',
    'goto("http://127.0.0.1:8000/\uff03")',
    'goto("/\x01")',
    'goto("/a\\x7fb")',
    'answer("\ud800")',
    'answer("\\ud800")',
    'fill("Full name", "\\udfff")',
    "click(" + "1+" * 5000 + "1)",
    "click(" + "-" * 100_000 + "1)",
    "answer(" + "not " * 50_000 + "1)",
    'answer("' + "x" * 100_000 + '")',
    "click([" * 200 + "]" * 200 + ")",
    "click(1" + "0" * 5000 + ")",
    "answer(1e999)",
    "click(\x00)",
    "\ud800",
    "click(12, nth=0)",
    "scroll(1e999, -1e999)",
    "press(1, '\ud800')",
]

names = st.sampled_from(sorted(A.BY_NAME) + sorted(A.ALIASES) + ["eval", "__import__", "click.x"])
literals = st.one_of(
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
arguments = st.one_of(literals.map(repr), st.text(max_size=20), st.sampled_from(["nth=2", "bid='12'", "**{}", "*x"]))
calls = st.builds(lambda n, args: f"{n}({', '.join(args)})", names, st.lists(arguments, max_size=4))


@st.composite
def mutated(draw) -> str:
    """A well-formed call with characters inserted, deleted or replaced: what a sampling model gets wrong."""
    text = draw(calls)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.text(max_size=3)) + text[i + draw(st.integers(0, 2)) :]
    return text


replies = st.one_of(st.text(), calls, mutated(), st.sampled_from(HOSTILE_REPLIES))
