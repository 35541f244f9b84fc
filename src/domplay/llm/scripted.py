"""A scripted ChatModel for tests: it replies with queued strings or a function of the prompt."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from domplay.errors import ModelError
from domplay.llm.base import Completion, GenerationParams, Message, check_constraints, truncate_at_stop

Responder = Callable[[list[Message]], str]


class ScriptedModel:
    """Replies from `responses` (a list used in order, or a callable of the prompt).

    Every prompt it was asked is kept in `prompts`, the params in `params_seen` and the
    constraints in `constraints_seen`, so tests can check what an agent sent. Tokens are
    counted as whitespace-separated words; `max_new_tokens` cuts a reply after that many.
    """

    def __init__(self, responses: Iterable[str] | Responder = (), name: str = "scripted") -> None:
        self.name = name
        self._responder = responses if callable(responses) else None
        self._queue: deque[str] = deque() if callable(responses) else deque(responses)
        self.prompts: list[list[Message]] = []
        self.params_seen: list[GenerationParams] = []
        self.constraints_seen: list[object] = []

    def push(self, *responses: str) -> None:
        """Queue more responses."""
        self._queue.extend(responses)

    def generate(
        self, prompts: Sequence[list[Message]], params: GenerationParams, constraints: Sequence[object] | None = None
    ) -> list[list[Completion]]:
        check_constraints(prompts, constraints)
        self.params_seen.append(params)
        results = []
        for i, prompt in enumerate(prompts):
            self.prompts.append(prompt)
            self.constraints_seen.append(constraints[i] if constraints is not None else None)
            results.append([self._complete(prompt, params) for _ in range(params.n)])
        return results

    def _complete(self, prompt: list[Message], params: GenerationParams) -> Completion:
        if self._responder is not None:
            raw = self._responder(prompt)
        elif self._queue:
            raw = self._queue.popleft()
        else:
            raise ModelError(
                f"ScriptedModel {self.name!r} has no response left for prompt #{len(self.prompts)} "
                f"(last message: {prompt[-1].get('content', '')[:60]!r}); queue more with push()"
            )
        text, stopped = truncate_at_stop(raw, params.stop)
        words = list(re.finditer(r"\S+", text))
        prompt_words = sum(len(m.get("content", "").split()) for m in prompt)
        length = not stopped and len(words) > params.max_new_tokens
        if length:
            text = text[: words[params.max_new_tokens - 1].end()]
        words = words[: params.max_new_tokens]
        return Completion(
            text=text,
            prompt_tokens=prompt_words,
            completion_tokens=len(words),
            finish_reason="length" if length else "stop",
            seconds=0.0,
        )
