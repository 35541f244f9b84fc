"""Online (iterative) DPO and SPIN: sample from the current policy, verify, pair, train, repeat.

The loop is written against two injected callables so any rollout engine plugs in:

    sample(model_dir) -> episodes       run the current policy (verification included)
    build_pairs(episodes) -> dataset    prompt/chosen/rejected rows (TRL preference format)

Each iteration trains from the previous iteration's merged model, which is also its
reference model, and writes `<out_dir>/iter_<k>/` (model + training.json) and
`<out_dir>/online.json` (one summary line per iteration, rewritten after each).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from domplay.train.config import DPOTrainConfig
from domplay.train.dpo import train_dpo
from domplay.train.runtime import TrainResult, resolve_model_path

SUMMARY_NAME = "online.json"


class OnlineConfig(BaseModel, extra="forbid", frozen=True):
    """How many sample-pair-train iterations to run, and when an iteration has too little data."""

    iterations: int = Field(2, ge=1, description="sample -> pair -> train rounds")
    min_pairs: int = Field(1, ge=1, description="fewer preference pairs than this stops the loop early")
    method: Literal["dpo", "spin"] = Field("dpo", description="recorded method (SPIN = iterated DPO on SPIN pairs)")
    dpo: DPOTrainConfig = Field(default_factory=DPOTrainConfig, description="settings of each iteration's training")


@dataclass(frozen=True)
class Iteration:
    """One iteration of the online loop."""

    index: int
    model_in: str  # the policy that sampled (and the reference of this iteration's training)
    episodes: int
    pairs: int
    result: TrainResult | None  # None when the iteration had fewer than min_pairs pairs
    stopped_reason: str | None


def run_iterative(model: str | Path, sample: Callable[[Path], Sequence[Any]],
                  build_pairs: Callable[[Sequence[Any]], Any], out_dir: str | Path,
                  config: OnlineConfig | None = None) -> list[Iteration]:
    """Run `config.iterations` rounds of sample -> build_pairs -> DPO; return what each round did.

    The policy of round k+1 is round k's merged model. The loop stops early, recording why,
    when a round yields fewer than `config.min_pairs` pairs.
    """
    config = config or OnlineConfig()
    out = Path(out_dir)
    current = resolve_model_path(model)
    done: list[Iteration] = []
    for index in range(config.iterations):
        episodes = list(sample(current))
        pairs = build_pairs(episodes)
        count = len(pairs)
        if count < config.min_pairs:
            reason = f"{count} pairs < min_pairs={config.min_pairs}"
            done.append(Iteration(index, str(current), len(episodes), count, None, reason))
            _write_summary(out, config, done)
            break
        # Seeds differ per iteration so data order and dropout do not repeat round after round.
        dpo_config = config.dpo.model_copy(update={"seed": config.dpo.seed + index})
        result = train_dpo(pairs, current, out / f"iter_{index}", dpo_config, method=config.method)
        done.append(Iteration(index, str(current), len(episodes), count, result, None))
        _write_summary(out, config, done)
        current = result.model_dir
    return done


def final_model(iterations: Sequence[Iteration], start: str | Path) -> Path:
    """The last model the loop produced, or `start` if no iteration trained."""
    trained = [it.result.model_dir for it in iterations if it.result is not None]
    return trained[-1] if trained else resolve_model_path(start)


def _write_summary(out: Path, config: OnlineConfig, done: list[Iteration]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(it), "result": _result_row(it.result)} for it in done]
    payload = {"config": config.model_dump(mode="json"), "iterations": rows}
    (out / SUMMARY_NAME).write_text(json.dumps(payload, indent=2, default=str) + "\n")


def _result_row(result: TrainResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"model_dir": str(result.model_dir), "final_loss": result.final_loss, "steps": result.steps,
            "seconds": result.seconds, "examples_seen": result.examples_seen}
