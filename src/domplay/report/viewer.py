"""The trajectory viewer's data: a bounded selection of episodes as JSON-able dicts.

Embedding every episode of a run would make the report as large as the store, so the viewer
gets the held-out eval episodes of the first and the last round (up to a cap per round) and
a seeded sample of training episodes per round; observations are cut to a length and
screenshots above a size are left out. `ViewerData.left_out` says what was not embedded.

Screenshots: a step shows one when its `extra[SCREENSHOT_KEY]` names a PNG or JPEG file
(relative to the run directory, or absolute); the rollout engine writes them for a
BrowserEnv with `screenshots` on (see `domplay.agent.rollout.ScreenshotFiles`).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from domplay.agent.episode import Episode, StepRecord
from domplay.agent.rollout import SCREENSHOT_KEY
from domplay.data.store import RunStore
from domplay.settings import Settings
from domplay.tasks.model import Task

__all__ = ["SCREENSHOT_KEY", "ViewerConfig", "ViewerData", "episode_dict", "select_episodes"]

_IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class ViewerConfig(Settings):
    """Bounds on what the report embeds for the trajectory viewer."""

    max_eval_episodes_per_round: int = Field(
        300, ge=0, description="held-out eval episodes embedded per shown round (first by task id)"
    )
    train_episodes_per_round: int = Field(
        12, ge=0, description="training episodes (rollouts and reference replays) sampled per round"
    )
    observation_chars: int = Field(4000, ge=1, description="observations longer than this are cut (the cut is marked)")
    screenshot_max_bytes: int = Field(
        400_000, ge=0, description="screenshots larger than this are left out (said so in the viewer)"
    )
    screenshots_total_bytes: int = Field(
        20_000_000, ge=0, description="once this many screenshot bytes are embedded, later ones are left out"
    )
    seed: int = Field(0, description="seed of the training-episode sample")


@dataclass
class ViewerData:
    episodes: list[dict[str, Any]] = field(default_factory=list)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    screenshot_bytes: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"episodes": self.episodes, "tasks": self.tasks, "left_out": self.left_out}


def select_episodes(
    store: RunStore,
    run_dir: Path,
    rounds: list[int],
    eval_episodes: dict[int, list[Episode]],
    heldout_ids: set[str],
    config: ViewerConfig,
) -> ViewerData:
    """The viewer's episodes: held-out evals of the rounds in `eval_episodes`, a training sample of every round."""
    data = ViewerData()
    for r in rounds:
        if r in eval_episodes:
            shown = eval_episodes[r][: config.max_eval_episodes_per_round]
            for ep in shown:
                _add(data, store, run_dir, ep, "held-out eval", config)
            if len(shown) < len(eval_episodes[r]):
                data.left_out.append(
                    f"round {r}: {len(eval_episodes[r]) - len(shown)} of {len(eval_episodes[r])} "
                    f"held-out eval episodes (cap {config.max_eval_episodes_per_round} per round)"
                )
        else:
            data.left_out.append(
                f"round {r}: its held-out eval episodes (only the first and last round's are "
                f"embedded; its success rates are in the charts)"
            )
        eval_ids = {i for t in sorted(heldout_ids) for i in store.episode_ids(round=r, task_id=t)}
        train_ids = sorted(store.episode_ids(round=r) - eval_ids)
        sample = sorted(
            random.Random(config.seed * 1_000_003 + r).sample(
                train_ids, min(len(train_ids), config.train_episodes_per_round)
            )
        )
        for episode_id in sample:
            stored = store.episode(episode_id)
            if stored is not None:
                _add(data, store, run_dir, stored, "training", config)
        if len(sample) < len(train_ids):
            data.left_out.append(
                f"round {r}: {len(train_ids) - len(sample)} of {len(train_ids)} training "
                f"episodes (a seeded sample of {len(sample)} is embedded)"
            )
    return data


def _add(data: ViewerData, store: RunStore, run_dir: Path, ep: Episode, kind: str, config: ViewerConfig) -> None:
    if ep.task_id not in data.tasks:
        task = store.task(ep.task_id)
        data.tasks[ep.task_id] = _task(task) if task is not None else {"intent": "(task not in the store)"}
    data.episodes.append(episode_dict(ep, kind, run_dir, config, data))


def _task(task: Task) -> dict[str, Any]:
    return {
        "intent": task.intent,
        "site": task.site,
        "start_url": task.start_url,
        "difficulty": task.difficulty,
        "template": task.provenance.template,
        "split": task.provenance.split,
        "checks": [c.model_dump(mode="json") for c in task.checks],
        "reference": task.reference,
    }


def episode_dict(ep: Episode, kind: str, run_dir: Path, config: ViewerConfig, data: ViewerData) -> dict[str, Any]:
    verdict = ep.verdict
    snapshot = ep.snapshot
    return {
        "id": ep.id,
        "kind": kind,
        "round": ep.round,
        "task_id": ep.task_id,
        "intent": ep.intent,  # what the env stated at reset (MiniWoB++), None when the task's own
        "policy": ep.policy,
        "sample": ep.sample,
        "env": ep.env,
        "status": ep.status,
        "error": ep.error,
        "seconds": ep.seconds,
        "success": ep.success,
        "steps": [_step(s, run_dir, config, data) for s in ep.steps],
        "verdict": None
        if verdict is None
        else {
            "success": verdict.success,
            "score": verdict.score,
            "error": verdict.error,
            "verifier_version": verdict.verifier_version,
            "results": [r.model_dump(mode="json") for r in verdict.results],
        },
        "final": None
        if snapshot is None
        else {"url": snapshot.url, "title": snapshot.title, "answer": snapshot.answer},
        "plan": ep.plan,
    }


def _step(step: StepRecord, run_dir: Path, config: ViewerConfig, data: ViewerData) -> dict[str, Any]:
    obs = step.observation
    if len(obs) > config.observation_chars:
        cut = len(obs) - config.observation_chars
        obs = obs[: config.observation_chars] + f"\n… [{cut} more characters left out of the report]"
    extra = {k: v for k, v in step.extra.items() if k != SCREENSHOT_KEY}
    image, note = _screenshot(step.extra.get(SCREENSHOT_KEY), run_dir, config, data)
    return {
        "index": step.index,
        "url": step.url,
        "observation": obs,
        "completion": step.completion,
        "action": step.action,
        "error": step.error,
        "model_seconds": step.model_seconds,
        "env_seconds": step.env_seconds,
        "extra": extra,
        "screenshot": image,
        "screenshot_note": note,
    }


def _screenshot(ref: object, run_dir: Path, config: ViewerConfig, data: ViewerData) -> tuple[str | None, str | None]:
    """(data URI, None) or (None, why there is none)."""
    if not isinstance(ref, str) or not ref:
        return None, None
    path = Path(ref) if Path(ref).is_absolute() else run_dir / ref
    if not path.is_file():
        return None, f"screenshot {ref} is missing from the run directory"
    size = path.stat().st_size
    if size > config.screenshot_max_bytes:
        return None, f"screenshot {ref} left out ({size} bytes > screenshot_max_bytes {config.screenshot_max_bytes})"
    if data.screenshot_bytes + size > config.screenshots_total_bytes:
        return None, (
            f"screenshot {ref} left out (the report's screenshot budget of "
            f"{config.screenshots_total_bytes} bytes is used)"
        )
    raw = path.read_bytes()
    mime = next((m for magic, m in _IMAGE_TYPES.items() if raw.startswith(magic)), None)
    if mime is None:
        return None, f"screenshot {ref} is not a PNG or JPEG file"
    data.screenshot_bytes += size
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}", None
