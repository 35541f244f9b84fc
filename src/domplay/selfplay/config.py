"""Configs of the self-play task sources (sections `tasks.explore`, `tasks.hindsight`,
`tasks.curriculum` of a run config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domplay.settings import Settings


class HindsightConfig(Settings):
    """How episodes are relabelled with the goals they achieved."""

    relabellers: tuple[Literal["template", "dom"], ...] = Field(
        ("template", "dom"),
        description="template: built-in sites' template families recognise their goals (intent and "
        "checks from the template, never its reference); dom: page reached and values read, any site",
    )
    drafts_per_template: int = Field(
        1500, ge=1, description="goals drawn per template family to recognise (train seeds only)"
    )
    min_answer_chars: int = Field(
        2, ge=1, description="an answer goal's value must be at least this long (a lone digit is everywhere)"
    )
    max_replays_per_goal: int = Field(40, ge=4, description="replays spent verifying and shortening one candidate goal")
    model_episodes: bool = Field(
        True, description="relabel the model's failed training episodes (rollout stage) as well as walks"
    )
    max_goals_per_episode: int = Field(3, ge=1, description="verified goals kept from one episode")


class Account(Settings):
    """A login a walk may use: the site's own test account, as a user of the tool has one."""

    url_prefix: str = Field(description="pages it is for: a path prefix (/admin/) or a URL prefix")
    username: str
    password: str


class ExploreConfig(Settings):
    """The exploration proposer: walks from a frontier of discovered pages."""

    start_urls: tuple[str, ...] = Field(
        (), description="where exploration starts on external sites (built-in sites start at their roots)"
    )
    walk_steps: int = Field(6, ge=1, description="actions per walk (an answer may be added when relabelled)")
    max_walks: int = Field(4000, ge=1, description="walks per round at most (a DomEnv walk takes ~25 ms)")
    max_seconds: float = Field(180.0, gt=0, description="time per round at most")
    pool_factor: float = Field(
        3.0,
        ge=1.0,
        description="walks go on until this many times the tasks asked for are verified (or the walk and "
        "time limits); the tasks are then taken family by family in turn",
    )
    max_per_family: int = Field(
        16, ge=1, description="tasks of one goal family (template or DOM goal kind) per round, for diversity"
    )
    goal_start_share: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="share of walks that start where the relabellers' goals start (the rest start "
        "anywhere on the frontier)",
    )
    novelty_weight: float = Field(
        4.0, ge=1.0, description="how much more likely a link to an unvisited page is chosen than another action"
    )
    form_probability: float = Field(
        0.8, ge=0.0, le=1.0, description="chance that touching a form field fills the whole form and submits it"
    )
    back_probability: float = Field(0.05, ge=0.0, le=1.0, description="chance a step goes back")
    fill_values: tuple[str, ...] = Field(
        ("1", "2", "3"), description="values a walk may type besides words it reads on the page"
    )
    accounts: tuple[Account, ...] = Field(
        (), description="logins walks may type into a form with a password field (external sites)"
    )
    site_accounts: bool = Field(
        True, description="built-in sites lend their test accounts to walks (as a site's testers would)"
    )
    login_probability: float = Field(
        0.9, ge=0.0, le=1.0, description="chance that a form with a password field is filled with an account"
    )


class CurriculumConfig(Settings):
    """Variants of earlier training tasks by how the model did on them."""

    easier_share: float = Field(
        0.7, ge=0.0, le=1.0, description="share of the curriculum's tasks that are easier variants of failures"
    )
    min_reference_steps: int = Field(2, ge=1, description="a failed task needs this long a path to be cut")
