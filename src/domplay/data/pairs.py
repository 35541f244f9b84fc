"""Preference pairs in TRL's conversational format (prompt / chosen / rejected).

Kinds (each pair's `kind`, exported as the `pair_kind` column):

- **step**: a successful and a failed episode of one task reach the same state (equal
  `state_key`, hence the same prompt) and act differently: chosen = the success's action.
- **trajectory**: a successful vs a failed episode of one task that start from the same
  prompt, each written as a multi-turn continuation (assistant action, user observation,
  assistant action, ...). TRL's DPOTrainer accepts it (prompt + chosen goes through the chat
  template); note its loss also covers the observation turns inside chosen/rejected.
- **reference** (r_w vs r_ref): the model's action vs the replayed reference solution's
  action at the same state, ranked by their verdicts against the DOM ground truth: the
  better of (success, score, fewer steps) wins, and the winner must be a verified success,
  so the reference wins unless the model's episode succeeded too and did at least as well.
- **spin**: chosen = a verified or reference action, rejected = what the current model
  generates at that state (`spin_pairs`, with a generate callable).

Pairs never mix states: both answers come from steps whose prompts are checked equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domplay.agent.episode import Episode, Message, StepRecord
from domplay.data.config import BuildConfig
from domplay.data.records import PairKind, PreferencePair, SftExample, Source, assistant, outcome, same_state, usable
from domplay.data.select import capped, dedupe, is_heldout, task_of
from domplay.env.actions import format_action, parse_action
from domplay.errors import ActionError, ModelError
from domplay.tasks.model import Task

Generate = Callable[[list[list[Message]]], list[str]]
"""Prompts in, one completion text per prompt out (see `chat_model_generate`)."""


def answer_text(step: StepRecord, config: BuildConfig) -> str:
    """What a step answered: its canonical action, or its raw completion (config or no parse)."""
    if step.action is not None and config.completion_text == "action":
        return step.action
    return step.completion


def _rejected_text(step: StepRecord, config: BuildConfig) -> str | None:
    if step.action is None and not config.pair_unparsed_rejected:
        return None
    return answer_text(step, config)


def _by_task(episodes: Sequence[Episode], tasks: dict[str, Task]) -> dict[str, list[Episode]]:
    """Valid (verdict without error) episodes of training tasks, grouped by task, in id order."""
    groups: dict[str, list[Episode]] = defaultdict(list)
    for ep in sorted(episodes, key=lambda e: e.id):
        if outcome(ep) != "invalid" and not is_heldout(task_of(ep, tasks)):
            groups[ep.task_id].append(ep)
    return groups


def _pair(
    kind: PairKind, task: Task, win: tuple[Episode, StepRecord], lose: tuple[Episode, StepRecord], config: BuildConfig
) -> PreferencePair | None:
    (w_ep, w_step), (l_ep, l_step) = win, lose
    if not usable(w_step):
        return None
    rejected = _rejected_text(l_step, config)
    chosen = answer_text(w_step, config)
    if rejected is None or rejected == chosen or (l_step.action is not None and l_step.action == w_step.action):
        return None
    return PreferencePair(
        kind=kind,
        prompt=same_state(w_step, l_step),
        chosen=assistant(chosen),
        rejected=assistant(rejected),
        source=Source.of(task, w_ep),
        state_key=w_step.state_key,
        step_index=w_step.index,
        chosen_episode_id=w_ep.id,
        rejected_episode_id=l_ep.id,
        chosen_policy=w_ep.policy,
        rejected_policy=l_ep.policy,
        chosen_score=_score(w_ep),
        rejected_score=_score(l_ep),
    )


def _score(ep: Episode) -> float | None:
    return ep.verdict.score if ep.verdict is not None else None


def _order(p: PreferencePair) -> tuple:
    return (
        p.source.task_id,
        p.state_key,
        p.chosen_episode_id or "",
        p.rejected_episode_id or "",
        p.chosen[-1]["content"],
        p.rejected[-1]["content"],
    )


def _finish(pairs: list[PreferencePair], config: BuildConfig, per_state: bool) -> list[PreferencePair]:
    """Dedupe (same state, same answers) and apply the per-state and per-task caps."""
    pairs, _ = dedupe(pairs, _order, lambda p: (p.state_key, repr(p.chosen), repr(p.rejected)))
    caps = [(lambda p: p.source.task_id, config.max_pairs_per_task)]
    if per_state:
        caps.append((lambda p: p.state_key, config.max_pairs_per_state))
    kept, _ = capped(pairs, _order, caps, config.seed)
    return kept


def step_pairs(episodes: Sequence[Episode], tasks: dict[str, Task], config: BuildConfig) -> list[PreferencePair]:
    """Success vs failure of one task at the same state, where their actions differ."""
    out: list[PreferencePair] = []
    for task_id, eps in _by_task(episodes, tasks).items():
        eps = [e for e in eps if e.policy != config.reference_policy]
        at_state: dict[str, list[tuple[Episode, StepRecord]]] = defaultdict(list)
        for ep in eps:
            if outcome(ep) == "success":
                for step in ep.steps:
                    at_state[step.state_key].append((ep, step))
        for ep in eps:
            if outcome(ep) != "failure":
                continue
            for step in ep.steps:
                for win in at_state.get(step.state_key, ()):
                    pair = _pair("step", tasks[task_id], win, (ep, step), config)
                    if pair is not None:
                        out.append(pair)
    return _finish(out, config, per_state=True)


def _rank(ep: Episode) -> tuple[bool, float, int]:
    return (outcome(ep) == "success", _score(ep) or 0.0, -len(ep.steps))


def reference_pairs(episodes: Sequence[Episode], tasks: dict[str, Task], config: BuildConfig) -> list[PreferencePair]:
    """r_w vs r_ref: the model's action vs the reference replay's at the same state, ranked by verdicts."""
    out: list[PreferencePair] = []
    for task_id, eps in _by_task(episodes, tasks).items():
        refs = [e for e in eps if e.policy == config.reference_policy]
        for model_ep in (e for e in eps if e.policy != config.reference_policy):
            for ref in refs:
                if _rank(model_ep) == _rank(ref):
                    continue
                win_ep, lose_ep = (model_ep, ref) if _rank(model_ep) > _rank(ref) else (ref, model_ep)
                if outcome(win_ep) != "success":
                    continue
                win_steps = {s.state_key: s for s in win_ep.steps}
                for step in lose_ep.steps:
                    if step.state_key in win_steps:
                        pair = _pair(
                            "reference", tasks[task_id], (win_ep, win_steps[step.state_key]), (lose_ep, step), config
                        )
                        if pair is not None:
                            out.append(pair)
    return _finish(out, config, per_state=True)


def _conversation(ep: Episode, config: BuildConfig) -> list[Message]:
    """The episode after its first prompt: assistant actions interleaved with the observations that followed."""
    messages: list[Message] = []
    for i, step in enumerate(ep.steps):
        if i > 0:
            messages.append({"role": "user", "content": step.observation})
        messages.append({"role": "assistant", "content": answer_text(step, config)})
    return messages


def trajectory_pairs(episodes: Sequence[Episode], tasks: dict[str, Task], config: BuildConfig) -> list[PreferencePair]:
    """A successful vs a failed episode of one task from the same first prompt, as multi-turn answers."""
    limit = config.max_trajectory_steps
    out: list[PreferencePair] = []
    for task_id, eps in _by_task(episodes, tasks).items():
        eps = [
            e
            for e in eps
            if e.policy != config.reference_policy and e.steps and (limit is None or len(e.steps) <= limit)
        ]
        for win in (e for e in eps if outcome(e) == "success"):
            for lose in (e for e in eps if outcome(e) == "failure"):
                if win.steps[0].state_key != lose.steps[0].state_key:
                    continue
                chosen, rejected = _conversation(win, config), _conversation(lose, config)
                if chosen == rejected:
                    continue
                out.append(
                    PreferencePair(
                        kind="trajectory",
                        prompt=same_state(win.steps[0], lose.steps[0]),
                        chosen=chosen,
                        rejected=rejected,
                        source=Source.of(tasks[task_id], win),
                        state_key=win.steps[0].state_key,
                        step_index=0,
                        chosen_episode_id=win.id,
                        rejected_episode_id=lose.id,
                        chosen_policy=win.policy,
                        rejected_policy=lose.policy,
                        chosen_score=_score(win),
                        rejected_score=_score(lose),
                    )
                )
    return _finish(out, config, per_state=False)


@dataclass(frozen=True)
class SpinStats:
    states: int
    agreements: int
    """States where the model already generated the target action (no pair)."""
    pairs: int


def _canonical(text: str) -> str:
    try:
        return format_action(parse_action(text))
    except ActionError:
        return text.strip()


def spin_pairs(
    examples: Sequence[SftExample], generate: Generate, policy: str, batch_size: int = 16
) -> tuple[list[PreferencePair], SpinStats]:
    """SPIN: chosen = the verified/reference answer, rejected = `generate`'s answer at that state.

    `examples` are the states (SFT examples: verified successes and reference replays);
    `policy` names the model behind `generate`. Generations equal to the target (as canonical
    actions) make no pair. `batch_size` is how many prompts go to one `generate` call.
    """
    states, _ = dedupe(
        examples, lambda e: (e.state_key, e.completion, e.episode_id), lambda e: (e.state_key, e.completion)
    )
    pairs: list[PreferencePair] = []
    agreements = 0
    for start in range(0, len(states), batch_size):
        batch = states[start : start + batch_size]
        texts = generate([list(e.prompt) for e in batch])
        if len(texts) != len(batch):
            raise ModelError(
                f"generate returned {len(texts)} completions for {len(batch)} prompts; it must return one per prompt"
            )
        for ex, text in zip(batch, texts, strict=True):
            if _canonical(text) == _canonical(ex.completion):
                agreements += 1
                continue
            pairs.append(
                PreferencePair(
                    kind="spin",
                    prompt=ex.prompt,
                    chosen=assistant(ex.completion),
                    rejected=assistant(text),
                    source=ex.source,
                    state_key=ex.state_key,
                    step_index=ex.step_index,
                    chosen_episode_id=ex.episode_id,
                    rejected_episode_id=None,
                    chosen_policy=ex.policy,
                    rejected_policy=policy,
                    chosen_score=ex.score,
                    rejected_score=None,
                )
            )
    return pairs, SpinStats(states=len(states), agreements=agreements, pairs=len(pairs))


def chat_model_generate(model, params) -> Generate:
    """A `Generate` from a ChatModel (domplay.llm.base) and GenerationParams: the first completion per prompt."""

    def generate(prompts: list[list[Message]]) -> list[str]:
        return [outs[0].text for outs in model.generate(prompts, params)]

    return generate
