"""Relabelled-task precision: are the checks hindsight writes as strict as the templates' own?

On the built-in sites, template tasks (training templates, training seeds) have oracle checks
and a verified reference. For each such task T the bench runs a set of episodes from T's start
page — the reference (a success), the reference with each step dropped, with a wrong answer, and
cut short — and relabels T's reference walk with the hindsight pipeline (both relabellers,
verification by replay). A relabelled task t *claims T's goal* when it is the same goal:

- template relabeller: t's family is T's template and t's checks are T's (the same draft goal);
- DOM relabeller: t asks for one of T's expected answers on the page T's URL check names.

For every claiming t and every episode of T, t's checks and T's oracle checks each judge the
final snapshot: precision = P(oracle passes | t passes), recall = P(t passes | oracle passes),
per relabeller, with every disagreement listed.

    python bench/relabel_precision.py [--tasks 90] [--seed 0]

Last line: one JSON object with `precision`, `recall`, per-relabeller figures and counts.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import click

from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.selfplay.config import HindsightConfig
from domplay.selfplay.harvest import Harvester
from domplay.selfplay.hindsight import DomRelabeller, TemplateRelabeller, url_path
from domplay.selfplay.replay import run_path
from domplay.selfplay.walk import replay_walk
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.tasks.propose import TemplateProposer
from domplay.tasks.templates import all_templates
from domplay.verify.textmatch import alternatives
from domplay.verify.value_checks import AnswerCheck, UrlCheck
from domplay.verify.verdict import verify

SITES = ("shop", "forum", "admin")


def episodes_of(task: Task) -> list[tuple[str, list[str]]]:
    """(name, actions) of the episodes judged for `task`: its reference and mutations of it."""
    ref = list(task.reference or [])
    out = [("reference", ref)]
    out += [(f"drop step {i}", ref[:i] + ref[i + 1 :]) for i in range(len(ref))]
    out += [(f"first {k} steps", ref[:k]) for k in range(1, len(ref))]
    if ref and isinstance(A.parse_action(ref[-1]), A.Answer):
        out.append(("wrong answer", ref[:-1] + ['answer("0")']))
    return out


def claims(t: Task, T: Task) -> bool:
    extra = t.provenance.extra
    if extra.get("relabeller") == "template":
        return extra.get("family") == T.provenance.template and t.checks == T.checks
    answers = [c for c in t.checks if isinstance(c, AnswerCheck)]
    urls = [c for c in t.checks if isinstance(c, UrlCheck)]
    t_answer = answers[0].expected if answers else None
    T_answers = [a for c in T.checks if isinstance(c, AnswerCheck) for a in alternatives(c.expected)]
    T_urls = [url_path(c.expected) for c in T.checks if isinstance(c, UrlCheck)]
    return bool(t_answer in T_answers and urls and url_path(urls[0].expected) in T_urls)


@click.command()
@click.option("--tasks", "n_tasks", default=90, show_default=True, help="template tasks to relabel")
@click.option("--seed", default=0, show_default=True)
def main(n_tasks: int, seed: int) -> None:
    started = time.perf_counter()
    sites = SitesApp(0, names=SITES)
    tasks = TemplateProposer(sites).propose(n_tasks, "train", seed=seed + 7).tasks
    h = HindsightConfig(max_goals_per_episode=1000)
    env = DomEnv(DomEnvConfig(max_steps=30), sites=sites)
    relabellers = [TemplateRelabeller(sites, all_templates(), h, seed), DomRelabeller(h)]
    counts: dict[str, Counter[str]] = {"template": Counter(), "dom": Counter()}
    disagreements: list[str] = []
    matched_tasks: Counter[str] = Counter()
    for T in tasks:
        walk_actions = [a for a in T.reference or [] if A.parse_action(a).name not in ("answer", "stop")]
        walk = replay_walk(env, T.start_url, walk_actions)
        harvester = Harvester(
            env,
            relabellers,
            h,
            site_of=lambda u: url_path(u).split("/")[1],
            start_of=url_path,
            seen=set(),
            max_per_family=10_000,
            proposer="hindsight",
            round=0,
        )
        relabelled = harvester.harvest(walk, random.Random(seed), "reference", 10_000)
        mine = [t for t in relabelled if claims(t, T)]
        for t in mine:
            kind = t.provenance.extra["relabeller"]
            matched_tasks[kind] += 1
            for name, actions in episodes_of(T):
                snap = run_path(env, T.start_url, actions)
                if snap is None:
                    continue
                oracle = verify(T.checks, snap).success
                claim = verify(t.checks, snap).success
                counts[kind][f"{'t' if claim else 'f'}{'t' if oracle else 'f'}"] += 1
                if claim != oracle:
                    disagreements.append(
                        f"{kind}: {T.id} [{name}] relabelled={claim} oracle={oracle}: {t.intent!r} vs {T.intent!r}"
                    )
    summary: dict[str, object] = {"template_tasks": len(tasks), "matched": dict(matched_tasks)}
    total = Counter[str]()
    for kind, c in counts.items():
        total.update(c)
        summary[kind] = _figures(c)
    summary.update(_figures(total))
    summary["disagreements"] = len(disagreements)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(f"{len(tasks)} template tasks; relabelled goals that claim their goal: {dict(matched_tasks)}")
    for kind in counts:
        f = summary[kind]
        print(f"  {kind:8s} precision {f['precision']} recall {f['recall']} over {f['judged']} judged episodes")  # type: ignore[index]
    print(f"disagreements ({len(disagreements)}):")
    for line in disagreements:
        print("  " + line)
    print(json.dumps(summary))


def _figures(c: Counter[str]) -> dict[str, float | int | None]:
    tp, fp, fn = c["tt"], c["tf"], c["ft"]
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "judged": sum(c.values()),
        "true_pos": tp,
        "false_pos": fp,
        "false_neg": fn,
    }


if __name__ == "__main__":
    main()
