"""`PlanProposer` (source `plans`): high-level intents become plans, and plans become tasks.

For each intent (given with its start page, or written by the model for a page) the Planner's Actor
writes `plan.candidates` plans, its Infer step scores them and merges them (`agent.plan_merge`).
Each subtask of the plan becomes a task on the page where the previous subtask's verified path
ends, in the state the earlier subtasks left: the task opens the intent's first page and replays
their paths as its `setup`, and the proposer checks the subtask the same way (`StartStates`). Its
checks come, in the order of `checks`, from autoif (the model writes check code and test paths for
the subtask; only what passes the four filters is kept) or from the DOM (`subtask_dom`, from the
model's test paths or exploration walks). A subtask without checks makes the Planner
replan from its page with the failure as the reason, at most `plan.max_replans` times per intent;
the subtasks already done stay. Intents are planned in one batch and their current subtasks
checked in one batch per step, so a local model generates for all of them at once.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, cast

from domplay.agent.plan import Planner, PlanRequest, PlanState, parse_subtasks
from domplay.agent.prompts import HistoryItem
from domplay.autoif.config import AutoIFConfig, PlanIntent, PlansConfig
from domplay.autoif.proposer import AutoIFProposer, intent_key
from domplay.autoif.subtask_dom import DomChecks, dom_checks
from domplay.env.base import WebEnv
from domplay.env.observation import Observation
from domplay.errors import DomplayError
from domplay.llm.base import ChatModel, GenerationParams, Message
from domplay.selfplay.config import ExploreConfig, HindsightConfig
from domplay.selfplay.harvest import difficulty_of
from domplay.selfplay.hindsight import DomRelabeller
from domplay.selfplay.replay import run_path
from domplay.selfplay.walk import RandomWalker
from domplay.tasks.model import Provenance, Split, Task
from domplay.tasks.sources import Proposal, ProposalFailure
from domplay.verify.sandbox import Sandbox

PROPOSER = "plans"
INTENTS_SYSTEM = (
    "You propose goals for users of web sites. Given a site's start page, write {n} different goals a "
    "user could reach on this site in a few steps (finding an item and a fact about it, filling a form, "
    "comparing items). One goal per line, numbered, each one sentence addressed to the user."
)


@dataclass
class PlanYield:
    """What each step of the source made and lost, for the yield table."""

    intents: int = 0
    intents_written: int = 0
    """Of `intents`, those the model wrote (no intents were configured)."""
    candidates: int = 0
    """Plans the Actor wrote that had numbered steps."""
    candidates_empty: int = 0
    candidates_heuristic: int = 0
    """Plans scored by the heuristic because the Infer reply had no four scores."""
    merged: int = 0
    """Plans (initial or replans) that took steps from more than one candidate."""
    replans: int = 0
    subtasks: int = 0
    """Subtasks that were asked for checks (or found in the run already)."""
    checks: Counter[str] = field(default_factory=Counter)
    """Subtasks with checks, by where they came from: autoif, dom, reused (a task of the run)."""
    without_checks: int = 0
    taken: int = 0
    """Subtasks with checks whose task the run has from another source: followed, not proposed."""
    intents_done: int = 0
    intents_abandoned: int = 0
    filters: Counter[str] = field(default_factory=Counter)
    """autoif's yield (`FilterYield.as_dict`) summed over its calls."""

    def as_dict(self) -> dict[str, float]:
        """Flat counts: every count above, `with_checks`, `checks_<where>` and autoif's `autoif_<count>`."""
        out = {f.name: float(v) for f in fields(self) if isinstance(v := getattr(self, f.name), int)}
        out["with_checks"] = float(sum(self.checks.values()))
        out.update({f"checks_{k}": float(self.checks[k]) for k in ("autoif", "dom", "reused")})
        out.update({f"autoif_{k}": float(v) for k, v in sorted(self.filters.items())})
        return out


@dataclass
class Progress:
    """One high-level intent on its way through its plans."""

    intent: str
    origin: str
    """The page the first plan starts from."""
    page: str
    """Where the current subtask starts."""
    prefix: tuple[str, ...] = ()
    """The verified actions from `origin` to `page`: the subtasks done so far."""
    state: PlanState | None = None
    abandoned: bool = False

    @property
    def active(self) -> bool:
        s = self.state
        return not self.abandoned and (s is None or s.pending_replan is not None or s.remaining > 0)

    @property
    def subtask(self) -> str:
        assert self.state is not None
        return self.state.subtasks[self.state.current]


def page_of(task: Task) -> str:
    """The page a task's episode begins on, after its setup (a `plans` task records it)."""
    return str(task.provenance.extra.get("page", task.start_url)) if task.setup else task.start_url


