"""The four filters a model-written task passes, in order, each counted in a `FilterYield`:

1. **execution** — the check passes the sandbox's validation (AST allowlist) and its own test
   paths: every PASS path runs and passes, every FAIL path that runs fails, and the check never errors;
2. **cross-validation** — `independent_checks` checks written for the same intent without seeing
   the draft's code agree with it on the episodes run against it (the test paths and every prefix
   of them, near misses of the PASS paths (`mutate.mutants`), exploration walks from the page): on
   at least `min_agreement` of the episodes some check passes, the draft gives the independent
   checks' majority verdict (`majority_agreement`);
3. **back-translation** — an intent written from the check's code alone is judged (0-10) to ask
   for the same outcome as the draft's intent, at least `min_backtranslation_score`;
4. **feasibility** — a path (a PASS path, or an exploration walk the check passes) is verified by
   replay (`selfplay.replay.verified_path`): it passes in a fresh episode, the start page fails
   (the check is not trivially true), it is shortened, and an altered path fails. A PASS path
   of the model's own must not shorten (`every_pass_step_matters`): each of its steps is part of
   the task as the model understood it, so a check that passes without one ignores that part — a
   blind spot every independent check may share, which cross-validation cannot see.

The model's code runs only in the sandbox; the model's replies are only read (`draft.py`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from domplay.autoif.config import AutoIFConfig
from domplay.autoif.draft import (
    Draft,
    PageView,
    backtranslate_prompt,
    check_prompt,
    judge_prompt,
    read_code,
    read_intent,
    read_score,
)
from domplay.autoif.mutate import mutants
from domplay.env.base import WebEnv
from domplay.errors import DomplayError
from domplay.llm.base import ChatModel, GenerationParams
from domplay.selfplay.config import ExploreConfig
from domplay.selfplay.replay import PathCheck, verified_path
from domplay.selfplay.walk import RandomWalker, Walk, record_walk, replay_walk
from domplay.verify.code_check import CodeCheck
from domplay.verify.sandbox import Sandbox
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import verify

FILTERS = ("execution", "cross_validation", "backtranslation", "feasibility")


@dataclass
class FilterYield:
    """How many drafts each filter received and passed, and why it rejected the others."""

    drafts: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)
    """By why the reply could not be read."""
    duplicates: int = 0
    """Readable drafts whose intent the run already has."""
    passed: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    """By `filter: reason`."""

    def reject(self, stage: str, reason: str) -> None:
        self.rejected[f"{stage}: {reason}"] += 1

    def as_dict(self) -> dict[str, float]:
        """Flat counts for the yield table: drafts, unreadable, <filter>_passed, <filter>_rejected, reasons."""
        out = {
            "drafts": float(self.drafts),
            "unreadable": float(sum(self.unreadable.values())),
            "duplicates": float(self.duplicates),
        }
        for name in FILTERS:
            out[f"{name}_passed"] = float(self.passed[name])
            out[f"{name}_rejected"] = float(sum(v for k, v in self.rejected.items() if k.startswith(f"{name}:")))
        for key, v in sorted(self.rejected.items()):
            out["rejected_" + "_".join(key.replace(":", "").split())] = float(v)
        return out

    def table(self) -> str:
        """The yield as lines: received, passed and each rejection reason per filter."""
        lines = [f"drafts {self.drafts}, unreadable {sum(self.unreadable.values())}, duplicates {self.duplicates}"]
        lines += [f"  unreadable {v}: {k}" for k, v in sorted(self.unreadable.items())]
        for name in FILTERS:
            lines.append(f"{name}: passed {self.passed[name]}")
            mine = sorted((k, v) for k, v in self.rejected.items() if k.startswith(f"{name}:"))
            lines += [f"  rejected {v}: {k.split(': ', 1)[1]}" for k, v in mine]
        return "\n".join(lines)


@dataclass
class Candidate:
    """A readable draft on its way through the filters."""

    page: PageView
    draft: Draft
    check: CodeCheck | None = None
    episodes: dict[str, Snapshot] = field(default_factory=dict)
    """Snapshots run against the check, by content key (deduplicated)."""
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The actions that led to each episode (same keys)."""
    verdicts: dict[str, bool] = field(default_factory=dict)
    agreement: float | None = None
    independent: int = 0
    backtranslated: str | None = None
    backtranslation: float | None = None
    reference: list[str] | None = None
    rejection: str | None = None
    """`filter: reason` once a filter rejected it."""


