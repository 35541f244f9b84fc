"""MiniWoB++ as a task source: a task is (MiniWoB++ task, page seed); its verdict is the page's reward.

The page draws its problem from the seed at reset and states the instruction then
(`domplay.env.miniwob`), so `Task.intent` only names the task and the episode records the real
instruction (`Episode.intent`). The checks read the raw reward the env puts in the backend state:
success is `raw_reward >= success_threshold` (default 1.0: partial credit is not success), once
the page says it is done. There is no reference solution: a model learns only from its own
verified episodes.

Training seeds are drawn from [0, HELDOUT_SEED_START) by the proposer seed; held-out seeds are
HELDOUT_SEED_START, +1, ... for every task, the same for every run seed, so results compare.

    proposer = MiniWoBProposer(MiniWoBTasks(names=("click-button", "enter-text")))
    proposer.propose(4, "heldout", seed=0).tasks   # click-button and enter-text, seeds 1000000 and 1000001
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, field_validator

from domplay.env.miniwob import (
    INSTALL_HINT,
    MINIWOB_SITE,
    STATE_KEY,
    MiniWoBConfig,
    check_task_name,
    find_html_root,
    page_path,
    task_names,
)
from domplay.errors import ConfigError
from domplay.settings import Settings
from domplay.tasks.model import Difficulty, Provenance, Split, Task
from domplay.tasks.sources import Proposal
from domplay.verify.state_check import StateCheck

PROPOSER_NAME = "miniwob"
SPEC_PREFIX = "miniwob:"
"""`domplay eval --tasks miniwob:click-button,enter-text` (or `miniwob:all`)."""
ALL = "all"
HELDOUT_SEED_START = 1_000_000
"""Held-out page seeds start here; training seeds are drawn below it."""
DEFAULT_TASKS: tuple[str, ...] = (
    "click-test",
    "click-test-2",
    "click-button",
    "click-button-sequence",
    "click-link",
    "click-option",
    "click-checkboxes",
    "click-dialog",
    "click-dialog-2",
    "click-tab",
    "click-collapsible",
    "click-widget",
    "focus-text",
    "focus-text-2",
    "enter-text",
    "enter-password",
    "login-user",
    "choose-list",
    "navigate-tree",
    "unicode-test",
)
"""Twenty tasks, single-step (click one thing) and multi-step (fill then submit, expand then click),
that domplay's observation and actions cover (README: MiniWoB++)."""
MULTI_STEP: frozenset[str] = frozenset(
    {
        "click-button-sequence",
        "click-checkboxes",
        "click-collapsible",
        "enter-text",
        "enter-password",
        "login-user",
        "choose-list",
        "navigate-tree",
        "focus-text-2",
    }
)
"""Of DEFAULT_TASKS, those whose solution takes more than one action ("medium"; the rest "easy")."""


class MiniWoBTasks(Settings):
    """Which MiniWoB++ tasks a run trains and is evaluated on (`tasks.miniwob`)."""

    names: tuple[str, ...] = Field(DEFAULT_TASKS, description='MiniWoB++ task names, or ("all",) for every task')
    eval_seeds_per_task: int = Field(
        10, ge=1, description="held-out seeds per task of `domplay eval --tasks miniwob:...`"
    )

    @field_validator("names")
    @classmethod
    def _plain_names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError('needs at least one MiniWoB++ task name (or "all")')
        for name in v:
            check_task_name(name)
        return v


def resolve_names(names: Sequence[str], env: MiniWoBConfig = MiniWoBConfig()) -> list[str]:
    """`names` checked against the MiniWoB++ pages at hand (`all`: every task there); a URL html root
    cannot be listed, so its names are taken as given."""
    root = env.html_root if env.html_root is not None else find_html_root()
    if root is None:
        raise ConfigError(f"MiniWoB++ is not installed: {INSTALL_HINT}")
    if "://" in str(root):
        if ALL in names:
            raise ConfigError(f"miniwob task {ALL!r} needs a local html folder to list; name the tasks")
        return list(names)
    known = task_names(root)
    if list(names) == [ALL]:
        return known
    unknown = [n for n in names if n not in known]
    if unknown:
        hints = {n: difflib.get_close_matches(n, known, n=2) for n in unknown}
        raise ConfigError(f"unknown MiniWoB++ tasks {hints} (name: close matches) in {Path(root) / 'miniwob'}")
    return list(names)


def miniwob_task(name: str, seed: int, split: Split, success_threshold: float) -> Task:
    """The task (MiniWoB++ task `name`, page seed `seed`), verified by the page's raw reward."""
    return Task(
        id=f"miniwob:{name}:{seed}",
        intent=f"the instruction MiniWoB++'s {name} page gives at reset (seed {seed})",
        site=MINIWOB_SITE,
        start_url=page_path(name),
        difficulty=difficulty(name),
        checks=[
            StateCheck(path=f"{STATE_KEY}.done", op="equals", expected=True),
            StateCheck(path=f"{STATE_KEY}.raw_reward", op="at_least", expected=success_threshold),
        ],
        provenance=Provenance(proposer=PROPOSER_NAME, template=name, seed=seed, split=split),
    )


def difficulty(name: str) -> Difficulty:
    return "medium" if name in MULTI_STEP else "easy"


class MiniWoBProposer:
    """A `tasks.sources.Proposer` of MiniWoB++ tasks (see the module docstring)."""

    name = PROPOSER_NAME

    def __init__(self, tasks: MiniWoBTasks = MiniWoBTasks(), env: MiniWoBConfig = MiniWoBConfig()):
        self.names = resolve_names(tasks.names, env)
        self.success_threshold = env.success_threshold

    def propose(self, n: int, split: Split, seed: int) -> Proposal:
        """`n` tasks spread evenly over the names (round robin). Held-out: seeds HELDOUT_SEED_START + k,
        whatever `seed`; train: distinct seeds below HELDOUT_SEED_START drawn with `seed`."""
        names = self.names
        if split == "heldout":
            pairs = [(names[i % len(names)], HELDOUT_SEED_START + i // len(names)) for i in range(n)]
        else:
            rng = random.Random(seed)
            seeds = rng.sample(range(HELDOUT_SEED_START), n)
            order = list(names)
            rng.shuffle(order)  # which names get the remainder varies by round
            pairs = [(order[i % len(order)], s) for i, s in enumerate(seeds)]
        tasks = [miniwob_task(name, s, split, self.success_threshold) for name, s in pairs]
        return Proposal(tasks=tasks, stats={"names": float(len(names))})

    def close(self) -> None:
        """Nothing to release: tasks are drawn without a browser."""


def eval_tasks(spec: str, tasks: MiniWoBTasks = MiniWoBTasks(), env: MiniWoBConfig = MiniWoBConfig()) -> list[Task]:
    """The held-out tasks of a `miniwob:NAME,NAME` (or `miniwob:all`) spec: `eval_seeds_per_task` each."""
    names = [n.strip() for n in spec.removeprefix(SPEC_PREFIX).split(",") if n.strip()]
    if not names:
        raise ConfigError(f"{spec!r} names no MiniWoB++ task; write miniwob:click-button,enter-text or miniwob:all")
    chosen = tasks.model_copy(update={"names": tuple(names)})
    proposer = MiniWoBProposer(chosen, env)
    n = len(proposer.names) * tasks.eval_seeds_per_task
    return proposer.propose(n, "heldout", seed=0).tasks
