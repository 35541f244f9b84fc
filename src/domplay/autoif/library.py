"""A library of metric definitions: (trajectory, checks with weights) pairs, stored as YAML files.

A folder holds `library/` (accepted definitions, few-shot examples for the next ones), `queue/`
(validated definitions waiting for review) and `rejected/`. The built-in sites ship a few
definitions written by hand (`metric_examples.yaml`); a run keeps its own folder (`RUN/metrics`)
and a user may add one (`tasks.metrics.library`). `domplay metrics` reviews a queue.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domplay.errors import TaskFileError
from domplay.loading import load_yaml
from domplay.selfplay.harvest import difficulty_of
from domplay.tasks.model import Provenance, Task
from domplay.verify.checks import Check

EXAMPLES = Path(__file__).with_name("metric_examples.yaml")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
Status = Literal["library", "queue", "rejected"]
STATUSES: tuple[Status, ...] = ("library", "queue", "rejected")


class MetricDefinition(BaseModel):
    """How to score one trajectory: checks over the final DOM and state, with weights and partial
    credit (`required: false` checks add to the score without deciding success)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID.pattern)
    site: str
    site_seed: int = 0
    intent: str = Field(min_length=1)
    start_url: str
    actions: list[str] = Field(description="the verified trajectory the definition was written for")
    checks: list[Check] = Field(min_length=1)
    source: Literal["hand", "model"] = "model"
    note: str = ""


def to_yaml(d: MetricDefinition) -> str:
    return yaml.safe_dump(d.model_dump(mode="json", exclude_defaults=False), sort_keys=False, allow_unicode=True)


def read_file(path: Path) -> list[MetricDefinition]:
    """The definitions in a YAML file (one mapping or a list), within the loading limits."""
    data = load_yaml(path, TaskFileError)
    items = data if isinstance(data, list) else [data]
    try:
        return [MetricDefinition.model_validate(item) for item in items]
    except ValidationError as exc:
        raise TaskFileError(
            f"metric definition file {path}: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}"
        ) from None


class MetricLibrary:
    """One folder of definitions by status; every definition is one file `<status>/<id>.yaml`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, status: Status, id: str) -> Path:
        if not _ID.fullmatch(id):
            raise TaskFileError(f"metric id {id!r} must be letters, digits and _.- (see `domplay metrics queue`)")
        return self.root / status / f"{id}.yaml"

    def items(self, status: Status) -> list[MetricDefinition]:
        folder = self.root / status
        return [d for p in sorted(folder.glob("*.yaml")) for d in read_file(p)] if folder.is_dir() else []

    def put(self, status: Status, d: MetricDefinition) -> Path:
        path = self.path(status, d.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(d), encoding="utf-8")
        return path

    def get(self, id: str) -> tuple[Status, MetricDefinition]:
        for status in STATUSES:
            path = self.path(status, id)
            if path.is_file():
                return status, read_file(path)[0]
        raise TaskFileError(f"no metric definition {id!r} in {self.root}; list them with `domplay metrics queue`")

    def move(self, id: str, to: Status) -> MetricDefinition:
        status, d = self.get(id)
        self.put(to, d)
        if status != to:
            self.path(status, id).unlink()
        return d


def few_shot_pool(libraries: list[MetricLibrary], with_examples: bool = True) -> list[MetricDefinition]:
    """Accepted definitions of every library, after the hand-written examples."""
    pool = read_file(EXAMPLES) if with_examples else []
    return pool + [d for lib in libraries for d in lib.items("library")]


def definition_task(d: MetricDefinition, round: int, seed: int) -> Task:
    """A training task from an accepted definition: its intent, its checks, its trajectory as reference."""
    return Task(
        id=f"metrics-r{round}-{d.id}",
        intent=d.intent,
        site=d.site,
        start_url=d.start_url,
        difficulty=difficulty_of(d.actions),
        checks=d.checks,
        reference=d.actions,
        provenance=Provenance(proposer="metrics", seed=seed, split="train", extra={"definition": d.id, "by": d.source}),
    )
