"""Learning curve: teacher-forced held-out step accuracy against the number of SFT examples.

For each variant (observation format x action form) it replays the reference solutions of
freshly proposed training tasks (train seeds, never held-out ones) with the run's policy and
observation settings, keeps the verified steps as SFT examples exactly as `domplay run` builds
them, and fine-tunes the starting model on a growing prefix of them: the model after `k`
examples continues from the model after the previous size and trains on the next examples
only, so every size costs only its new examples. After each size it measures teacher-forced
step accuracy on a seeded sample of the run's held-out tasks, proposed as its round 0 does
(overall, by action kind, seen-template seeds vs held-out-only templates; an action counts when
it is the reference's or an order-free alternative, see `domplay.agent.teacher`) and prints
tokens per example and seconds of training.

    python bench/learning_curve.py                                  # 0, 256 and 1024 examples, 4 variants
    python bench/learning_curve.py --sizes 256,1024,4096 --variants compact:name,compact:id

Every variant uses the same seed, tasks, training settings and evaluation steps. Last line: JSON
with one row per (variant, size).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import click

from domplay.agent.teacher import spread, step_accuracy
from domplay.config import RunConfig, load_config
from domplay.data.builders import build_sft
from domplay.data.export import export
from domplay.data.records import SftExample
from domplay.hardware import fast_dtype
from domplay.llm.embedded import embedded_model_dir
from domplay.llm.load import load_model
from domplay.sites.app import SitesApp
from domplay.stages import propose_heldout, propose_tasks, reference_replays
from domplay.tasks.model import Task
from domplay.train.sft import train_sft

STEPS_PER_TASK_ESTIMATE = 5
"""Reference steps per training task, rounded down (measured 5.7): how many tasks to propose."""
TRAIN_SEED_OFFSET = 900
"""Proposer seed of the bench's training tasks: train seeds apart from those of a run with seed 0
(proposer seed = round) and below the proposer's limit of 1000."""


def variant_config(base: RunConfig, variant: str) -> RunConfig:
    """The run config with the variant's observation format and action form (`compact:name`, ...)."""
    obs_format, form = variant.split(":")
    observation = base.env.observation.model_copy(
        update={"format": obs_format, "ids": "unnamed" if form == "name" else "all"}
    )
    return base.model_copy(
        update={
            "env": base.env.model_copy(update={"observation": observation}),
            "policy": base.policy.model_copy(update={"action_form": form}),
        }
    )


def reference_examples(config: RunConfig, tasks: list[Task], sites: SitesApp) -> list[SftExample]:
    """Verified SFT examples of the reference replays of `tasks` under `config`, as a run builds them."""
    episodes = reference_replays(config, tasks, sites, policy_name=config.build.reference_policy, show_progress=False)
    return build_sft(episodes, {t.id: t for t in tasks}, config.build)[0]


def mean_tokens(examples: list[SftExample], tokenizer) -> float:
    """Mean tokens of prompt + completion as the chat template renders them (what training pays for)."""
    texts = [
        tokenizer.apply_chat_template([*e.prompt, {"role": "assistant", "content": e.completion}], tokenize=False)
        for e in examples
    ]
    sizes = [len(tokenizer(text, add_special_tokens=False).input_ids) for text in texts]
    return statistics.mean(sizes) if sizes else 0.0


def evaluate(spec: str, config: RunConfig, tasks: list[Task], sites: SitesApp) -> dict:
    model = load_model(spec, dtype=fast_dtype(config.eval.dtype), batch_size=config.rollout.concurrency)
    started = time.perf_counter()
    result, _ = step_accuracy(
        model, tasks, sites, env=config.env, policy=config.policy, rollout=config.rollout, seed=config.seed
    )
    return {**result.as_dict(), "eval_seconds": round(time.perf_counter() - started, 1)}


@click.command()
@click.option("--config", "config_path", default=None, help="a run config (default: the quick preset)")
@click.option(
    "--sizes", default="0,256,1024", show_default=True, help="SFT example counts, ascending (0: the starting model)"
)
@click.option(
    "--variants",
    default="compact:name,compact:id,lines:name,lines:id",
    show_default=True,
    help="observation format:action form, comma-separated",
)
@click.option("--eval-tasks", default=40, show_default=True, help="held-out tasks, taken evenly across the preset")
@click.option(
    "--epochs",
    default=None,
    type=float,
    help="epochs over each size's new examples (default: the config's train.sft.num_epochs)",
)
@click.option("--seed", default=0, show_default=True)
@click.option("--out", default=None, help="keep checkpoints here (default: a temporary folder)")
def main(
    config_path: str | None,
    sizes: str,
    variants: str,
    eval_tasks: int,
    epochs: float | None,
    seed: int,
    out: str | None,
) -> None:
    from transformers import AutoTokenizer

    base = load_config(config_path, preset=None if config_path else "quick")
    counts = sorted(int(s) for s in sizes.split(","))
    sites = SitesApp(seed=base.tasks.site_seed, names=base.tasks.sites)
    train_tasks = propose_tasks(
        base, sites, counts[-1] // STEPS_PER_TASK_ESTIMATE + 20, "train", TRAIN_SEED_OFFSET + seed
    ).tasks
    heldout = [t for t in propose_heldout(base, sites).tasks if t.reference]  # the run's 120 held-out tasks
    heldout = spread(heldout, eval_tasks)
    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    sft = base.train.sft if epochs is None else base.train.sft.model_copy(update={"num_epochs": epochs})
    rows = []
    with tempfile.TemporaryDirectory(prefix="domplay-curve-") as tmp:
        root = Path(out or tmp)
        for variant in variants.split(","):
            config = variant_config(base, variant)
            examples = reference_examples(config, train_tasks, sites)
            random.Random(seed).shuffle(examples)
            if len(examples) < counts[-1]:
                print(f"{variant}: only {len(examples)} examples for sizes {counts}")
            model, done, train_s = config.model, 0, 0.0
            for size in counts:
                chunk = examples[done:size]
                if size > 0 and chunk:
                    data = export(chunk, root / variant / f"data{size}", "sft", formats=("jsonl",), kind="sft")
                    result = train_sft(
                        data.paths["jsonl"],
                        model=model,
                        out_dir=root / variant / f"model{size}",
                        config=sft.model_copy(update={"seed": seed}),
                    )
                    train_s += result.seconds
                    model, done = f"hf:{result.model_dir}", done + len(chunk)
                row = {
                    "variant": variant,
                    "size": done,
                    "tokens_per_example": round(mean_tokens(examples[:done], tokenizer), 1),
                    "train_seconds": round(train_s, 1),
                    **evaluate(model, config, heldout, sites),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(
        f"\n{'variant':14s} {'examples':>8s} {'tok/ex':>7s} {'train s':>8s} {'acc':>6s} {'seen':>6s} "
        f"{'ho-tmpl':>7s}  by kind"
    )
    for r in rows:
        t = r.get("by_template", {})
        kinds = " ".join(f"{k} {v:.0%}" for k, v in r.get("by_kind", {}).items())
        print(
            f"{r['variant']:14s} {r['size']:8d} {r['tokens_per_example']:7.0f} {r['train_seconds']:8.0f} "
            f"{r['accuracy']:6.1%} {t.get('seen', 0):6.1%} {t.get('heldout-template', 0):7.1%}  {kinds}"
        )
    print(
        json.dumps(
            {
                "rows": rows,
                "eval_tasks": len(heldout),
                "eval_steps": rows[0]["steps"] if rows else 0,
                "seed": seed,
                "sft": sft.model_dump(mode="json"),
            }
        )
    )


if __name__ == "__main__":
    main()
