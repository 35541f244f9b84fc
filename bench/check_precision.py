"""Precision of model-written checks against the template oracle, and the yield of each filter.

For the first task of each template family (built-in sites, proposer seed --seed), the proposer
model writes a check and test paths for the template's intent; the four autoif filters keep some.
Every check that passed the execution filter is then run on the same episodes as the template's
oracle checks: the reference replay, its near misses (`autoif.mutate.mutants`, the reference
without its last action) and random-policy walks from the start page. A check passing an episode
is a positive prediction; the oracle's verdict is the truth.

    python bench/check_precision.py --model written            # bench/check_precision_written.yaml
    python bench/check_precision.py --model embedded           # SmolLM2-135M writes everything
    python bench/check_precision.py --model openai:M@http://127.0.0.1:8001/v1

The last line is JSON: kept_precision, kept_recall, the yield of each filter, and the precision
of the checks that passed each filter (how much each filter adds).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import yaml

from domplay.autoif.config import AutoIFConfig
from domplay.autoif.draft import BACKTRANSLATE_SYSTEM, CHECK_SYSTEM, JUDGE_SYSTEM
from domplay.autoif.filters import FILTERS, Candidate
from domplay.autoif.mutate import mutants
from domplay.autoif.proposer import AutoIFProposer
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.llm.base import ChatModel, Message
from domplay.llm.load import load_model
from domplay.llm.scripted import ScriptedModel
from domplay.selfplay.config import ExploreConfig
from domplay.selfplay.replay import run_path
from domplay.selfplay.walk import RandomWalker, record_walk
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.tasks.propose import TemplateProposer
from domplay.verify.sandbox import Sandbox
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import verify

WRITTEN = Path(__file__).with_name("check_precision_written.yaml")


class WrittenOutputs:
    """Replies from the written file, by the intent (or code) each prompt names."""

    def __init__(self, records: list[dict]):
        self.records = records
        self.handed: Counter[str] = Counter()

    def _record(self, text: str) -> dict | None:
        return next((r for r in self.records if r["intent"] in text or r.get("code", "\0") in text), None)

    def __call__(self, prompt: list[Message]) -> str:
        system, user = prompt[0]["content"], prompt[-1]["content"]
        record = self._record(user)
        if record is None:
            return "I do not know this task."
        if system == CHECK_SYSTEM:
            checks = record.get("checks") or ["no code"]
            self.handed[record["intent"]] += 1
            return checks[(self.handed[record["intent"]] - 1) % len(checks)]
        if system == BACKTRANSLATE_SYSTEM:
            return record["backtranslation"]
        if system == JUDGE_SYSTEM:
            return record["judge"]
        return record["draft"]


def written_model() -> tuple[ChatModel, list[str]]:
    records = yaml.safe_load(WRITTEN.read_text(encoding="utf-8"))
    for r in records:
        r["intent"] = r["draft"].splitlines()[0].removeprefix("INTENT:").strip()
        m = re.search(r"```python\n(.*?)```", r["draft"], re.DOTALL)
        if m is not None:
            r["code"] = m.group(1).strip("\n")
    return ScriptedModel(WrittenOutputs(records), name="written"), [r["family"] for r in records]


def first_per_family(sites: SitesApp, families: list[str], seed: int) -> list[Task]:
    found: dict[str, Task] = {}
    for t in TemplateProposer(sites).propose(120, "train", seed=seed).tasks:
        found.setdefault(t.provenance.template or "", t)
    return [found[f] for f in families if f in found]


def episodes(env, task: Task, walks: int, rng: random.Random) -> list[tuple[str, Snapshot]]:
    """The reference replay, its near misses and random-policy walks, as (label, snapshot)."""
    ref = tuple(task.reference or ())
    paths = [("reference", ref), ("reference minus last action", ref[:-1])]
    paths += [("near miss", m) for m in mutants(ref)]
    out = [(label, s) for label, p in paths if (s := run_path(env, task.start_url, p)) is not None]
    walker = RandomWalker(ExploreConfig(), rng, env.resolve_url)
    for _ in range(walks):
        out.append(("random walk", record_walk(env, task.start_url, walker, 5, set()).snapshots[-1]))
    return out


def furthest(c: Candidate) -> int:
    """How many filters the candidate passed."""
    if c.rejection is None:
        return len(FILTERS)
    return FILTERS.index(c.rejection.split(":", 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="written", help="written | embedded | openai:MODEL@URL | hf:/path")
    ap.add_argument("--seed", type=int, default=7, help="template proposer seed of the tasks")
    ap.add_argument("--walks", type=int, default=4, help="random-policy walks per task")
    args = ap.parse_args()
    started = time.perf_counter()
    if args.model == "written":
        model, families = written_model()
    else:
        model, families = load_model(args.model), written_model()[1]
    sites = SitesApp(seed=0, names=("shop", "forum", "admin"))
    tasks = first_per_family(sites, families, args.seed)
    config = AutoIFConfig(temperature=0.7)
    with EnvFactory(EnvSettings(), sites) as make, Sandbox(workers=1) as sandbox:
        env = make()
        proposer = AutoIFProposer(env, model, config, [], site_of=lambda u: u.split("/")[1], sandbox=sandbox)
        views = [proposer.view(t.start_url) for t in tasks]
        items = [(v, t.intent) for v, t in zip(views, tasks, strict=True) if v is not None]
        proposal = proposer.write(items, "train", args.seed)
        by_intent = {c.draft.intent: c for c in proposer.candidates}
        rng = random.Random(args.seed)
        confusion = {k: Counter() for k in range(1, len(FILTERS) + 1)}  # checks that passed >= k filters
        print(f"{'family':28} {'passed':18} {'TP':>3} {'FP':>3} {'FN':>3} {'TN':>3}  rejection")
        for task in tasks:
            c = by_intent.get(task.intent)
            if c is None or c.check is None or furthest(c) == 0:
                reason = "unreadable" if c is None else c.rejection
                print(f"{task.provenance.template:28} {'-':18} {'':>3} {'':>3} {'':>3} {'':>3}  {reason}")
                continue
            counts: Counter[str] = Counter()
            for _, snapshot in episodes(env, task, args.walks, rng):
                truth = verify(task.checks, snapshot).success
                said = verify([c.check], snapshot, sandbox).success
                counts["TP" if said and truth else "FP" if said else "FN" if truth else "TN"] += 1
            reached = "all four (kept)" if c.rejection is None else f"up to {FILTERS[furthest(c) - 1]}"
            for k in range(1, furthest(c) + 1):
                confusion[k].update(counts)
            row = " ".join(f"{counts[k]:>3}" for k in ("TP", "FP", "FN", "TN"))
            print(f"{task.provenance.template:28} {reached:18} {row}  {c.rejection or ''}")
    print("\nyield of each filter:")
    for k, v in proposal.stats.items():
        if not k.startswith("rejected_"):
            print(f"  {k:32} {v:g}")
    kept = confusion[len(FILTERS)]

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 4) if b else None

    by_filter = {FILTERS[k - 1]: ratio(confusion[k]["TP"], confusion[k]["TP"] + confusion[k]["FP"]) for k in confusion}
    print(f"\nprecision of the checks that passed each filter: {by_filter}")
    result = {
        "bench": "check_precision",
        "model": model.name,
        "tasks": len(tasks),
        "kept": len(proposal.tasks),
        "kept_precision": ratio(kept["TP"], kept["TP"] + kept["FP"]),
        "kept_recall": ratio(kept["TP"], kept["TP"] + kept["FN"]),
        "kept_episodes": sum(kept.values()),
        "precision_after_filter": by_filter,
        "yield": {k: v for k, v in proposal.stats.items() if not k.startswith("rejected_")},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
