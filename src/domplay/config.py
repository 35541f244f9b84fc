"""`RunConfig`: one validated YAML file describes a whole `domplay run`.

Presets give sizes for a 2-core CPU (`quick`) and for a GPU machine (`full`); a user's YAML
overrides any field. The resolved config is written into the run directory next to every
artefact, so a run can be resumed and its results traced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domplay.data.config import BuildConfig
from domplay.errors import ConfigError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TasksConfig(_Model):
    sites: tuple[str, ...] = ("shop", "forum", "admin")
    site_seed: int = Field(0, description="seed of the built-in sites' content")
    heldout_tasks: int = Field(120, ge=3, description="held-out tasks, fixed at the start (a third per difficulty)")
    train_tasks_per_round: int = Field(64, ge=1, description="fresh training tasks proposed each round (new seeds)")


class EnvConfigModel(_Model):
    kind: Literal["dom", "browser"] = "dom"
    obs_tokens: int = Field(512, ge=64, description="observation token budget; at 512 the held-out tasks' "
                            "reference paths scroll once per 8 steps, at 320 once per 3 (and 3 of 120 do not fit)")
    max_steps: int = Field(12, ge=1, description="hard cap on steps per episode")
    steps_per_reference_step: float | None = Field(2.0, gt=0, description="per-task step budget factor")
    screenshots: bool = Field(False, description="browser env only: save a JPEG of the page at every step "
                                                 "(RUN/screenshots/) for the report's trajectory viewer")


class PolicyConfigModel(_Model):
    history_steps: int = Field(2, ge=0)
    max_new_tokens: int = Field(40, ge=8)
    constrained: bool = Field(True, description="constrained action decoding for local models")
    eval_temperature: float = Field(0.0, ge=0)
    rollout_temperature: float = Field(0.7, ge=0, description="sampling temperature of training rollouts")
    eval_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="a local model's dtype in held-out evals: auto = bfloat16 where the hardware "
        "computes it (a GPU; a CPU with AMX or AVX512-BF16: ~2x faster there), else float32. Evals are greedy "
        "and build no training data, so bf16's batch-dependent rounding cannot change a dataset")
    rollout_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="a local model's dtype in training rollouts: auto = bfloat16 on a GPU, float32 on "
        "a CPU. In float32 a row's output does not depend on its batch, so a resumed run samples the same "
        "episodes and builds the same datasets")
    demos: int = Field(0, ge=0, description="bootstrapped few-shot demos per prompt, from earlier rounds' "
                                            "verified steps (0: none)")
    demo_observation_chars: int = Field(1200, ge=100, description="demo observations are cut to this length")


class RolloutSettings(_Model):
    samples_per_task: int = Field(1, ge=0, description="model episodes per training task (0: learn from "
                                                       "reference replays only)")
    concurrency: int = Field(8, ge=1, description="episodes in flight = prompts per model batch")
    replay_reference: bool = Field(True, description="replay reference solutions as verified episodes")
    episode_timeout_s: float = Field(600.0, gt=0)
    stuck_after_repeats: int | None = Field(3, ge=2, description="end an episode repeating one action this often")


class TrainSettings(_Model):
    method: Literal["none", "sft", "sft+dpo", "sft+spin"] = "sft+dpo"
    """"none" trains nothing (data collection and evaluation rounds, e.g. for ablations)."""
    finetune: Literal["lora", "full"] = "lora"
    sft_learning_rate: float | None = Field(None, gt=0, description="None = the trainer's default for `finetune`")
    sft_epochs: float = Field(1.0, gt=0)
    sft_first_token_weight: float = Field(1.0, gt=0, description="SFT loss weight of each step's action name "
                                          "(the first completion token) against 1 for its other tokens")
    dpo_learning_rate: float | None = Field(None, gt=0)
    dpo_epochs: float = Field(1.0, gt=0)
    dpo_beta: float = Field(0.1, gt=0)
    batch_size: int = Field(4, ge=1)
    max_length_tokens: int = Field(1024, ge=64)
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto = bf16 autocast where the device computes bf16 natively (a GPU; a CPU with "
        "AMX/AVX512-BF16, 1.7x faster than float32 there, same step accuracy), float32 otherwise")
    min_pairs_for_dpo: int = Field(16, ge=1, description="skip DPO in a round with fewer pairs than this")


class StopSettings(_Model):
    rounds: int = Field(3, ge=0, description="improvement rounds after round 0")
    time_budget_min: float | None = Field(60.0, gt=0, description="no new round starts after this")
    patience_rounds: int | None = Field(None, ge=1, description="stop after this many rounds without a new best")


class RunConfig(_Model):
    """Everything a run needs; see the README's configuration section."""

    preset: Literal["quick", "full", "custom"] = "quick"
    model: str = Field("embedded", description="starting model: embedded | hf:/path | dir | openai:M@URL")
    seed: int = 0
    tasks: TasksConfig = TasksConfig()
    env: EnvConfigModel = EnvConfigModel()
    policy: PolicyConfigModel = PolicyConfigModel()
    rollout: RolloutSettings = RolloutSettings()
    build: BuildConfig = BuildConfig()
    train: TrainSettings = TrainSettings()
    stop: StopSettings = StopSettings()
    logging: Literal["none", "tensorboard", "mlflow"] = "none"

    @model_validator(mode="after")
    def _sites_known(self) -> RunConfig:
        from domplay.sites import BUILTIN_SITES

        unknown = [s for s in self.tasks.sites if s not in BUILTIN_SITES]
        if unknown:
            raise ValueError(f"tasks.sites has unknown sites {unknown}; built-in: {sorted(BUILTIN_SITES)}")
        return self


PRESETS: dict[str, dict[str, Any]] = {
    # Sized for a 2-core CPU: prefill (~800 tokens/s) and training (~1.25 s per ~600-token
    # example in bf16 on an AMX CPU) are the budget, so each round trains on a bounded sample of
    # its data. Full fine-tuning of the small embedded model for 2 epochs at 1e-4 learns what
    # LoRA at 2e-4 for one epoch does not: teacher-forced held-out step accuracy 30 % at the run's
    # 512-token observations; base 6 % and LoRA 18 % at 320 (bench/step_accuracy.py, README).
    "quick": {"build": {"max_sft_examples": 192, "max_dpo_pairs": 48},
              "train": {"finetune": "full", "sft_learning_rate": 1e-4, "sft_epochs": 2.0}},
    "full": {"tasks": {"heldout_tasks": 300, "train_tasks_per_round": 600},
             "rollout": {"samples_per_task": 4, "concurrency": 32},
             "train": {"sft_epochs": 2.0},
             "env": {"obs_tokens": 1024, "max_steps": 20},
             "stop": {"rounds": 5, "time_budget_min": None}},
}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(path: str | Path | None = None, preset: str | None = None,
                overrides: dict[str, Any] | None = None) -> RunConfig:
    """The run config from a preset, a YAML file on top of it, then explicit overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read run config {path}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"run config {path} must be a mapping of fields, got {type(loaded).__name__}")
        data = loaded
    name = preset or data.get("preset") or "quick"
    if name not in PRESETS and name != "custom":
        raise ConfigError(f"unknown preset {name!r}; use one of {sorted(PRESETS)}")
    merged = _merge(PRESETS.get(name, {}), data)
    merged = _merge(merged, overrides or {})
    merged["preset"] = name
    try:
        return RunConfig.model_validate(merged)
    except ValidationError as exc:
        where = f" in {path}" if path is not None else ""
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid run config{where}: {problems}") from None


def dump_config(config: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
