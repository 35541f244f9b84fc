"""The dataset builders' one config; recorded with every dataset it builds (store `datasets.config`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domplay.settings import Settings


class BuildConfig(Settings):
    """What the SFT and preference builders keep. `None` for a cap means no cap."""

    seed: int = 0
    """Seeds the shuffle that decides which examples survive a cap (same seed, same dataset)."""
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    """SFT keeps successful episodes whose verdict score is at least this (partial credit of optional checks)."""
    completion_text: Literal["action", "raw"] = "action"
    """SFT completions and chosen answers: the canonical action ("action") or the model's raw text ("raw")."""
    include_reference: bool = True
    """Replays of reference solutions (episodes of `reference_policy`) also become SFT examples."""
    reference_policy: str = Field("reference", min_length=1)
    """The policy name of episodes that replayed a task's reference solution."""
    max_examples_per_task: int | None = Field(32, ge=1)
    max_examples_per_template: int | None = Field(256, ge=1)
    """Caps after dedupe, so easy tasks and prolific templates do not swamp the set."""
    max_pairs_per_state: int | None = Field(4, ge=1)
    """Step and reference pairs kept at one state (successes x failures can be many)."""
    max_pairs_per_task: int | None = Field(64, ge=1)
    """Pairs of one kind kept per task."""
    pair_unparsed_rejected: bool = True
    """A failed step whose completion did not parse is a rejected answer (its raw text)."""
    max_sft_examples: int | None = Field(None, ge=1)
    """Total SFT examples kept per round (a seeded sample after the other caps): the training budget."""
    max_dpo_pairs: int | None = Field(None, ge=1)
    """Total preference pairs trained on per round (a seeded sample)."""
    max_trajectory_steps: int | None = Field(16, ge=1)
    """Trajectory pairs skip episodes longer than this (the conversation would not fit a context)."""
