"""`RunConfig`: one validated YAML file describes a whole `domplay run`.

Presets give sizes for a 2-core CPU (`quick`) and for a GPU machine (`full`); a user's YAML
overrides any field. The resolved config is written into the run directory next to every
artefact, so a run can be resumed and its results traced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from domplay.agent.evaluate import EvalConfig
from domplay.agent.policy import PolicyConfig
from domplay.agent.rollout import RolloutConfig
from domplay.autoif.config import AutoIFConfig, MetricsConfig, PlansConfig
from domplay.data.config import BuildConfig
from domplay.data.demos import DemoConfig
from domplay.env.factory import EnvSettings
from domplay.errors import ConfigError
from domplay.loading import load_yaml
from domplay.selfplay.config import CurriculumConfig, ExploreConfig, HindsightConfig
from domplay.settings import Settings
from domplay.tasks.miniwob import MiniWoBTasks
from domplay.train.config import TrainConfig, trl_names_in_run

TASK_SOURCE_NAMES: tuple[str, ...] = ("template", "explore", "curriculum", "miniwob", "autoif", "plans", "metrics")
"""Training task sources `stages.TASK_SOURCES` can build."""


class TasksConfig(Settings):
    sites: tuple[str, ...] = ("shop", "forum", "admin")
    site_seed: int = Field(0, description="seed of the built-in sites' content")
    heldout_tasks: int = Field(120, ge=3, description="held-out tasks, fixed at the start (a third per difficulty)")
    train_tasks_per_round: int = Field(64, ge=1, description="fresh training tasks proposed each round (new seeds)")
    sources: dict[str, float] = Field(
        default_factory=lambda: {"template": 1.0},
        description="training task sources and their shares of train_tasks_per_round (see docs/architecture.md)",
    )
    heldout_source: Literal["template", "miniwob"] = Field(
        "template", description="held-out tasks from the templates or from MiniWoB++ (tasks.miniwob, held-out seeds)"
    )
    miniwob: MiniWoBTasks = Field(
        MiniWoBTasks(), description="the MiniWoB++ tasks of the miniwob source and held-out set"
    )

    explore: ExploreConfig = ExploreConfig()
    hindsight: HindsightConfig = HindsightConfig()
    curriculum: CurriculumConfig = CurriculumConfig()
    autoif: AutoIFConfig = AutoIFConfig()
    plans: PlansConfig = PlansConfig()
    metrics: MetricsConfig = MetricsConfig()

    @field_validator("sources")
    @classmethod
    def _some_source(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(TASK_SOURCE_NAMES))
        if unknown:
            raise ValueError(f"unknown task sources {unknown}; known: {list(TASK_SOURCE_NAMES)}")
        if not v or any(share < 0 for share in v.values()) or sum(v.values()) <= 0:
            raise ValueError(f"needs at least one source with a positive share, got {v}")
        return v


class StopSettings(Settings):
    rounds: int = Field(3, ge=0, description="improvement rounds after round 0")
    time_budget_min: float | None = Field(60.0, gt=0, description="no new round starts after this")
    patience_rounds: int | None = Field(None, ge=1, description="stop after this many rounds without a new best")


class RunConfig(Settings):
    """Everything a run needs; see the README's configuration section.

    Each section is the component's own config (one class, one set of defaults): `env` is what
    EnvFactory builds envs from, `policy` what the Policy prompts and samples with, `rollout` what
    the RolloutEngine runs, `eval` how held-out evals run, `demos`/`build` what the builders keep,
    `train` the trainers' configs. `domplay eval --config` builds the same objects.
    """

    preset: Literal["quick", "full", "selfplay", "custom"] = "quick"
    model: str = Field(
        "embedded", description="starting model: embedded | hf:/path | dir | openai:M@URL | random | scripted"
    )
    seed: int = Field(0, description="seeds task proposal, rollouts, dataset caps, demos and training")
    tasks: TasksConfig = TasksConfig()
    env: EnvSettings = EnvSettings()
    policy: PolicyConfig = PolicyConfig()
    rollout: RolloutConfig = RolloutConfig()
    eval: EvalConfig = EvalConfig()
    demos: DemoConfig = DemoConfig()
    build: BuildConfig = BuildConfig()
    train: TrainConfig = TrainConfig()
    stop: StopSettings = StopSettings()
    logging: Literal["none", "tensorboard", "mlflow"] = "none"

    @model_validator(mode="after")
    def _ids_shown_to_id_agents(self) -> RunConfig:
        obs = self.env.observation
        if self.policy.action_form == "id" and obs.format == "compact" and obs.ids != "all":
            raise ValueError(
                "policy.action_form: id needs the ids of every element in the observation; "
                "set env.observation.ids: all (or policy.action_form: name)"
            )
        return self

    @model_validator(mode="after")
    def _miniwob_in_browser(self) -> RunConfig:
        uses = self.tasks.sources.get("miniwob", 0) > 0 or self.tasks.heldout_source == "miniwob"
        if uses and self.env.kind != "browser":
            raise ValueError(
                f"MiniWoB++ tasks (tasks.sources or tasks.heldout_source) run their pages' JavaScript, which "
                f"env.kind {self.env.kind!r} does not; set env.kind: browser"
            )
        return self

    @model_validator(mode="after")
    def _sites_known(self) -> RunConfig:
        from domplay.sites import BUILTIN_SITES

        unknown = [s for s in self.tasks.sites if s not in BUILTIN_SITES]
        if unknown:
            raise ValueError(f"tasks.sites has unknown sites {unknown}; built-in: {sorted(BUILTIN_SITES)}")
        return self


PRESETS: dict[str, dict[str, Any]] = {
    # Sized for a 2-core CPU, where prefill (~800 tokens/s) and training (~1.3 s per ~550-token
    # example) are the budget and a held-out eval of 120 tasks takes ~9 min: each round trains one
    # pass over a bounded sample of the replay buffer (full fine-tuning at 1e-4), SFT only (DPO on
    # the few dozen pairs a round yields cost a quarter of a round for no measured gain), and the
    # model attempts each training task once from round 2 on.
    "quick": {
        "tasks": {"train_tasks_per_round": 48},
        "build": {"max_sft_examples": 384, "max_dpo_pairs": 48},
        "train": {
            "method": "sft",
            "sft": {"finetune": "full", "learning_rate": 1e-4, "num_epochs": 1.0},
            "dpo": {"finetune": "full"},
        },
    },
    "full": {
        "tasks": {"heldout_tasks": 300, "train_tasks_per_round": 600},
        "rollout": {"samples_per_task": 4, "concurrency": 32},
        "train": {"sft": {"num_epochs": 2.0}},
        "env": {"observation": {"max_tokens": 1536}, "max_steps": 20},
        "stop": {"rounds": 5, "time_budget_min": None},
    },
    # No oracle: training tasks come only from exploration walks relabelled in hindsight (their
    # paths verified by replay), the curriculum and the model's own episodes; no template's
    # reference is read (held-out tasks are the quick preset's, fixed in round 0).
    "selfplay": {
        "tasks": {"train_tasks_per_round": 128, "sources": {"curriculum": 0.25, "explore": 0.75}},
        "stop": {"time_budget_min": 90.0},
        "build": {"max_sft_examples": 384, "max_dpo_pairs": 48},
        "train": {
            "method": "sft",
            "sft": {"finetune": "full", "learning_rate": 1e-4, "num_epochs": 1.0},
            "dpo": {"finetune": "full"},
        },
    },
}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(
    path: str | Path | None = None, preset: str | None = None, overrides: dict[str, Any] | None = None
) -> RunConfig:
    """The run config from a preset, a YAML file on top of it, then explicit overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = load_yaml(path, ConfigError) or {}  # within loading.LoadLimits: no alias bombs
        if not isinstance(loaded, dict):
            raise ConfigError(f"run config {path} must be a mapping of fields, got {type(loaded).__name__}")
        data = loaded
    name = preset or data.get("preset") or "quick"
    if name not in PRESETS and name != "custom":
        raise ConfigError(f"unknown preset {name!r}; use one of {sorted(PRESETS)}")
    data = migrate(data, where=f" in {path}" if path is not None else "")
    merged = _merge(PRESETS.get(name, {}), data)
    merged = _merge(merged, migrate(overrides or {}))
    merged["preset"] = name
    try:
        return RunConfig.model_validate(merged)
    except ConfigError as exc:
        where = f" in {path}" if path is not None else ""
        raise ConfigError(f"{exc}".replace("invalid RunConfig", f"invalid run config{where}", 1)) from None


