"""Any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, hosted APIs) as a ChatModel.

One POST /chat/completions per prompt, sent concurrently from a thread pool. Retries with
exponential backoff on 429, 5xx and connection errors only; any other 4xx fails at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import httpx
from pydantic import BaseModel, Field

from domplay.errors import ConfigError, ModelError
from domplay.llm.base import Completion, GenerationParams, Message, check_constraints, truncate_at_stop, valid_text
from domplay.llm.constrained import Constraint

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
ERROR_BODY_CHARS = 300


class OpenAIConfig(BaseModel, extra="forbid", frozen=True):
    """Where the endpoint is and how hard to try."""

    model: str = Field(description="model name the server knows")
    base_url: str = Field(
        "http://127.0.0.1:8100/v1", description="URL up to and including /v1 (default: `domplay.llm.serve`'s)"
    )
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the key (may be unset)")
    concurrent_requests: int = Field(8, ge=1, description="requests in flight at once")
    timeout_seconds: float = Field(60.0, gt=0, description="per-request timeout")
    max_retries: int = Field(5, ge=0, description="retries after the first attempt")
    backoff_initial_seconds: float = Field(0.5, ge=0, description="wait before the first retry; doubles each time")
    backoff_max_seconds: float = Field(30.0, ge=0, description="cap on one wait (also caps Retry-After)")
    constraint_format: Literal["none", "domplay", "vllm_regex"] = Field(
        "none",
        description="how Constraints are sent: not at all, as domplay.llm.serve's "
        "'domplay_constraint' field, or as vLLM's 'guided_regex'",
    )


class OpenAIModel:
    """ChatModel over HTTP. `transport` replaces the network (recorded cassettes in tests)."""

    def __init__(self, config: OpenAIConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.name = config.model
        key = os.environ.get(config.api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            base_url=config.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=config.timeout_seconds,
            transport=transport,
        )

    def generate(
        self,
        prompts: Sequence[list[Message]],
        params: GenerationParams,
        constraints: Sequence[Constraint | None] | None = None,
    ) -> list[list[Completion]]:
        check_constraints(prompts, constraints)
        cons = list(constraints) if constraints is not None else [None] * len(prompts)
        bodies = [self._body(p, params, c) for p, c in zip(prompts, cons, strict=True)]
        if len(bodies) == 1:
            return [self._complete(bodies[0], params)]
        with ThreadPoolExecutor(max_workers=min(self.config.concurrent_requests, len(bodies))) as pool:
            return list(pool.map(lambda body: self._complete(body, params), bodies))

    def close(self) -> None:
        self._client.close()

    def _body(self, messages: list[Message], params: GenerationParams, constraint: Constraint | None) -> dict:
        body: dict = {
            "model": self.config.model,
            "messages": messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_new_tokens,
            "n": params.n,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if constraint is not None and self.config.constraint_format == "domplay":
            body["domplay_constraint"] = constraint.to_json()
        elif constraint is not None and self.config.constraint_format == "vllm_regex":
            body["guided_regex"] = constraint.to_regex()
        return body

    def _complete(self, body: dict, params: GenerationParams) -> list[Completion]:
        started = time.perf_counter()
        data = self._post(body)
        seconds = time.perf_counter() - started
        try:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            usage = data.get("usage") or {}
            texts = [c["message"]["content"] or "" for c in choices]
            reasons = [c.get("finish_reason") for c in choices]
            prompt_tokens, completion_tokens = (
                int(usage.get("prompt_tokens", 0)),
                int(usage.get("completion_tokens", 0)),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ModelError(
                f"{self.config.base_url} returned a malformed chat completion ({type(exc).__name__}: {exc}); "
                "is it OpenAI-compatible?"
            ) from None
        if not all(isinstance(t, str) for t in texts):
            raise ModelError(f"{self.config.base_url} returned a message content that is not a string: {texts!r:.200}")
        if len(texts) != params.n:
            raise ModelError(
                f"{self.config.base_url} returned {len(texts)} choices for n={params.n}; "
                f"the server may not support n > 1"
            )
        out = []
        for text, reason in zip(texts, reasons, strict=True):
            text, _ = truncate_at_stop(valid_text(text), params.stop)
            out.append(
                Completion(
                    text=text,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens // max(1, len(texts)),
                    finish_reason="length" if reason == "length" else "stop",
                    seconds=seconds / len(texts),
                )
            )
        return out

    def _post(self, body: dict) -> dict:
        url = f"{self.config.base_url}/chat/completions"
        for attempt in range(self.config.max_retries + 1):
            last = attempt == self.config.max_retries
            try:
                response = self._client.post("chat/completions", json=body)
            except httpx.TransportError as exc:
                if last:
                    raise ModelError(
                        f"{url} unreachable after {attempt + 1} attempts: {exc!r}; is the server running?"
                    ) from exc
                self._wait(attempt, None)
                continue
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    raise ModelError(
                        f"{url} answered 200 with a body that is not JSON: {response.text[:ERROR_BODY_CHARS]!r}; "
                        "is it an OpenAI-compatible endpoint?"
                    ) from None
            if response.status_code not in RETRY_STATUSES or last:
                raise ModelError(
                    f"{url} answered {response.status_code} after {attempt + 1} attempt(s): "
                    f"{response.text[:ERROR_BODY_CHARS]}"
                )
            self._wait(attempt, response.headers.get("retry-after"))
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self.config.backoff_initial_seconds * 2**attempt
        if retry_after is not None and retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, self.config.backoff_max_seconds))


def parse_openai_spec(spec: str) -> tuple[str, str]:
    """'MODEL@BASE_URL' -> (model, base_url)."""
    model, sep, base_url = spec.partition("@")
    if not model or not sep or not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"openai model spec {spec!r} must look like openai:MODEL@http://host:port/v1")
    return model, base_url
