"""Episodes: what a rollout records, and what the run store and dataset builders read.

`state_key` identifies the exact input the policy conditioned on at a step (a hash of the
prompt messages). Two steps with the same `state_key` saw the same observation, intent and
history, so their completions can be paired for DPO without mixing states.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import Verdict

Message = dict[str, str]
EpisodeStatus = Literal["done", "truncated", "timeout", "error"]


def state_key(prompt: list[Message]) -> str:
    """A stable id of a policy input (the chat prompt)."""
    blob = json.dumps(prompt, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class StepRecord(BaseModel):
    """One policy step: what the model saw, what it wrote, what happened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int
    url: str
    observation: str
    """The rendered observation text the policy saw at this step."""
    prompt: list[Message]
    """The full chat prompt sent to the model (system + user messages)."""
    completion: str
    """The raw completion."""
    action: str | None
    """The parsed action in canonical form; None when the completion did not parse."""
    error: str | None = None
    """Parse error or the action's error (shown to the agent in the next observation)."""
    state_key: str
    model_seconds: float = 0.0
    env_seconds: float = 0.0
    completion_tokens: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)
    """Plan-mode subtask, sampling info, etc."""


class Episode(BaseModel):
    """One attempt of one task by one policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Stable id (task, policy, round, sample): writing it twice is idempotent."""
    task_id: str
    policy: str
    """The model / checkpoint that acted."""
    round: int = 0
    sample: int = 0
    env: Literal["dom", "browser", "miniwob"] = "dom"
    steps: list[StepRecord] = Field(default_factory=list)
    snapshot: Snapshot | None = None
    verdict: Verdict | None = None
    status: EpisodeStatus = "done"
    error: str | None = None
    seconds: float = 0.0
    plan: dict[str, Any] | None = None
    """Plan mode: candidate plans, their scores, the choice and replans."""
    intent: str | None = None
    """The instruction the env stated at reset when it defines its task then (MiniWoB++'s utterance);
    None: the task's own intent was the instruction."""

    @property
    def success(self) -> bool:
        return self.verdict is not None and self.verdict.success

    @staticmethod
    def make_id(task_id: str, policy: str, round: int, sample: int) -> str:
        raw = f"{task_id}|{policy}|{round}|{sample}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]