MOVED_KEYS: dict[str, tuple[str, ...]] = {
    # old key (before one config object per component) -> its new place(s)
    "env.obs_tokens": ("env.observation.max_tokens",),
    "env.steps_per_reference_step": ("rollout.steps_per_reference_step",),
    "policy.eval_temperature": ("policy.temperature",),
    "policy.rollout_temperature": ("rollout.temperature",),
    "policy.eval_dtype": ("eval.dtype",),
    "policy.rollout_dtype": ("rollout.dtype",),
    "policy.demo_observation_chars": ("demos.max_observation_chars",),
    "train.finetune": ("train.sft.finetune", "train.dpo.finetune"),
    "train.batch_size": ("train.sft.batch_size", "train.dpo.batch_size"),
    "train.max_length_tokens": ("train.sft.max_length_tokens", "train.dpo.max_length_tokens"),
    "train.precision": ("train.sft.precision", "train.dpo.precision"),
    "train.sft_learning_rate": ("train.sft.learning_rate",),
    "train.sft_epochs": ("train.sft.num_epochs",),
    "train.sft_first_token_weight": ("train.sft.first_token_weight",),
    "train.dpo_learning_rate": ("train.dpo.learning_rate",),
    "train.dpo_epochs": ("train.dpo.num_epochs",),
    "train.dpo_beta": ("train.dpo.beta",),
}
"""Keys a run config could have before; `migrate` moves them (a run directory's old config.yaml resumes)."""


def migrate(data: dict[str, Any], where: str = "") -> dict[str, Any]:
    """`data` with every old key of MOVED_KEYS moved to its new place; giving both is an error."""
    out = trl_names_in_run(_merge({}, data))  # and TRL's names of trainer options as domplay's
    for old, news in MOVED_KEYS.items():
        section, key = old.split(".")
        if not isinstance(out.get(section), dict) or key not in out[section]:
            continue
        value = out[section].pop(key)
        for new in news:
            *parents, leaf = new.split(".")
            node = out
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"run config{where}: {'.'.join(parents)} must be a mapping")
            if leaf in node and node[leaf] != value:
                raise ConfigError(f"run config{where} sets both {old} (old name) and {new}; keep only {new}")
            node[leaf] = value
    return out


def dump_config(config: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
