"""ScriptedModel: queued replies, callables, recorded prompts, a clear error when empty."""

from __future__ import annotations

import pytest

from domplay.errors import ConfigError, ModelError
from domplay.llm import ChatModel, GenerationParams, ScriptedModel, load_model
from domplay.llm.base import truncate_at_stop

PROMPT = [{"role": "user", "content": "what now?"}]


def test_replies_in_order_and_records_prompts():
    model = load_model("scripted", responses=["click(1)", "stop()"])
    assert isinstance(model, ChatModel)
    out = model.generate([PROMPT, PROMPT], GenerationParams())
    assert [o[0].text for o in out] == ["click(1)", "stop()"]
    assert model.prompts == [PROMPT, PROMPT]


def test_empty_queue_raises_model_error_naming_the_fix():
    model = ScriptedModel(["a"])
    model.generate([PROMPT], GenerationParams())
    with pytest.raises(ModelError, match="push"):
        model.generate([PROMPT], GenerationParams())
    model.push("b")
    assert model.generate([PROMPT], GenerationParams())[0][0].text == "b"


def test_callable_responder_n_samples_stop_and_length():
    model = ScriptedModel(lambda prompt: f"answer({prompt[-1]['content']!r})\nmore words here")
    out = model.generate([PROMPT], GenerationParams(n=3, stop=("\n",)))
    assert [c.text for c in out[0]] == ["answer('what now?')"] * 3
    assert out[0][0].finish_reason == "stop"
    cut = model.generate([PROMPT], GenerationParams(max_new_tokens=3))[0][0]
    assert cut.text == "answer('what now?')\nmore" and cut.finish_reason == "length" and cut.completion_tokens == 3


def test_constraints_must_match_prompts():
    model = ScriptedModel(["x", "y"])
    with pytest.raises(ConfigError, match="one Constraint"):
        model.generate([PROMPT], GenerationParams(), constraints=[None, None])


def test_params_forbid_unknown_fields_and_bad_values():
    with pytest.raises(ValueError, match="extra"):
        GenerationParams(temprature=0.5)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        GenerationParams(n=0)


def test_truncate_at_stop_cuts_at_earliest():
    assert truncate_at_stop("a\nb</s>c", ["</s>", "\n"]) == ("a", True)
    assert truncate_at_stop("abc", ["x", ""]) == ("abc", False)
