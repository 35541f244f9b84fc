"""Constrained action decoding on the embedded model: valid-action rate and speed.

Prints, for a few realistic agent prompts, the share of sampled completions that parse
as an action with an id on the page, with and without the constraint, and generated
tokens per second; then decode tokens/s at batch 1 vs batch 8.

    PYTHONPATH=src python bench/llm_speed.py [--samples 8] [--cpu-threads 1]
"""

from __future__ import annotations

import time

import click

from domplay.env.actions import parse_action
from domplay.errors import ActionError
from domplay.llm import Constraint, GenerationParams
from domplay.llm.embedded import load_embedded

SYSTEM = (
    "You are a web agent. Reply with exactly one action and nothing else. Actions:\n"
    'click(id)\nfill(id, "text")\nselect(id, "option")\npress(id, "Enter")\nscroll("down")\n'
    'goto("url")\nback()\nanswer("text")\nstop()'
)
PAGES = [
    (
        'Task: search the shop for a blue shirt.\nPage: Shop\n[3] link "Home"\n[7] textbox "Search"\n'
        '[8] button "Search"\n[12] link "Cart (0)"',
        Constraint(targets=[3, 7, 8, 12]),
    ),
    (
        'Task: choose size M and add the shirt to the cart.\nPage: Blue shirt\n[4] link "Home"\n'
        '[15] select "Size" options: S, M, L\n[16] button "Add to cart"\nStaticText "$19.99"',
        Constraint(targets=[4, 15, 16], select_options={15: ["S", "M", "L"]}),
    ),
    (
        'Task: what is the price of the blue shirt?\nPage: Blue shirt\n[4] link "Home"\n'
        'StaticText "Blue shirt"\nStaticText "Price: $19.99"\n[16] button "Add to cart"',
        Constraint(targets=[4, 16]),
    ),
]


def _valid(text: str, constraint: Constraint) -> bool:
    try:
        action = parse_action(text)
    except ActionError:
        return False
    return (action.target, action.nth) in constraint.targets if hasattr(action, "target") else True


def _run(model, prompts, params, constraints):
    started = time.perf_counter()
    out = model.generate(prompts, params, constraints)
    seconds = time.perf_counter() - started
    tokens = sum(c.completion_tokens for group in out for c in group)
    return out, tokens, seconds


@click.command()
@click.option("--samples", default=8, show_default=True, help="samples per prompt")
@click.option("--max-new-tokens", default=24, show_default=True)
@click.option("--cpu-threads", default=None, type=int, help="torch CPU threads (default: torch's)")
def main(samples: int, max_new_tokens: int, cpu_threads: int | None) -> None:
    model = load_embedded(cpu_threads=cpu_threads)
    model.generate([[{"role": "user", "content": "warm up"}]], GenerationParams(max_new_tokens=2))
    prompts = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": page}] for page, _ in PAGES]
    constraints = [c for _, c in PAGES]
    print(f"device={model.device} prompts={len(prompts)} samples/prompt={samples} max_new_tokens={max_new_tokens}")
    for temperature in (0.0, 1.0):
        n = samples if temperature > 0 else 1  # greedy samples are copies: count the work once
        params = GenerationParams(temperature=temperature, n=n, max_new_tokens=max_new_tokens, seed=0)
        for label, cons in (("free", None), ("constrained", constraints)):
            out, tokens, seconds = _run(model, prompts, params, cons)
            valid = sum(_valid(c.text, k) for group, k in zip(out, constraints, strict=True) for c in group)
            total = sum(len(group) for group in out)
            print(
                f"T={temperature:.1f} {label:12s} valid={valid}/{total} ({valid / total:.0%}) "
                f"tokens={tokens} in {seconds:.1f}s = {tokens / seconds:.1f} tok/s  e.g. {out[0][0].text[:40]!r}"
            )
    decode = GenerationParams(max_new_tokens=max_new_tokens)
    stories = [
        [{"role": "user", "content": f"Write a long story about {topic}."}]
        for topic in ("the sea", "a cat", "a city", "the moon", "a robot", "a forest", "a ship", "a baker")
    ]
    for batch in (1, 8):
        batch_prompts = stories[:batch]
        _, tokens, seconds = _run(model, batch_prompts, decode, None)
        print(
            f"batch={batch} greedy decode (useful tokens, prefill included): "
            f"{tokens} tokens in {seconds:.2f}s = {tokens / seconds:.1f} tok/s"
        )


if __name__ == "__main__":
    main()
