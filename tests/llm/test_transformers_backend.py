"""TransformersModel on the embedded checkpoint: batching, n samples, seeds, stop strings, counts."""

from __future__ import annotations

import pytest

from domplay.errors import ModelError
from domplay.llm import GenerationParams, load_model

pytestmark = pytest.mark.slow

PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Name a color that the sky often has on a clear summer day."},
    ],
    [{"role": "user", "content": "Hi"}],
]
SHORT_TOKENS = 8


def test_batched_greedy_matches_single_prompt_and_repeats_n(embedded_model):
    params = GenerationParams(max_new_tokens=SHORT_TOKENS, n=2)
    batched = embedded_model.generate(PROMPTS, params)
    assert [len(group) for group in batched] == [2, 2, 2]
    assert all(group[0].text == group[1].text and group[0].text for group in batched)
    alone = embedded_model.generate(PROMPTS[:1], params.model_copy(update={"n": 1}))
    assert alone[0][0].text == batched[0][0].text  # left padding does not change the result
    counts = [group[0].prompt_tokens for group in batched]
    assert counts[0] > counts[2] > 0 and counts[1] > 0  # "Hi" is the shortest
    assert all(0 < g[0].completion_tokens <= SHORT_TOKENS and g[0].seconds > 0 for g in batched)
    assert {g[0].finish_reason for g in batched} <= {"stop", "length"}


def test_length_batches_return_completions_in_prompt_order():
    """Every prompt in a call of its own (batch_call_tokens=0 splits at every length) gives the
    same greedy completions, in the same order, as one batch in the given order."""
    params = GenerationParams(max_new_tokens=SHORT_TOKENS)
    split = load_model("embedded", batch_call_tokens=0).generate(PROMPTS, params)
    together = load_model("embedded", batch_call_tokens=None).generate(PROMPTS, params)
    assert [g[0].text for g in split] == [g[0].text for g in together]
    assert [g[0].prompt_tokens for g in split] == [g[0].prompt_tokens for g in together]


def test_seeds_make_sampling_reproducible(embedded_model):
    params = GenerationParams(temperature=1.0, max_new_tokens=SHORT_TOKENS, n=3, seed=5)
    first = [c.text for c in embedded_model.generate(PROMPTS[:1], params)[0]]
    again = [c.text for c in embedded_model.generate(PROMPTS[:1], params)[0]]
    other = [c.text for c in embedded_model.generate(PROMPTS[:1], params.model_copy(update={"seed": 6}))[0]]
    assert first == again
    assert first != other
    assert len(set(first)) > 1  # n samples differ from each other


def test_per_prompt_seeds_make_samples_independent_of_the_batch(embedded_model):
    params = GenerationParams(temperature=1.0, max_new_tokens=SHORT_TOKENS, n=2, seeds=(11, 12, 13))
    batched = embedded_model.generate(PROMPTS, params)
    alone = embedded_model.generate(PROMPTS[1:2], params.model_copy(update={"seeds": (12,)}))
    assert [c.text for c in alone[0]] == [c.text for c in batched[1]]
    reordered = embedded_model.generate([PROMPTS[1], PROMPTS[0]], params.model_copy(update={"seeds": (12, 11)}))
    assert [c.text for c in reordered[0]] == [c.text for c in batched[1]]
    assert batched[1][0].text != batched[1][1].text or batched[0][0].text != batched[0][1].text


def test_stop_strings_cut_the_text(embedded_model):
    out = embedded_model.generate(PROMPTS[:1], GenerationParams(max_new_tokens=SHORT_TOKENS, stop=(" ",)))[0][0]
    full = embedded_model.generate(PROMPTS[:1], GenerationParams(max_new_tokens=SHORT_TOKENS))[0][0]
    assert " " in full.text and " " not in out.text
    assert full.text.startswith(out.text) and out.finish_reason == "stop"


def test_specs_resolve_local_directories(embedded_model, tmp_path):
    path = embedded_model.config.path
    model = load_model(f"hf:{path}", constrained=False, batch_size=2)
    assert model.constrained is False and model.config.batch_size == 2
    assert load_model(path, name="plain-dir").name == "plain-dir"
    with pytest.raises(ModelError, match=r"config\.json missing"):
        load_model(f"hf:{tmp_path}")