def snapshot_key(s: Snapshot) -> str:
    """Snapshots that verify alike share a key: URL, page, answer and backend state."""
    blob = json.dumps([s.url, s.html, s.answer, s.state], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


class Filters:
    """Runs candidates through the four filters; the model writes the independent checks, the
    back-translations and the judgements, in one batched call per filter."""

    def __init__(
        self,
        env: WebEnv,
        sandbox: Sandbox,
        model: ChatModel,
        config: AutoIFConfig,
        explore: ExploreConfig,
        tally: FilterYield,
    ):
        self.env = env
        self.sandbox = sandbox
        self.model = model
        self.config = config
        self.explore = explore
        self.tally = tally

    def run(self, candidates: Sequence[Candidate], seed: int) -> list[Candidate]:
        """The candidates that pass all four filters (each with its verified `reference`)."""
        kept = self.execution(candidates)
        kept = self.cross_validation(kept, seed)
        kept = self.backtranslation(kept, seed)
        return self.feasibility(kept)

    # 1 --------------------------------------------------------------------------------------
    def execution(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        return self._sift("execution", [(c, self._execute(c)) for c in candidates])

    def _sift(self, stage: str, outcomes: Sequence[tuple[Candidate, str | None]]) -> list[Candidate]:
        """The candidates without a rejection reason; the others are counted and marked."""
        out = []
        for c, reason in outcomes:
            if reason is None:
                self.tally.passed[stage] += 1
                out.append(c)
            else:
                self.tally.reject(stage, reason)
                c.rejection = f"{stage}: {reason}"
        return out

    def _execute(self, c: Candidate) -> str | None:
        try:
            c.check = CodeCheck(code=c.draft.code)
        except ValidationError:  # the AST allowlist refused it (imports, dunders, open, ...)
            return "code refused by the sandbox's validation"
        start = self._walk(c, ())
        if start is None:
            return "the page does not open"
        for path in c.draft.pass_paths:
            walk = self._walk(c, path)
            if walk is None:
                return "a PASS path does not run"
            verdict = self._verdict(c.check, walk.snapshots[-1])
            if verdict is None:
                return "the check errors"
            if not verdict:
                return "a PASS path fails the check"
        for path in c.draft.fail_paths:
            walk = self._walk(c, path)
            if walk is None:
                continue  # a path that cannot run shows nothing about the check
            verdict = self._verdict(c.check, walk.snapshots[-1])
            if verdict is None:
                return "the check errors"
            if verdict:
                return "a FAIL path passes the check"
        return None

    def _walk(self, c: Candidate, path: tuple[str, ...]) -> Walk | None:
        """Run `path` from the candidate's page; every snapshot on the way becomes an episode.
        None when an action errors or the episode ends early."""
        try:
            walk = replay_walk(self.env, c.page.start_url, list(path))
        except DomplayError:  # the start page does not open
            return None
        if len(walk.actions) < len(path) or any(e is not None for e in walk.errors):
            return None
        self._add_episodes(c, walk)
        return walk

    def _add_episodes(self, c: Candidate, walk: Walk) -> None:
        for i, snapshot in enumerate(walk.snapshots):
            key = snapshot_key(snapshot)
            if key not in c.episodes:
                c.episodes[key] = snapshot
                c.paths[key] = walk.actions[:i]

    def _verdict(self, check: CodeCheck, snapshot: Snapshot) -> bool | None:
        """True/False, or None when the check errors (crash, timeout, bad return value)."""
        v = verify([check], snapshot, self.sandbox)
        return None if v.error is not None else v.success

    # 2 --------------------------------------------------------------------------------------
    def cross_validation(self, candidates: Sequence[Candidate], seed: int) -> list[Candidate]:
        if not candidates:
            return []
        cfg = self.config
        rng = random.Random(seed)
        for c in candidates:
            for path in c.draft.pass_paths:
                for mutant in mutants(path):
                    self._walk(c, mutant)
            walker = RandomWalker(self.explore, rng, self.env.resolve_url)
            for _ in range(cfg.random_walks):
                try:
                    self._add_episodes(c, record_walk(self.env, c.page.start_url, walker, cfg.walk_steps, set()))
                except DomplayError:
                    break
        params = GenerationParams(
            temperature=cfg.temperature,
            max_new_tokens=cfg.max_new_tokens,
            n=cfg.independent_checks,
            seeds=tuple(seed + i for i in range(len(candidates))),
        )
        replies = self.model.generate(
            [check_prompt(c.page, c.draft.intent, cfg.page_chars) for c in candidates], params
        )
        outcomes = [
            (c, self._agree(c, [read_code(x.text) for x in completions]))
            for c, completions in zip(candidates, replies, strict=True)
        ]
        return self._sift("cross_validation", outcomes)

    def _agree(self, c: Candidate, codes: list[str | None]) -> str | None:
        assert c.check is not None
        for key, snapshot in c.episodes.items():
            verdict = self._verdict(c.check, snapshot)
            if verdict is None:
                return "the check errors on an episode"
            c.verdicts[key] = verdict
        others = []
        for code in codes:
            try:
                other = CodeCheck(code=code) if code is not None else None
            except ValidationError:
                other = None
            if other is None:
                continue
            verdicts = {k: self._verdict(other, s) for k, s in c.episodes.items()}
            if all(v is not None for v in verdicts.values()):
                others.append({k: bool(v) for k, v in verdicts.items()})
        c.independent = len(others)
        if len(others) < self.config.min_valid_independent:
            return "too few independent checks run"
        c.agreement = majority_agreement(c.verdicts, others)
        if c.agreement < self.config.min_agreement:
            return "independent checks disagree"
        return None

    # 3 --------------------------------------------------------------------------------------
    def backtranslation(self, candidates: Sequence[Candidate], seed: int) -> list[Candidate]:
        if not candidates:
            return []
        cfg = self.config
        seeds = tuple(seed + i for i in range(len(candidates)))
        params = GenerationParams(temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens, seeds=seeds)
        written = self.model.generate([backtranslate_prompt(c.page.site, c.draft.code) for c in candidates], params)
        for c, out in zip(candidates, written, strict=True):
            c.backtranslated = read_intent(out[0].text) or ""
        judge = GenerationParams(temperature=cfg.judge_temperature, max_new_tokens=32, seeds=seeds)
        judged = self.model.generate([judge_prompt(c.draft.intent, c.backtranslated or "") for c in candidates], judge)
        outcomes: list[tuple[Candidate, str | None]] = []
        for c, out in zip(candidates, judged, strict=True):
            c.backtranslation = read_score(out[0].text) if c.backtranslated else None
            if c.backtranslation is None:
                outcomes.append((c, "no intent or no score"))
            elif c.backtranslation < cfg.min_backtranslation_score:
                outcomes.append((c, "the intent written from the check differs"))
            else:
                outcomes.append((c, None))
        return self._sift("backtranslation", outcomes)

    # 4 --------------------------------------------------------------------------------------
    def feasibility(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        return self._sift("feasibility", [(c, self._feasible(c)) for c in candidates])

    def _feasible(self, c: Candidate) -> str | None:
        assert c.check is not None
        own = set(c.draft.pass_paths)
        tried = list(c.draft.pass_paths) + [c.paths[k] for k, ok in c.verdicts.items() if ok and c.paths[k]]
        reason = "no path passes"
        for path in dict.fromkeys(tried):  # in order, each once
            log = PathCheck()
            found = verified_path(
                self.env, [c.check], c.page.start_url, list(path), self.config.max_replays, log, self.sandbox
            )
            if found is not None and path in own and len(found) < len(path) and self.config.every_pass_step_matters:
                return "passes with a step of its PASS path dropped"
            if found is not None:
                c.reference = found
                return None
            reason = log.reason or reason
            if reason == "trivially true":
                return "true on the start page"
        return reason


def majority_agreement(mine: dict[str, bool], others: Sequence[dict[str, bool]]) -> float:
    """The share of informative episodes on which `mine` gives the independent checks' majority
    verdict. An episode is informative when some check passes it (episodes every check fails, such
    as most exploration walks, agree trivially and would hide a disagreement); a tie agrees."""
    informative = [k for k, v in mine.items() if v or any(o[k] for o in others)]
    if not informative:
        return 0.0
    agree = 0
    for k in informative:
        passing = sum(o[k] for o in others)
        majority = None if 2 * passing == len(others) else 2 * passing > len(others)
        agree += majority is None or majority == mine[k]
    return agree / len(informative)
