"""Shared checks for a built-in site's task templates (used by test_templates_forum/admin).

A template set is good when: nearly every seed becomes a task whose reference passes its
checks; the same seed gives the same task; tasks vary; intents come in several phrasings;
and the audit's mutants (wrong item, skipped step, wrong value) fail. A surviving mutant is
*harmless* when the step it changed is a fill of a search box whose exact text the task
does not pin (a shortened query that still lists the target leads to the same, correct
outcome) or a click on a navigation link to a list page that the next steps filter anyway
(another link to that list, e.g. a dashboard figure, is another route to the same page).
Every other survivor counts against the template.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from domplay.env.dom import DomEnv
from domplay.sites.app import SitesApp
from domplay.tasks.audit import MUTATION_KINDS, AuditReport, audit
from domplay.tasks.model import Task
from domplay.tasks.propose import Proposal, TemplateProposer
from domplay.tasks.templates.base import Step, Template

SEEDS_PER_TEMPLATE = 15
MIN_SUCCESS_RATE = 0.99
MIN_DISTINCT_INTENT_SHARE = 0.6
"""Share of distinct intents among a template's tasks (small pools, e.g. 5 dashboard figures, repeat)."""
PHRASING_SEEDS = 30
MIN_PHRASINGS = 3


def propose_all(sites: SitesApp, classes: list[type[Template]]) -> dict[str, Proposal]:
    """SEEDS_PER_TEMPLATE attempted tasks per template, failures kept."""
    out = {}
    for cls in classes:
        proposer, result = TemplateProposer(sites, templates=[cls()]), Proposal()
        split = "heldout" if cls.heldout_only else "train"
        for seed in range(SEEDS_PER_TEMPLATE):
            task = proposer.make_task(cls(), seed, split, result)
            if task is not None:
                result.tasks.append(task)
        proposer.close()
        out[cls.name] = result
    return out


def phrasings_used(cls: type[Template], sites: SitesApp, site: str, monkeypatch) -> tuple[set[str], list[int]]:
    """The intent variants `cls` picked over PHRASING_SEEDS drafts, and how many it offered each time."""
    used: set[str] = set()
    offered: list[int] = []
    original = Template.phrase

    def recording(rng, *variants, **values):
        text = original(rng, *variants, **values)
        offered.append(len(variants))
        used.add(next(v for v in variants if v.format(**values) == text))
        return text

    monkeypatch.setattr(Template, "phrase", staticmethod(recording))
    for seed in range(PHRASING_SEEDS):
        cls().draft(sites.sites[site], random.Random(seed))
    return used, offered


def mutated_index(reference: list[str], mutant: list[str]) -> int:
    """Index of the reference step a mutant changed or dropped."""
    for i, (a, b) in enumerate(zip(reference, mutant, strict=False)):  # a mutant may drop steps
        if a != b:
            return i
    return min(len(reference), len(mutant))


@dataclass
class Judged:
    report: AuditReport
    harmless: list[tuple[str, str, str]] = field(default_factory=list)
    harmful: list[tuple[str, str, list[str]]] = field(default_factory=list)


def judge_audit(
    tasks: list[Task],
    env: DomEnv,
    sites: SitesApp,
    classes: list[type[Template]],
    search_boxes: frozenset[str],
    nav_links: frozenset[str],
) -> Judged:
    """Audit `tasks` and sort the survivors into harmless (search-box fills, list navigation) and harmful."""
    by_name = {c.name: c for c in classes}
    by_id = {t.id: t for t in tasks}
    judged = Judged(audit(tasks, env, seed=1, kinds=MUTATION_KINDS))
    for task_id, kind, mutant in judged.report.survivors:
        task = by_id[task_id]
        cls = by_name[task.provenance.template]
        draft = cls().draft(sites.sites[task.site], random.Random(task.provenance.seed))
        assert draft is not None
        i = mutated_index(task.reference or [], mutant)
        step: Step | None = draft.plan[i] if i < len(draft.plan) else None
        if step is not None and (
            (step.kind == "fill" and step.name in search_boxes)
            or (kind == "wrong_item" and step.role == "link" and step.name in nav_links)
        ):
            judged.harmless.append((task_id, kind, f"{step.name}={step.value!r} -> {mutant[i]}"))
        else:
            judged.harmful.append((task_id, kind, mutant))
    return judged
