"""Task sources: the `Proposer` protocol every source of tasks implements, what a proposal
returns, and how a round's training tasks are shared among the configured sources.

A source makes tasks with checks; where it knows a solution (a template's reference, a
relabelled episode's own actions) it gives it as `Task.reference`, verified by replay. Sources
that learn from episodes (exploration, curriculum) see the run through the arguments their
constructor takes; the loop builds them per round (`stages.task_source`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from domplay.errors import ConfigError
from domplay.tasks.model import Split, Task

OVER_MAX_STEPS = "over max_steps"
"""Part of a ProposalFailure's reason when the reference does not fit the step cap."""


@dataclass(frozen=True)
class ProposalFailure:
    """A task a source drew and dropped, and why (shown in the yield table and the report)."""

    template: str
    seed: int
    reason: str


@dataclass
class Proposal:
    tasks: list[Task] = field(default_factory=list)
    failures: list[ProposalFailure] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    """A source's own counts (pages discovered, walks, relabelled goals, ...) for the yield table."""

    @property
    def over_max_steps(self) -> int:
        """Failures whose reference needs more steps than the proposer's max_steps."""
        return sum(1 for f in self.failures if OVER_MAX_STEPS in f.reason)


class Proposer(Protocol):
    """A source of tasks. `propose` returns up to `n` tasks of `split` for proposer seed `seed`
    (the same seed gives the same tasks); `close` releases envs and browsers."""

    name: str

    def propose(self, n: int, split: Split, seed: int) -> Proposal: ...

    def close(self) -> None: ...


def share_counts(shares: Mapping[str, float], n: int) -> dict[str, int]:
    """`n` tasks split among sources in proportion to `shares` (largest remainder, ties in the
    mapping's order), so the counts always add up to `n`."""
    total = sum(shares.values())
    if total <= 0 or any(v < 0 for v in shares.values()):
        raise ConfigError(f"task source shares {dict(shares)} must be >= 0 with a positive sum")
    exact = {k: n * v / total for k, v in shares.items()}
    counts = {k: int(v) for k, v in exact.items()}
    by_remainder = sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)
    for k in by_remainder[: n - sum(counts.values())]:
        counts[k] += 1
    return counts
