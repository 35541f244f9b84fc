"""OpenAIModel against recorded HTTP exchanges (cassettes replayed through httpx.MockTransport-style transport)."""

from __future__ import annotations

import pytest

from domplay.errors import ConfigError, ModelError
from domplay.llm import GenerationParams, load_model
from domplay.llm.constrained import Constraint
from domplay.llm.openai_backend import OpenAIConfig, OpenAIModel, parse_openai_spec

BASE = "https://api.openai.com/v1"
FAST_RETRIES = {"backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.01}


def test_n_completions_stop_seed_and_usage_are_sent_and_read(cassette, monkeypatch):
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-test-123")
    tape = cassette("chat_n2.json")
    model = load_model(f"openai:gpt-4o-mini@{BASE}", api_key_env="TEST_OPENAI_KEY", transport=tape)
    messages = [
        {"role": "system", "content": "You are a web agent. Reply with one action."},
        {"role": "user", "content": '[12] button "Add to cart"\nTask: add the shirt to the cart.'},
    ]
    out = model.generate([messages], GenerationParams(temperature=0.7, max_new_tokens=16, stop=("\n",), seed=3, n=2))
    assert [c.text for c in out[0]] == ["click(12)", "click(12)"]
    assert out[0][0].prompt_tokens == 38 and out[0][0].completion_tokens == 4
    assert out[0][0].finish_reason == "stop"
    assert tape.seen[0]["authorization"] == "Bearer sk-test-123"
    assert tape.unused == []


def test_retries_429_and_503_then_succeeds(cassette):
    tape = cassette("retry_429_503.json")
    model = OpenAIModel(OpenAIConfig(model="gpt-4o-mini", base_url=BASE, **FAST_RETRIES), transport=tape)
    out = model.generate([[{"role": "user", "content": "Say ok."}]], GenerationParams(max_new_tokens=4))
    assert out[0][0].text == "ok" and out[0][0].finish_reason == "length"
    assert len(tape.seen) == 3 and tape.unused == []


def test_gives_up_after_max_retries(cassette):
    tape = cassette("retry_429_503.json")
    model = OpenAIModel(OpenAIConfig(model="gpt-4o-mini", base_url=BASE, max_retries=1, **FAST_RETRIES), transport=tape)
    with pytest.raises(ModelError, match="503 after 2 attempt"):
        model.generate([[{"role": "user", "content": "Say ok."}]], GenerationParams(max_new_tokens=4))


def test_400_is_not_retried(cassette):
    tape = cassette("error_400.json")
    model = OpenAIModel(OpenAIConfig(model="gpt-4o-mini", base_url=BASE, **FAST_RETRIES), transport=tape)
    with pytest.raises(ModelError, match=r"400 after 1 attempt.*temperature"):
        model.generate([[{"role": "user", "content": "Say ok."}]], GenerationParams(temperature=5.0, max_new_tokens=4))
    assert len(tape.seen) == 1


def test_many_prompts_are_sent_concurrently_and_kept_in_order(cassette):
    tape = cassette("batch_3.json")
    model = OpenAIModel(OpenAIConfig(model="gpt-4o-mini", base_url=BASE, concurrent_requests=3), transport=tape)
    prompts = [[{"role": "user", "content": f"page {i}"}] for i in range(3)]
    out = model.generate(prompts, GenerationParams(max_new_tokens=8))
    assert [o[0].text for o in out] == ["back()", "stop()", 'scroll("down")']
    assert [o[0].prompt_tokens for o in out] == [5, 6, 7]


def test_constraint_formats_add_the_right_field():
    c = Constraint(targets=[3, 12])
    msgs = [{"role": "user", "content": "x"}]
    params = GenerationParams()
    plain = OpenAIModel(OpenAIConfig(model="m"))._body(msgs, params, c)
    ours = OpenAIModel(OpenAIConfig(model="m", constraint_format="domplay"))._body(msgs, params, c)
    vllm = OpenAIModel(OpenAIConfig(model="m", constraint_format="vllm_regex"))._body(msgs, params, c)
    assert "domplay_constraint" not in plain and "guided_regex" not in plain
    assert Constraint.from_json(ours["domplay_constraint"]) == c
    assert "click\\((?:12|3)\\)" in vllm["guided_regex"]


def test_bad_specs_and_options_fail_loudly():
    with pytest.raises(ConfigError, match="openai:MODEL@"):
        parse_openai_spec("gpt-4o-mini")
    with pytest.raises(ValueError, match="extra"):
        OpenAIConfig(model="m", retries=3)
    with pytest.raises(ConfigError, match="unknown model spec"):
        load_model("no-such-backend:thing")
