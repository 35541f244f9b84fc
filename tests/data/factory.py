"""Hand-made tasks and episodes for the data tests.

A toy world: the state after a sequence of actions is determined by the task and the
actions so far, so two episodes that took the same first actions reach the same state
(the same prompt, hence the same state_key), exactly as real rollouts do.
"""

from __future__ import annotations

from domplay.agent.episode import Episode, StepRecord, state_key
from domplay.env.actions import format_action, parse_action
from domplay.tasks.model import Provenance, Task
from domplay.verify.base import CheckResult
from domplay.verify.verdict import Verdict

SYSTEM = {"role": "system", "content": "You are a web agent. Answer with one action."}


def make_task(
    task_id: str, template: str | None = "buy", split: str = "train", seed: int | None = 1, intent: str | None = None
) -> Task:
    return Task(
        id=task_id,
        intent=intent or f"buy the item for {task_id}",
        site="shop",
        start_url="/shop/",
        difficulty="easy",
        checks=[{"kind": "url", "expected": "/shop/orders"}],
        provenance=Provenance(proposer="template", template=template, seed=seed, split=split),
    )


def observation(task_id: str, history: list[str]) -> str:
    return f"URL /shop/ page for {task_id} after {len(history)} actions: {' | '.join(history) or 'start'}"


def prompt_at(task_id: str, history: list[str]) -> list[dict[str, str]]:
    return [SYSTEM, {"role": "user", "content": f"Task {task_id}\nHistory: {history}\n{observation(task_id, history)}"}]


def make_episode(
    task_id: str,
    completions: list[str],
    success: bool | None,
    policy: str = "m0",
    sample: int = 0,
    round: int = 0,
    score: float | None = None,
    errors: dict[int, str] | None = None,
    error_verdict: bool = False,
) -> Episode:
    """An episode of `completions`; a completion without "(" does not parse (action None).

    `success=None` gives no verdict; `errors` maps step index -> the action's error.
    """
    errors = errors or {}
    history: list[str] = []
    steps = []
    for i, text in enumerate(completions):
        action = format_action(parse_action(text)) if "(" in text else None
        prompt = prompt_at(task_id, history)
        steps.append(
            StepRecord(
                index=i,
                url="http://127.0.0.1/shop/",
                observation=observation(task_id, history),
                prompt=prompt,
                completion=text,
                action=action,
                error=errors.get(i) if action is not None else "cannot parse",
                state_key=state_key(prompt),
            )
        )
        history.append(text)
    verdict = None
    if success is not None:
        s = score if score is not None else (1.0 if success else 0.0)
        verdict = Verdict(
            success=success and not error_verdict,
            score=s,
            results=(
                CheckResult(kind="url", score=s, passed=success, reason="toy", error="boom" if error_verdict else None),
            ),
            error="check #0 (url): boom" if error_verdict else None,
        )
    return Episode(
        id=Episode.make_id(task_id, policy, round, sample),
        task_id=task_id,
        policy=policy,
        round=round,
        sample=sample,
        steps=steps,
        verdict=verdict,
    )


def by_id(*tasks: Task) -> dict[str, Task]:
    return {t.id: t for t in tasks}


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def tiny_tokenizer():
    """A word-level tokenizer with a chat template, built locally (no downloads)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "</s>": 1, "<|system|>": 2, "<|user|>": 3, "<|assistant|>": 4}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="</s>", pad_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    return fast
