"""The ChatModel protocol: a batch of chat prompts in, n completions per prompt out.

Every backend (local transformers model, the embedded default, an OpenAI-compatible
endpoint, the scripted test model) implements the one method `generate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from domplay.llm.constrained import Constraint

Message = dict[str, str]
"""One chat message: {"role": "system" | "user" | "assistant", "content": "..."}."""

FinishReason = Literal["stop", "length"]


class GenerationParams(BaseModel, extra="forbid", frozen=True):
    """Sampling settings for one `generate` call; recorded with every episode."""

    temperature: float = Field(0.0, ge=0.0, description="0 means greedy decoding")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass")
    max_new_tokens: int = Field(64, ge=1, description="completion length cap, in tokens")
    stop: tuple[str, ...] = Field((), description="completions are cut before the first of these")
    seed: int | None = Field(None, description="same seed and inputs give the same samples")
    seeds: tuple[int, ...] | None = Field(
        None,
        description="one seed per prompt: each prompt's samples then depend only on the prompt and its "
        "seed, not on which other prompts share its batch (resumed runs sample the same)",
    )
    n: int = Field(1, ge=1, description="completions per prompt")


@dataclass(frozen=True)
class Completion:
    """One sampled completion.

    `seconds` is this completion's share of the wall time of the call that produced it
    (batch time / completions in the batch), so summing over completions gives wall time.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason
    seconds: float


@runtime_checkable
class ChatModel(Protocol):
    """Chat messages in, n completions out, for many prompts at once.

    `constraints`, when given, has one entry per prompt (None = unconstrained). Local
    backends enforce it while decoding; remote ones pass it on when configured to.
    """

    name: str

    def generate(
        self,
        prompts: Sequence[list[Message]],
        params: GenerationParams,
        constraints: Sequence[Constraint | None] | None = None,
    ) -> list[list[Completion]]:
        """Return, for each prompt, a list of `params.n` completions."""
        ...


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` before the earliest stop string; say whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def valid_text(text: str) -> str:
    """`text` with lone surrogates (which a JSON escape such as "\\ud800" decodes to, and which no file,
    database or HTTP body can hold) replaced by U+FFFD, the replacement character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def check_constraints(prompts: Sequence[object], constraints: Sequence[object] | None) -> None:
    """Raise ConfigError unless `constraints` is None or has one entry per prompt."""
    from domplay.errors import ConfigError

    if constraints is not None and len(constraints) != len(prompts):
        raise ConfigError(
            f"constraints has {len(constraints)} entries for {len(prompts)} prompts; "
            f"pass one Constraint (or None) per prompt"
        )