class StartStates:
    """The proposer's env, where a subtask's page opens in the state the earlier subtasks left: a
    reset to a registered page (`starts[page] = (origin, prefix)`) opens `origin` and runs `prefix`
    as setup. Everything that replays or walks from a subtask's page (autoif's filters, the DOM
    checks, the planner's view) then sees that state without knowing of it."""

    def __init__(self, env: WebEnv):
        self.env = env
        self.starts: dict[str, tuple[str, tuple[str, ...]]] = {}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        options = dict(options or {})
        found = self.starts.get(options.get("start_url") or "") if not {"task", "setup"} & set(options) else None
        if found is not None:
            options.update(start_url=found[0], setup=list(found[1]))
        return self.env.reset(seed=seed, options=options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)


def intents_prompt(obs: Observation, n: int, page_chars: int) -> list[Message]:
    user = f"Start page: {obs.url}\n{obs.text[:page_chars]}\n\nGoals:"
    return [{"role": "system", "content": INTENTS_SYSTEM.format(n=n)}, {"role": "user", "content": user}]


class PlanProposer:
    """A `Proposer`: tasks from the subtasks of plans for high-level intents.

    `intents` are given intents (else the model writes `intents_per_page` for each of `pages`);
    `site_of(url)` and `start_of(url)` give a task's site and start URL; `tasks` are the run's
    tasks: one with a subtask's page and intent is never proposed again, and a `plans` task's
    verified path is followed instead of checking the subtask anew."""

    name = PROPOSER

    def __init__(
        self,
        env: WebEnv,
        model: ChatModel,
        config: PlansConfig,
        *,
        autoif: AutoIFConfig,
        explore: ExploreConfig,
        hindsight: HindsightConfig,
        intents: Sequence[PlanIntent],
        pages: Sequence[str],
        site_of: Callable[[str], str],
        start_of: Callable[[str], str],
        tasks: Sequence[Task] = (),
        round: int = 0,
        sandbox: Sandbox | None = None,
    ):
        self.states = StartStates(env)
        self.env = cast(WebEnv, self.states)
        self.model = model
        self.config = config
        self.explore = explore
        self.intents = list(intents)
        self.pages = list(pages)
        self.site_of = site_of
        self.start_of = start_of
        self.round = round
        self.planner = Planner(model, config.plan)
        self.relabeller = DomRelabeller(hindsight)
        self._own_sandbox = sandbox is None
        self.sandbox = sandbox if sandbox is not None else Sandbox(workers=1)
        self.autoif = AutoIFProposer(
            self.env, model, autoif, (), site_of=site_of, explore=explore, round=round, sandbox=self.sandbox
        )
        self.taken = {self._key(page_of(t), t.intent) for t in tasks}
        self.known = {self._key(page_of(t), t.intent): t for t in tasks if t.provenance.proposer == PROPOSER}
        self.tally = PlanYield()

    @staticmethod
    def _key(start_url: str, intent: str) -> str:
        return f"{start_url}\n{intent_key(intent)}"

    def _one_state_per_page(self, active: Sequence[Progress]) -> list[Progress]:
        """`active` but those whose page another one reaches in another state (they wait for the
        next step); the pages of the others are registered with the states they open in."""
        states: dict[str, tuple[str, tuple[str, ...]]] = {}
        out = []
        for p in active:
            state = (p.origin, p.prefix)
            if states.setdefault(p.page, state) == state:
                out.append(p)
        self.states.starts = {page: state for page, state in states.items() if state[1]}
        return out

    def propose(self, n: int, split: Split, seed: int) -> Proposal:
        self.tally = PlanYield()
        work = [Progress(intent, start, start) for start, intent in self._intents(seed)]
        self.tally.intents = len(work)
        tasks: list[Task] = []
        failures: list[ProposalFailure] = []
        rng = random.Random(seed)
        step = 0
        while len(tasks) < n:
            current = self._one_state_per_page([p for p in work if p.active])
            if not current:
                break
            self._plan([p for p in current if self.planner.needs_plan(p.state)], seed * 100 + step)
            current = [p for p in current if p.active]
            made, failed = self._subtasks(current, split, seed * 100 + step, rng)
            tasks += made
            failures += failed
            step += 1
        self.tally.intents_done = sum(1 for p in work if not p.abandoned and p.state is not None and not p.active)
        self.tally.intents_abandoned = sum(1 for p in work if p.abandoned)
        stats = self.tally.as_dict()
        stats["kept"] = float(min(n, len(tasks)))
        return Proposal(tasks=tasks[:n], failures=failures, stats=stats)

    # -- intents and plans ----------------------------------------------------------------------
    def _observe(self, url: str) -> Observation | None:
        try:
            obs, _ = self.env.reset(options={"start_url": url})
        except DomplayError:
            return None
        return obs

    def _intents(self, seed: int) -> list[tuple[str, str]]:
        """(start URL, intent) pairs: the given intents, else intents the model writes for each page."""
        if self.intents:
            return list(dict.fromkeys((self.start_of(i.start_url), i.intent) for i in self.intents))
        cfg = self.config
        views = [(page, obs) for page, obs in ((p, self._observe(p)) for p in self.pages) if obs is not None]
        if not views:
            return []
        params = GenerationParams(
            temperature=cfg.intent_temperature,
            max_new_tokens=cfg.intent_max_new_tokens,
            seeds=tuple(seed * 100 + i for i in range(len(views))),
        )
        prompts = [intents_prompt(obs, cfg.intents_per_page, cfg.plan.page_chars) for _, obs in views]
        replies = self.model.generate(prompts, params)
        out: dict[tuple[str, str], None] = {}
        for (page, _), reply in zip(views, replies, strict=True):
            for intent in parse_subtasks(reply[0].text, cfg.intents_per_page, cfg.plan.max_subtask_chars):
                out[(self.start_of(page), intent)] = None
        self.tally.intents_written = len(out)
        return list(out)

    def _plan(self, work: Sequence[Progress], seed: int) -> None:
        """A plan (or a replan, with the failure as reason) for each of `work`, in one batch."""
        asking: list[tuple[Progress, PlanRequest]] = []
        for p in work:
            obs = self._observe(p.page)
            if obs is None:
                p.abandoned = True
                continue
            history = tuple(HistoryItem(a) for a in p.prefix)
            asking.append((p, PlanRequest(p.intent, obs, history=history, previous=p.state, seed=seed)))
        if not asking:
            return
        states = self.planner.plan([request for _, request in asking])
        for (p, _), state in zip(asking, states, strict=True):
            p.state = state
            attempt = state.attempts[-1]
            self.tally.replans += int(len(state.attempts) > 1)
            self.tally.candidates += sum(1 for c in attempt.candidates if c.subtasks)
            self.tally.candidates_empty += sum(1 for c in attempt.candidates if not c.subtasks)
            self.tally.candidates_heuristic += sum(1 for c in attempt.candidates if c.source == "heuristic")
            self.tally.merged += int(len(attempt.merged_from) > 1)

    # -- subtasks -------------------------------------------------------------------------------
    def _subtasks(
        self, work: Sequence[Progress], split: Split, seed: int, rng: random.Random
    ) -> tuple[list[Task], list[ProposalFailure]]:
        """Checks for the current subtask of each of `work`: followed and proposed when found, a
        replan (or the intent given up) when not."""
        self.tally.subtasks += len(work)
        found, reasons = self._checks(work, split, seed, rng)
        tasks: list[Task] = []
        failures: list[ProposalFailure] = []
        for k, p in enumerate(work):
            if k in found:
                task, origin = found[k]
                assert task.reference is not None
                end = run_path(self.env, p.page, task.reference)
                if end is not None:
                    made = self._follow(p, task, origin, end.url)
                    tasks += [made] if made is not None else []
                    continue
                reasons[k].append(f"{origin}: its verified path does not replay")
            self.tally.without_checks += 1
            assert p.state is not None
            why = f"subtask {p.state.current + 1} ({p.subtask!r}) got no checks: " + "; ".join(reasons[k])
            failures.append(ProposalFailure(PROPOSER, seed, why))
            self._fail(p, why)
        return tasks, failures

    def _checks(
        self, work: Sequence[Progress], split: Split, seed: int, rng: random.Random
    ) -> tuple[dict[int, tuple[Task, str]], dict[int, list[str]]]:
        """A task with checks for the current subtask of `work[k]` and where its checks came from
        (a `plans` task of the run, autoif, the DOM), by k; why not, for the others."""
        found: dict[int, tuple[Task, str]] = {}
        for k, p in enumerate(work):
            known = self.known.get(self._key(p.page, p.subtask))
            if known is not None and known.reference is not None:
                found[k] = (known, "reused")
        reasons: dict[int, list[str]] = {k: [] for k in range(len(work))}
        paths: dict[int, list[tuple[str, ...]]] = {k: [] for k in range(len(work))}
        for source in self.config.checks:
            todo = [k for k in range(len(work)) if k not in found]
            if source == "autoif" and todo:
                self._autoif([(k, work[k]) for k in todo], split, seed, found, reasons, paths)
            elif source == "dom":
                walker = RandomWalker(self.explore, rng, self.env.resolve_url)
                for k in todo:
                    p = work[k]
                    result = dom_checks(self.env, p.subtask, p.page, paths[k], walker, self.relabeller, self.config)
                    if isinstance(result, str):
                        reasons[k].append(result)
                    else:
                        found[k] = (self._dom_task(p, result, split, seed), "dom")
        return found, reasons

    def _autoif(
        self,
        items: Sequence[tuple[int, Progress]],
        split: Split,
        seed: int,
        found: dict[int, tuple[Task, str]],
        reasons: dict[int, list[str]],
        paths: dict[int, list[tuple[str, ...]]],
    ) -> None:
        """The model writes a check and test paths for each subtask (one batch); autoif's filters keep some.
        The model's PASS paths are kept for the DOM either way."""
        views = {k: self.autoif.view(p.page) for k, p in items}
        asked = [(view, p.subtask) for k, p in items if (view := views[k]) is not None]
        proposal = self.autoif.write(asked, split, seed)
        self.tally.filters.update(proposal.stats)
        made = {(t.start_url, t.intent): t for t in proposal.tasks}
        drafts = {(c.page.start_url, c.draft.intent): c for c in self.autoif.candidates}
        for k, p in items:
            task = made.get((p.page, p.subtask))
            draft = drafts.get((p.page, p.subtask))
            if task is not None:
                found[k] = (task, "autoif")
            elif views[k] is None:
                reasons[k].append("autoif: the page does not open")
            elif draft is None:
                reasons[k].append("autoif: the model's reply could not be read")
            else:
                reasons[k].append(f"autoif: {draft.rejection}")
            if draft is not None:
                paths[k] = list(draft.draft.pass_paths)

    def _follow(self, p: Progress, task: Task, source: str, end_url: str) -> Task | None:
        """Move `p` on to `end_url`, where `task`'s path ends; the task as this source proposes it, or
        None when it is not proposed (reused, or the run has it from another source)."""
        assert p.state is not None and task.reference is not None
        self.tally.checks[source] += 1
        key = self._key(p.page, p.subtask)
        made = self._as_plan_task(p, task, source) if source != "reused" else None
        if made is not None and key in self.taken:
            self.tally.taken += 1
            made = None
        if made is not None:
            self.taken.add(key)
            self.known[key] = made
        p.prefix += tuple(task.reference)
        p.page = self.start_of(end_url)
        p.state = replace(p.state, current=p.state.current + 1)
        return made

    def _fail(self, p: Progress, why: str) -> None:
        assert p.state is not None
        if p.state.replans < self.config.plan.max_replans:
            p.state = replace(p.state, pending_replan=why)
        else:
            p.abandoned = True

    # -- tasks ----------------------------------------------------------------------------------
    def _dom_task(self, p: Progress, found: DomChecks, split: Split, seed: int) -> Task:
        return Task(
            id="dom",  # replaced by _as_plan_task
            intent=p.subtask,
            site=self.site_of(p.page),
            start_url=p.page,
            difficulty=difficulty_of(found.path),
            checks=list(found.goal.checks),
            reference=found.path,
            provenance=Provenance(
                proposer="dom",
                seed=seed,
                split=split,
                extra={"dom_goal": found.goal.intent, "dom_match": round(found.match, 3), "path_from": found.origin},
            ),
        )

    def _as_plan_task(self, p: Progress, task: Task, source: str) -> Task:
        """`task` (made by autoif or from the DOM) as a `plans` task, with the intent, plan and subtask
        it came from."""
        assert p.state is not None
        attempt = p.state.attempts[-1]
        checks = "\n".join(c.model_dump_json() for c in task.checks)
        digest = hashlib.sha1(f"{p.page}\n{p.subtask}\n{checks}".encode()).hexdigest()[:12]
        extra = {
            **task.provenance.extra,
            "intent": p.intent,
            "plan": list(p.state.subtasks),
            "subtask_index": p.state.current,
            "plan_attempt": p.state.replans,
            "merged_from": list(attempt.merged_from),
            "plan_start_url": p.origin,
            "prefix": list(p.prefix),
            "page": p.page,
            "checks_from": source,
            "model": self.model.name,
        }
        provenance = Provenance(proposer=PROPOSER, seed=task.provenance.seed, split=task.provenance.split, extra=extra)
        update: dict[str, Any] = {"id": f"{PROPOSER}-r{self.round}-{digest}", "provenance": provenance}
        if p.prefix:  # opens where the intent starts and replays the subtasks done: their state too
            update.update(start_url=p.origin, setup=list(p.prefix))
        return task.model_copy(update=update)

    def close(self) -> None:
        if self._own_sandbox:
            self.sandbox.close()
