"""Configs of the model-written task sources (sections `tasks.autoif`, `tasks.plans` and `tasks.metrics`
of a run config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from domplay.agent.plan import PlanConfig
from domplay.settings import Settings


class AutoIFConfig(Settings):
    """The `autoif` source: a model writes an intent, a check and its test paths; four filters keep some."""

    model: str | None = Field(
        None,
        description="the proposer model (openai:MODEL@URL for a strong one); None: the run's current model "
        "(self-alignment)",
    )
    start_urls: tuple[str, ...] = Field(
        (), description="pages the model writes tasks for; empty: the start page of every site of the run"
    )
    drafts_per_page: int = Field(4, ge=1, description="tasks the model writes for each page per round")
    temperature: float = Field(0.8, ge=0.0, description="sampling temperature of every writing step")
    judge_temperature: float = Field(0.0, ge=0.0, description="temperature of the back-translation judge")
    max_new_tokens: int = Field(512, ge=16, description="length cap of a written task, check or intent")
    page_chars: int = Field(2500, ge=100, description="characters of the page text shown to the model")
    max_test_paths: int = Field(4, ge=1, description="test paths of each kind (pass, fail) read from one draft")
    max_path_actions: int = Field(12, ge=1, description="actions of one test path at most")
    independent_checks: int = Field(
        3, ge=1, description="cross-validation: checks written independently for the same intent"
    )
    min_agreement: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="cross-validation: share of the episodes some check passes on which the draft check "
        "gives the independent checks' majority verdict",
    )
    min_valid_independent: int = Field(
        1, ge=1, description="cross-validation: independent checks that must pass the sandbox's validation"
    )
    random_walks: int = Field(
        6, ge=0, description="exploration walks from the page among the cross-validation episodes"
    )
    walk_steps: int = Field(4, ge=1, description="actions per exploration walk")
    min_backtranslation_score: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="back-translation: judged match (0-1) of the intent written from the check alone",
    )
    max_replays: int = Field(30, ge=4, description="feasibility: replays spent verifying and shortening a path")
    every_pass_step_matters: bool = Field(
        True,
        description="feasibility: refuse a check that still passes when a step of the model's own PASS path is "
        "dropped (it ignores part of what the intent asks, e.g. the sort in 'sort by price and name the cheapest')",
    )


class MetricsConfig(Settings):
    """The `metrics` source: accepted metric definitions become tasks; new verified trajectories get
    definitions written few-shot into the review queue."""

    library: str | None = Field(
        None, description="a user folder of metric definitions (added to the built-in examples and the run's own)"
    )
    shots: int = Field(3, ge=0, description="library definitions shown as few-shot examples")
    trajectories_per_round: int = Field(
        4, ge=0, description="verified trajectories of the last round that get a definition written"
    )
    max_new_tokens: int = Field(400, ge=16, description="length cap of a written definition")
    temperature: float = Field(0.3, ge=0.0)


class PlanIntent(Settings):
    """A high-level intent and the page its plans start from."""

    intent: str = Field(min_length=1, description="what the user wants done, in several steps")
    start_url: str = Field(description="a path on a built-in site ('/shop/') or an absolute http(s) URL")

    @field_validator("start_url")
    @classmethod
    def _a_page(cls, v: str) -> str:
        if v.startswith(("/", "http://", "https://")):
            return v
        raise ValueError(f"start_url {v!r} must be a path starting with '/' or an absolute http(s) URL")


class PlansConfig(Settings):
    """The `plans` source: for each high-level intent the Actor writes plans, Infer scores and merges
    them, and each subtask of the plan becomes a task once it has checks (autoif's filters or the DOM);
    a subtask without checks makes the Planner replan from its page."""

    model: str | None = Field(
        None, description="the planner and proposer model (openai:MODEL@URL for a strong one); None: the run's model"
    )
    intents: tuple[PlanIntent, ...] = Field((), description="high-level intents, each with its start page")
    intents_file: str | None = Field(None, description="a YAML or JSON list of {intent, start_url} added to `intents`")
    start_urls: tuple[str, ...] = Field(
        (), description="without intents: pages the model writes intents for; empty: every site's start page"
    )
    intents_per_page: int = Field(2, ge=1, description="without intents: high-level intents written per page")
    intent_temperature: float = Field(0.8, ge=0.0, description="temperature of writing high-level intents")
    intent_max_new_tokens: int = Field(200, ge=16, description="length cap of the reply listing intents")
    plan: PlanConfig = Field(
        PlanConfig(merge=True),
        description="the Planner's config (candidates, scores, merging, max_subtasks, max_replans: replans per intent)",
    )
    checks: tuple[Literal["autoif", "dom"], ...] = Field(
        ("autoif", "dom"),
        min_length=1,
        description="where a subtask's checks come from, tried in order: autoif (the model writes a check, "
        "kept by the four filters of tasks.autoif) and dom (a path reaches a page the DOM relabeller describes)",
    )
    walks_per_subtask: int = Field(
        6, ge=0, description="dom: exploration walks from the subtask's page besides the model's own test paths"
    )
    walk_steps: int = Field(3, ge=1, description="dom: actions per exploration walk")
    min_dom_match: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="dom: share of the subtask's content words the reached page must name (heading, URL, label)",
    )
    dom_goals: int = Field(3, ge=1, description="dom: best-matching goals verified by replay per subtask at most")
    max_replays: int = Field(30, ge=4, description="dom: replays spent verifying and shortening one goal's path")