def _agent_prompts() -> list[list[dict]]:
    """Prompts that share a long prefix (the agent's system prompt) and differ after it."""
    from domplay.agent.prompts import build_prompt

    pages = [
        '[1] link "Home"\n[2] button "Submit"',
        '[1] textbox "Search"\n[2] button "Go"\n[3] link "Cart"',
        '[1] heading "Orders"',
    ]
    intents = ["Click the Submit button.", "Search for lamps.", "Open the orders page."]
    return [build_prompt(intent, page) for intent, page in zip(intents, pages, strict=True)]


def test_shared_prefix_cache_gives_the_same_completions(embedded_model):
    from domplay.llm.embedded import embedded_model_dir

    plain = load_model(str(embedded_model_dir()), prefix_cache=False, constrained=False)
    cached = load_model(str(embedded_model_dir()), prefix_cache=True, constrained=False)
    prompts = _agent_prompts()
    greedy = GenerationParams(max_new_tokens=SHORT_TOKENS)
    sampled = GenerationParams(temperature=1.0, max_new_tokens=SHORT_TOKENS, n=2, seeds=(3, 4, 5))
    for params in (greedy, sampled):
        want = plain.generate(prompts, params)
        got = cached.generate(prompts, params)
        assert [[c.text for c in g] for g in got] == [[c.text for c in g] for g in want]
        assert [g[0].prompt_tokens for g in got] == [g[0].prompt_tokens for g in want]
    assert len(cached._prefixes) == 1  # one shared prefix, kept across calls
    prefix = next(iter(cached._prefixes))
    alone = cached.generate(prompts[1:2], greedy)  # a single prompt reuses the kept prefix
    assert alone[0][0].text == plain.generate(prompts[1:2], greedy)[0][0].text
    assert list(cached._prefixes) == [prefix]
    assert not plain._prefixes


def test_rows_with_different_prefixes_share_one_batch(embedded_model):
    from domplay.agent.prompts import Demo, build_prompt
    from domplay.llm.embedded import embedded_model_dir

    plain = load_model(str(embedded_model_dir()), prefix_cache=False, constrained=False)
    cached = load_model(str(embedded_model_dir()), prefix_cache=True, constrained=False)
    demo_a = Demo(user='Task: Open the cart.\n\n[1] link "Cart"\n[2] link "Home"', action="click(1)")
    demo_b = Demo(user='Task: Search for tea.\n\n[1] textbox "Search"', action='fill(1, "tea")')
    prompts = [
        build_prompt("Click the Submit button.", '[1] link "Home"\n[2] button "Submit"', demos=[demo_a]),
        build_prompt("Search for lamps.", '[1] textbox "Search"\n[2] button "Go"', demos=[demo_a, demo_b]),
        PROMPTS[2],
    ]  # no prefix at all: its row is all padding in the cached part
    params = GenerationParams(max_new_tokens=SHORT_TOKENS)
    want = plain.generate(prompts, params)
    got = cached.generate(prompts, params)
    assert [g[0].text for g in got] == [g[0].text for g in want]
    assert [g[0].prompt_tokens for g in got] == [g[0].prompt_tokens for g in want]
    assert min(len(k) for k in cached._prefixes) > 100 and len(cached._prefixes) == 2
    small = load_model(str(embedded_model_dir()), prefix_cache_tokens=20, constrained=False)
    small.generate(prompts, params)
    assert len(small._prefixes) == 1  # over the token bound, only the most recent prefix stays


def test_prompts_are_batched_by_length_where_padding_would_cost_more_than_a_call():
    from domplay.llm.transformers_backend import length_batches

    lengths = [300, 1000, 320, 980, 310, 330, 990, 1010]
    assert length_batches(lengths, 8, 1024) == [[0, 4, 2, 5], [3, 6, 1, 7]]  # short ones apart from long ones
    assert length_batches([300, 310, 320, 330], 8, 1024) == [[0, 1, 2, 3]]  # similar: one call
    assert length_batches(lengths, 3, 1024) == [[0, 4], [2, 5], [3, 6], [1, 7]] or all(
        len(b) <= 3 for b in length_batches(lengths, 3, 1024)
    )
    assert length_batches([300, 1000, 320], 2, None) == [[0, 1], [2]]  # in the given order
    assert sorted(i for b in length_batches(lengths, 3, 0) for i in b) == list(range(8))
