"""The layout of a run directory and the names of a round's stages (the bottom of the run layers).

RUN/config.yaml                 the resolved RunConfig (see domplay.config)
RUN/store.sqlite                tasks, episodes, datasets, checkpoints, metrics (domplay.data.store)
RUN/summary.json                one RoundSummary per round
RUN/round<r>/data/              the round's datasets (sft, pairs, demos.json)
RUN/round<r>/sft|dpo|spin/      the round's checkpoints
RUN/screenshots/                browser screenshots of episode steps
RUN/metrics/                    metric definitions: library/, queue/ (for review), rejected/
"""

from __future__ import annotations

from pathlib import Path

CONFIG_FILE = "config.yaml"
SUMMARY_FILE = "summary.json"
DEMOS_FILE = "demos.json"
METRICS_DIR = "metrics"
STAGES_ROUND0 = ("heldout", "eval")
"""Round 0 fixes the held-out tasks and evaluates the starting model."""
STAGES = ("propose", "rollout", "build", "train", "eval")
"""Every later round, in order."""


def stages_of(r: int) -> tuple[str, ...]:
    return STAGES_ROUND0 if r == 0 else STAGES


def policy_name(r: int) -> str:
    """The name of the policy that acts after round `r`'s training (round 0: the starting model)."""
    return "base" if r == 0 else f"round{r}"


def round_dir(run_dir: Path, r: int) -> Path:
    """RUN/round<r>, created if needed."""
    path = Path(run_dir) / f"round{r}"
    path.mkdir(parents=True, exist_ok=True)
    return path
