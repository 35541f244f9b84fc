"""`AutoIFProposer` (source `autoif`): the model writes tasks for pages, with their checks and
test paths; the four filters of `filters.py` keep the ones that survive execution and cross-checks.

Pages are shown as the agent sees them (the observation text) with the shape of the backend
state a check can read. Any ChatModel writes: an OpenAI-compatible endpoint for a strong
proposer and the embedded model as the learner, or the learner itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from domplay.autoif.config import AutoIFConfig
from domplay.autoif.draft import PageView, describe_state, draft_prompt, read_draft
from domplay.autoif.filters import Candidate, Filters, FilterYield
from domplay.env.base import WebEnv
from domplay.errors import DomplayError
from domplay.llm.base import ChatModel, GenerationParams
from domplay.selfplay.config import ExploreConfig
from domplay.selfplay.harvest import difficulty_of
from domplay.tasks.model import Provenance, Split, Task
from domplay.tasks.sources import Proposal, ProposalFailure
from domplay.verify.sandbox import Sandbox

PROPOSER = "autoif"


def intent_key(intent: str) -> str:
    """Intents that differ only in case and spacing are the same task."""
    return " ".join(intent.lower().split())


class AutoIFProposer:
    """A `Proposer`: `drafts_per_page` tasks written for each page of `pages` per call, filtered.

    `site_of(url)` names a task's site (a built-in site or an origin); `seen` holds the run's
    intents (`intent_key`), never proposed again. `write` takes given intents instead (plans'
    subtasks, the precision bench): the model then writes only the check and the test paths."""

    name = PROPOSER

    def __init__(
        self,
        env: WebEnv,
        model: ChatModel,
        config: AutoIFConfig,
        pages: Sequence[str],
        *,
        site_of: Callable[[str], str],
        explore: ExploreConfig | None = None,
        seen: set[str] | None = None,
        round: int = 0,
        sandbox: Sandbox | None = None,
    ):
        self.env = env
        self.model = model
        self.config = config
        self.pages = list(pages)
        self.site_of = site_of
        self.explore = explore if explore is not None else ExploreConfig()
        self.seen = seen if seen is not None else set()
        self.round = round
        self._own_sandbox = sandbox is None
        self.sandbox = sandbox if sandbox is not None else Sandbox(workers=1)
        self.candidates: list[Candidate] = []
        """Every readable draft of the last call, with how far it got (for benches and the report)."""

    def view(self, start_url: str) -> PageView | None:
        """The page as the model sees it; None when it does not open."""
        try:
            obs, _ = self.env.reset(options={"start_url": start_url})
            state = self.env.snapshot().state
        except DomplayError:
            return None
        site = self.site_of(start_url)
        return PageView(start_url, site, obs.text, describe_state({site: state[site]} if site in state else state))

    def propose(self, n: int, split: Split, seed: int) -> Proposal:
        views = [v for v in (self.view(u) for u in self.pages) if v is not None]
        items = [(v, None) for v in views for _ in range(self.config.drafts_per_page)]
        proposal = self.write(items, split, seed)
        proposal.tasks = proposal.tasks[:n]
        return proposal

    def write(self, items: Sequence[tuple[PageView, str | None]], split: Split, seed: int) -> Proposal:
        """Tasks for (page, intent or None) items: one draft each, then the four filters."""
        cfg = self.config
        tally = FilterYield(drafts=len(items))
        params = GenerationParams(
            temperature=cfg.temperature,
            max_new_tokens=cfg.max_new_tokens,
            seeds=tuple(seed * 10_000 + i for i in range(len(items))),
        )
        replies = (
            self.model.generate([draft_prompt(v, intent, cfg.page_chars) for v, intent in items], params)
            if items
            else []
        )
        failures: list[ProposalFailure] = []
        candidates = []
        for i, ((view, intent), out) in enumerate(zip(items, replies, strict=True)):
            draft = read_draft(out[0].text, cfg.max_test_paths, cfg.max_path_actions, intent)
            if isinstance(draft, str):
                tally.unreadable[draft] += 1
                failures.append(ProposalFailure(PROPOSER, i, f"unreadable: {draft}"))
            elif intent is None and intent_key(draft.intent) in self.seen:
                tally.duplicates += 1
                failures.append(ProposalFailure(PROPOSER, i, "duplicate intent"))
            else:
                self.seen.add(intent_key(draft.intent))
                candidates.append(Candidate(view, draft))
        filters = Filters(self.env, self.sandbox, self.model, cfg, self.explore, tally)
        kept = filters.run(candidates, seed)
        self.candidates = candidates
        failures += [ProposalFailure(PROPOSER, i, c.rejection) for i, c in enumerate(candidates) if c.rejection]
        tasks = [self._task(c, split, seed) for c in kept]
        stats = tally.as_dict()
        stats["kept"] = float(len(tasks))
        return Proposal(tasks=tasks, failures=failures, stats=stats)

    def _task(self, c: Candidate, split: Split, seed: int) -> Task:
        assert c.check is not None and c.reference is not None
        digest = hashlib.sha1(f"{c.page.start_url}\n{c.draft.intent}\n{c.draft.code}".encode()).hexdigest()[:12]
        return Task(
            id=f"{PROPOSER}-r{self.round}-{digest}",
            intent=c.draft.intent,
            site=c.page.site,
            start_url=c.page.start_url,
            difficulty=difficulty_of(c.reference),
            checks=[c.check],
            reference=c.reference,
            provenance=Provenance(
                proposer=PROPOSER,
                seed=seed,
                split=split,
                extra={
                    "model": self.model.name,
                    "agreement": c.agreement,
                    "independent_checks": c.independent,
                    "episodes": len(c.episodes),
                    "backtranslated": c.backtranslated,
                    "backtranslation": c.backtranslation,
                },
            ),
        )

    def close(self) -> None:
        if self._own_sandbox:
            self.sandbox.close()
