"""The rows the dataset builders emit, and how episodes are classified for them.

`SftExample` and `PreferencePair` are typed rows; `as_row()` gives TRL's conversational
format (`prompt`/`completion`, `prompt`/`chosen`/`rejected`: lists of {"role", "content"}
messages) plus flat provenance columns, which TRL ignores and reports trace back to a run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from domplay.agent.episode import Episode, Message, StepRecord
from domplay.errors import StoreError
from domplay.tasks.model import Task

PairKind = Literal["step", "trajectory", "reference", "spin"]
PAIR_KINDS: tuple[PairKind, ...] = ("step", "trajectory", "reference", "spin")
Outcome = Literal["success", "failure", "invalid"]


def outcome(episode: Episode) -> Outcome:
    """success / failure by the verdict; invalid when there is none, it errored, or the run broke.

    An error verdict (a check crashed) is neither a success nor a failure (docs/architecture.md,
    "Verdict"), so such episodes feed no dataset.
    """
    verdict = episode.verdict
    if verdict is None or verdict.error is not None or episode.status == "error":
        return "invalid"
    return "success" if verdict.success else "failure"


def usable(step: StepRecord) -> bool:
    """A step whose completion parsed to an action that ran without error."""
    return step.action is not None and step.error is None


def clean_messages(messages: list[Message]) -> list[Message]:
    """Messages with exactly the keys TRL reads, in a fixed order (Arrow needs one struct type)."""
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]


def assistant(text: str) -> list[Message]:
    return [{"role": "assistant", "content": text}]


@dataclass(frozen=True)
class Source:
    """Provenance shared by every row: the task and the round's verifier."""

    task_id: str
    template: str | None
    seed: int | None
    round: int
    verifier_version: int | None

    @staticmethod
    def of(task: Task, episode: Episode) -> Source:
        verdict = episode.verdict
        return Source(
            task_id=task.id,
            template=task.provenance.template,
            seed=task.provenance.seed,
            round=episode.round,
            verifier_version=verdict.verifier_version if verdict is not None else None,
        )


@dataclass(frozen=True)
class SftExample:
    """One step of a verified successful episode: the prompt the policy saw and the action it took."""

    prompt: list[Message]
    completion: str
    source: Source
    episode_id: str
    policy: str
    step_index: int
    state_key: str
    score: float

    def as_row(self) -> dict[str, Any]:
        return {
            "prompt": clean_messages(self.prompt),
            "completion": assistant(self.completion),
            **asdict(self.source),
            "episode_id": self.episode_id,
            "policy": self.policy,
            "step_index": self.step_index,
            "state_key": self.state_key,
            "score": self.score,
        }


@dataclass(frozen=True)
class PreferencePair:
    """Two answers to one prompt (one state), the verified-better one `chosen`.

    Construction refuses a pair whose two answers are equal, so a pair always teaches
    something; both answers condition on the single `prompt`, so states never mix.
    """

    kind: PairKind
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    source: Source
    state_key: str
    step_index: int
    chosen_episode_id: str | None
    rejected_episode_id: str | None
    chosen_policy: str
    rejected_policy: str
    chosen_score: float | None
    rejected_score: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.chosen == self.rejected:
            raise StoreError(
                f"{self.kind} pair at state {self.state_key} of task {self.source.task_id!r} "
                f"has chosen == rejected ({self.chosen!r:.120}); pairs need two different answers"
            )
        if not self.prompt or not self.chosen or not self.rejected:
            raise StoreError(f"{self.kind} pair at state {self.state_key} has an empty prompt or answer")

    def as_row(self) -> dict[str, Any]:
        return {
            "prompt": clean_messages(self.prompt),
            "chosen": clean_messages(self.chosen),
            "rejected": clean_messages(self.rejected),
            "pair_kind": self.kind,
            **asdict(self.source),
            "state_key": self.state_key,
            "step_index": self.step_index,
            "chosen_episode_id": self.chosen_episode_id,
            "rejected_episode_id": self.rejected_episode_id,
            "chosen_policy": self.chosen_policy,
            "rejected_policy": self.rejected_policy,
            "chosen_score": self.chosen_score,
            "rejected_score": self.rejected_score,
        }


def same_state(a: StepRecord, b: StepRecord) -> list[Message]:
    """The prompt two steps share; raises StoreError if their state keys match but prompts do not."""
    if a.state_key != b.state_key:
        raise StoreError(
            f"steps at states {a.state_key} and {b.state_key} cannot be paired: a pair must come from one state"
        )
    if a.prompt != b.prompt:
        raise StoreError(
            f"two steps share state_key {a.state_key} but their prompts differ; the stored "
            f"episodes are inconsistent (recompute state_key from the prompt)"
        )
    return a.prompt


@dataclass(frozen=True)
class YieldTable:
    """How one round's episodes turned into data (AutoIF's data-yield table, for web episodes)."""

    round: int
    episodes: int = 0
    heldout_episodes: int = 0
    """Episodes of held-out tasks: counted, never used."""
    invalid_episodes: int = 0
    """No verdict, an error verdict, or an infrastructure error."""
    successes: int = 0
    failures: int = 0
    sft_candidates: int = 0
    """Usable steps of successful episodes at or above `min_score`."""
    sft_below_min_score: int = 0
    """Successful episodes left out by `min_score`."""
    sft_duplicates: int = 0
    sft_capped: int = 0
    sft_examples: int = 0
    pairs: dict[str, int] = field(default_factory=dict)
    """Pairs kept, per kind (step, trajectory, reference, spin)."""

    def as_row(self) -> dict[str, Any]:
        row = {k: v for k, v in asdict(self).items() if k != "pairs"}
        row["success_rate"] = self.successes / max(1, self.successes + self.failures)
        for kind in PAIR_KINDS:
            row[f"pairs_{kind}"] = self.pairs.get(kind, 0)
        return row
