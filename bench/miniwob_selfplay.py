"""Self-play on MiniWoB++ with no oracle: rejection sampling of the model's own episodes, SFT on them.

MiniWoB++ tasks have no reference solutions, so every training example is a step of an episode the
model itself played and MiniWoB++'s reward verified (raw reward >= env.miniwob.success_threshold).
This bench is a `domplay run` (`loop.Run`) with the config `selfplay_config` builds: training tasks
from the `miniwob` source on training seeds, held-out tasks on held-out seeds, the browser env, the
model's rollouts from round 1 (`rollout.samples_per_task` samples at `rollout.temperature`),
SFT on the verified successes (with the replay buffer of earlier rounds), then the held-out eval.
It prints, per MiniWoB++ task, held-out success zero-shot (round 0) and after every round, the
self-generated episodes each round used and the wall time; the last line is JSON.

    python bench/miniwob_selfplay.py --out /tmp/mw --rounds 4 --heldout-seeds 5
    python bench/miniwob_selfplay.py --out /tmp/mw --resume          # continue an interrupted run

The same run as a command: `domplay run --config RUN/config.yaml` with the config this writes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from domplay.config import RunConfig, load_config
from domplay.heldout import heldout_eval
from domplay.loop import Run
from domplay.rundir import policy_name
from domplay.tasks.miniwob import DEFAULT_TASKS


def selfplay_config(
    names: tuple[str, ...],
    heldout_seeds: int,
    train_tasks: int,
    samples: int,
    rounds: int,
    budget_min: float,
    seed: int,
    temperature: float,
    max_steps: int,
) -> RunConfig:
    """The run config of MiniWoB++ self-play (the quick preset's training, MiniWoB++ tasks only)."""
    return load_config(
        preset="quick",
        overrides={
            "model": "embedded",
            "seed": seed,
            "tasks": {
                "sources": {"miniwob": 1.0},
                "heldout_source": "miniwob",
                "heldout_tasks": len(names) * heldout_seeds,
                "train_tasks_per_round": train_tasks,
                "miniwob": {"names": list(names)},
            },
            "env": {"kind": "browser", "max_steps": max_steps},
            "rollout": {
                "samples_per_task": samples,
                "temperature": temperature,
                "first_model_round": 1,
                "replay_reference": False,
            },
            "stop": {"rounds": rounds, "time_budget_min": budget_min},
        },
    )


def figures(run: Run) -> dict:
    """Per task and round: held-out success; per round: self-generated training episodes and minutes."""
    store = run.store
    heldout = store.tasks(split="heldout")
    rounds = []
    for r in range((store.last_round() or 0) + 1):
        result = heldout_eval(store, r, heldout)
        if result is None:
            break
        train_ids = {t.id for t in store.tasks(split="train", round=r)}
        played = [e for e in store.episodes(round=r) if e.task_id in train_ids]
        seconds = sum(m.value for m in store.metrics(round=r) if m.name == "seconds")
        rounds.append(
            {
                "round": r,
                "policy": policy_name(r),
                "heldout_success": result.success_rate,
                "by_task": result.by.get("template", {}),
                "train_episodes": len(played),
                "train_successes": sum(1 for e in played if e.success),
                "eval_episodes": result.episodes,
                "minutes": round(seconds / 60, 2),
            }
        )
    return {"rounds": rounds}


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="The run directory.")
@click.option("--resume", is_flag=True, help="Continue the run in --out.")
@click.option("--tasks", "names", default=",".join(DEFAULT_TASKS), show_default=True, help="MiniWoB++ tasks.")
@click.option("--heldout-seeds", default=5, show_default=True, help="Held-out seeds per task.")
@click.option("--train-tasks", default=40, show_default=True, help="Training (task, seed) pairs per round.")
@click.option("--samples", default=4, show_default=True, help="rollout.samples_per_task: samples per training task.")
@click.option("--temperature", default=1.0, show_default=True, help="rollout.temperature of the samples.")
@click.option("--rounds", default=4, show_default=True, help="Self-play rounds after the zero-shot eval.")
@click.option("--budget-min", default=110.0, show_default=True, help="stop.time_budget_min.")
@click.option("--max-steps", default=6, show_default=True, help="env.max_steps.")
@click.option("--seed", default=0, show_default=True)
def main(
    out_dir, resume, names, heldout_seeds, train_tasks, samples, temperature, rounds, budget_min, max_steps, seed
) -> None:
    started = time.perf_counter()
    if resume:
        run = Run.resume(out_dir)
    else:
        chosen = tuple(n.strip() for n in names.split(",") if n.strip())
        config = selfplay_config(
            chosen, heldout_seeds, train_tasks, samples, rounds, budget_min, seed, temperature, max_steps
        )
        run = Run(Path(out_dir), config)
    run.execute()
    result = figures(run)
    tasks = sorted({t for row in result["rounds"] for t in row["by_task"]})
    print(f"{'task':<24}" + "".join(f"{'r' + str(row['round']):>7}" for row in result["rounds"]))
    for task in tasks:
        print(f"{task:<24}" + "".join(f"{row['by_task'].get(task, 0.0):>7.0%}" for row in result["rounds"]))
    for row in result["rounds"]:
        print(
            f"round {row['round']}: held-out {row['heldout_success']:.1%} ({row['eval_episodes']} episodes), "
            f"training episodes {row['train_episodes']} ({row['train_successes']} verified successes), "
            f"{row['minutes']:.1f} min"
        )
    result["train_episodes_total"] = sum(row["train_episodes"] for row in result["rounds"])
    result["wall_minutes"] = round((time.perf_counter() - started) / 60, 2)
    result["zero_shot"] = result["rounds"][0]["heldout_success"] if result["rounds"] else None
    result["final"] = result["rounds"][-1]["heldout_success"] if result["rounds"] else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
