"""Teacher-forced step accuracy: how often does a model pick an action that keeps the task on track?

The reference solution drives every episode, so each step sits at a state a correct agent
reaches, and at each step the model is asked for its action on the same prompt it would get in
a run. No episode depends on the model's earlier mistakes, so a few hundred steps give a stable
figure in minutes: the proxy for held-out success that `bench/step_accuracy.py` and
`bench/learning_curve.py` report.

An action counts as right when it does what the reference does at that step, or what another
order of the same independent form inputs would do: a run of consecutive `fill`/`select` steps
in a reference can be done in any order, so any not-yet-done member of the run is right. Two
actions are compared by what they act on (the element they resolve to on the page, and their
value), not by their text, so `click(12)` and `click("Add to cart")` are the same action when
element 12 is that button.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields

from domplay.agent.policy import Decision, Policy, PolicyConfig, Query, ReferencePolicy
from domplay.agent.rollout import RolloutConfig
from domplay.env import actions as A
from domplay.env.factory import EnvSettings
from domplay.env.observation import Observation
from domplay.env.targets import resolve
from domplay.errors import ActionError
from domplay.llm.base import ChatModel
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task

ORDER_FREE = (A.Fill, A.Select)
"""Reference steps of these kinds, when consecutive, may be done in any order."""


@dataclass(frozen=True)
class StepGrade:
    """One teacher-forced step: the reference's action, the model's, and whether it was right."""

    task_id: str
    kind: str
    """The reference action's name (click, fill, ...)."""
    reference: str
    model: str | None
    """The model's action in canonical form; None when its reply did not parse."""
    correct: bool


def action_key(action: A.Action, obs: Observation) -> tuple:
    """What `action` does on `obs`: its kind, the element it acts on and its other arguments. Equal
    keys mean equal effects on this page; an action whose target is not on it keys as written."""
    try:
        target = resolve(action, obs.elements)
    except ActionError:
        return (action.name, "unresolved", A.format_action(action))
    values = tuple(str(getattr(action, f.name)) for f in fields(action) if f.name not in ("target", "nth"))
    return (action.name, target.id if target is not None else None, values)


def order_free_block(reference: Sequence[str], step: int) -> list[str]:
    """The reference's action at `step`, with the rest of its run of order-free steps."""
    first = reference[step]
    if not isinstance(A.parse_action(first), ORDER_FREE):
        return [first]
    block = [first]
    for text in reference[step + 1 :]:
        if not isinstance(A.parse_action(text), ORDER_FREE):
            break
        block.append(text)
    return block


def grade(query: Query, wanted: str, got: A.Action | None) -> bool:
    """True when `got` is the reference's action `wanted`, or an order-free alternative to it."""
    if got is None:
        return False
    obs = query.observation
    options = [wanted]
    reference = (query.task.reference or []) if query.task is not None else []
    step = ReferencePolicy.reference_step(query)
    if not wanted.startswith("scroll(") and step < len(reference):
        options = order_free_block(reference, step)
        options[0] = wanted  # the form the reference policy emits (ids or names)
    key = action_key(got, obs)
    return any(action_key(A.parse_action(text), obs) == key for text in options)


class TeacherForced(ReferencePolicy):
    """Executes the reference's action; grades the student model's action for the same prompt."""

    def __init__(self, student: Policy, config: PolicyConfig):
        super().__init__(config)
        self.student = student
        self.grades: list[StepGrade] = []

    def act(self, queries: Sequence[Query]) -> list[Decision]:
        reference = super().act(queries)
        answers = self.student.act(queries)
        for query, want, got in zip(queries, reference, answers, strict=True):
            assert want.action is not None and query.task is not None
            wanted = A.format_action(want.action)
            said = A.format_action(got.action) if got.action is not None else None
            self.grades.append(
                StepGrade(
                    task_id=query.task.id,
                    kind=want.action.name,
                    reference=wanted,
                    model=said,
                    correct=grade(query, wanted, got.action),
                )
            )
        return reference


@dataclass(frozen=True)
class Accuracy:
    """Right steps over graded steps, overall and by a label of each step."""

    correct: int
    steps: int
    by: dict[str, dict[str, tuple[int, int]]]
    """axis -> label -> (correct, steps)."""

    @property
    def rate(self) -> float:
        return self.correct / self.steps if self.steps else 0.0

    def as_dict(self) -> dict:
        return {
            "steps": self.steps,
            "accuracy": round(self.rate, 4),
            **{
                f"by_{axis}": {k: round(c / n, 4) for k, (c, n) in sorted(table.items())}
                for axis, table in self.by.items()
            },
        }


def accuracy(grades: Sequence[StepGrade], labels: dict[str, dict[str, str]]) -> Accuracy:
    """Aggregate `grades` by action kind and by each axis of `labels` (axis -> task id -> label)."""
    by: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for g in grades:
        keys = {"kind": g.kind, **{axis: table[g.task_id] for axis, table in labels.items()}}
        for axis, key in keys.items():
            by[axis][key][0] += int(g.correct)
            by[axis][key][1] += 1
    return Accuracy(
        correct=sum(g.correct for g in grades),
        steps=len(grades),
        by={axis: {k: (c, n) for k, (c, n) in table.items()} for axis, table in by.items()},
    )


def spread(tasks: Sequence[Task], n: int, seed: int = 0) -> list[Task]:
    """`n` of `tasks` in their order, a seeded sample: a fixed stride would alias with a set that
    cycles through difficulties (every 3rd of the held-out preset is easy)."""
    if n >= len(tasks):
        return list(tasks)
    return [tasks[i] for i in sorted(random.Random(seed).sample(range(len(tasks)), n))]


def template_labels(tasks: Sequence[Task]) -> dict[str, dict[str, str]]:
    """Per-task labels `accuracy` breaks figures down by: difficulty, and whether the task's template
    is seen in training ("seen": a held-out seed of a training template) or held out entirely."""
    return {
        "difficulty": {t.id: t.difficulty for t in tasks},
        "template": {t.id: "heldout-template" if t.provenance.extra.get("heldout_template") else "seen" for t in tasks},
    }


def step_accuracy(
    model: ChatModel,
    tasks: Sequence[Task],
    sites: SitesApp,
    *,
    env: EnvSettings,
    policy: PolicyConfig,
    rollout: RolloutConfig,
    seed: int,
) -> tuple[Accuracy, list[StepGrade]]:
    """Teacher-forced accuracy of `model` (greedy, as evals act) over the reference paths of `tasks`,
    with the run's env, policy and rollout settings."""
    from domplay.agent.evaluate import run_episodes

    greedy = policy.model_copy(update={"temperature": 0.0})
    teacher = TeacherForced(Policy(model, greedy), greedy)
    run_episodes(
        teacher,
        [t for t in tasks if t.reference],
        sites,
        env=env,
        rollout=rollout.model_copy(update={"samples_per_task": 1}),
        seed=seed,
        show_progress=False,
    )
    return accuracy(teacher.grades, template_labels(tasks)), teacher.grades
