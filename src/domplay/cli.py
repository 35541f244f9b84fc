"""The `domplay` command line.

A user's mistake (a bad config, a missing file, an unreachable model) ends a command with one
`Error:` line and the exit status of its error type (`DomplayError.exit_code`); `--debug` or
DOMPLAY_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click
from pydantic import ValidationError

from domplay import __version__
from domplay.errors import DomplayError
from domplay.exits import command_error

if TYPE_CHECKING:
    from domplay.agent.episode import Episode

DEBUG_ENV = "DOMPLAY_DEBUG"


class DomplayGroup(click.Group):
    """A click group whose commands end with one `Error:` line, not a traceback, on a domplay error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DomplayError, ValidationError, OSError) as exc:
            if ctx.params.get("debug"):
                raise
            raise command_error(exc) from None


@click.group(cls=DomplayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="domplay")
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_ENV,
    help=f"Show the Python traceback of an error (or set {DEBUG_ENV}=1).",
)
def main(debug: bool) -> None:
    """domplay: self-improving LLM web agents, verified against the DOM."""


@main.group()
def sites() -> None:
    """The built-in sites (shop, forum, admin, widgets)."""


@sites.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the generated content.")
def sites_serve(host: str, port: int, seed: int) -> None:
    """Serve all built-in sites on HOST:PORT until interrupted."""
    from domplay.sites.server import serve_forever

    serve_forever(seed=seed, host=host, port=port)


@sites.command("list")
def sites_list() -> None:
    """List the built-in sites."""
    from domplay.sites import BUILTIN_SITES, site_class

    for name in BUILTIN_SITES:
        cls = site_class(name)
        first = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        click.echo(f"/{name}/  {'(needs JavaScript) ' if cls.needs_js else ''}{first}")


@main.command("eval")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="A run config (e.g. RUN/config.yaml): evaluate exactly as that run's evals do.",
)
@click.option(
    "--preset",
    type=click.Choice(["quick", "full", "selfplay"]),
    default=None,
    help="Settings of a run preset when no --config is given (default quick).",
)
@click.option(
    "--model",
    "model_spec",
    default=None,
    help="embedded | hf:/path | a model dir | openai:MODEL@URL | random [default: the config's model]",
)
@click.option(
    "--tasks",
    "tasks_spec",
    default=None,
    help="A task file (YAML/JSONL), a preset (heldout, heldout-full, train, smoke) or MiniWoB++ tasks on "
    "held-out seeds (miniwob:click-button,enter-text or miniwob:all, with --env browser) "
    "[default: the config's held-out tasks, proposed as its round 0 does].",
)
@click.option("--env", "env_kind", type=click.Choice(["dom", "browser"]), default=None, help="env.kind")
@click.option("--samples", default=None, type=int, help="eval.samples_per_task: episodes per task.")
@click.option("--plan", is_flag=True, help="Plan mode: propose, score and follow plans.")
@click.option("--max-steps", default=None, type=int, help="env.max_steps")
@click.option("--batch", "concurrency", default=None, type=int, help="rollout.concurrency: episodes in flight.")
@click.option("--temperature", default=None, type=float, help="policy.temperature")
@click.option("--obs-tokens", default=None, type=int, help="env.observation.max_tokens")
@click.option("--no-constrain", is_flag=True, help="policy.constrained: false (no constrained decoding).")
@click.option("--site-seed", default=None, type=int, help="tasks.site_seed")
@click.option("--limit", default=None, type=int, help="Only the first N tasks.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Also write the report as JSON here.")
@click.option(
    "--episodes",
    "episodes_out",
    type=click.Path(dir_okay=False),
    help="Also write every episode (steps, prompts, actions, verdict) here, one JSON object a line.",
)
@click.option(
    "--demos",
    "demos_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Few-shot: a demo pool (a run's round<N>/data/demos.json).",
)
@click.option("--shots", default=None, type=int, help="policy.demos: demos per prompt with --demos [default 2].")
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16"]),
    default=None,
    help="eval.dtype: a local model's dtype; auto = bfloat16 where the hardware computes it.",
)
def eval_command(
    config_path,
    preset,
    model_spec,
    tasks_spec,
    env_kind,
    samples,
    plan,
    max_steps,
    concurrency,
    temperature,
    obs_tokens,
    no_constrain,
    site_seed,
    limit,
    json_out,
    episodes_out,
    demos_path,
    shots,
    dtype,
) -> None:
    """Evaluate a model on a task set; print success by site, difficulty and template.

    Every setting comes from the run config (--config, else the preset) with the options on
    top, so `domplay eval --config RUN/config.yaml` runs the episodes of that run's round-0 eval."""
    from domplay.config import load_config
    from domplay.stages import evaluate_config

    overrides = _eval_overrides(
        model_spec,
        env_kind,
        samples,
        max_steps,
        concurrency,
        temperature,
        obs_tokens,
        no_constrain,
        site_seed,
        dtype,
        shots if shots is not None else (2 if demos_path is not None else None),
    )
    config = load_config(config_path, preset, overrides)
    with ExitStack() as stack:
        sink = stack.enter_context(Path(episodes_out).open("w", encoding="utf-8")) if episodes_out else None
        report = evaluate_config(
            config,
            tasks_spec=tasks_spec,
            limit=limit,
            demos_path=demos_path,
            plan=plan,
            on_episode=_episode_writer(sink) if sink is not None else None,
        )
    click.echo(report.table())
    if episodes_out:
        click.echo(f"wrote {episodes_out}")
    if json_out:
        Path(json_out).write_text(report.to_json() + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")


def _episode_writer(sink: TextIO) -> Callable[[Episode], None]:
    """Writes each episode to `sink` as one JSON line, as it finishes."""

    def write(episode: Episode) -> None:
        sink.write(episode.model_dump_json() + "\n")

    return write


def _eval_overrides(
    model, env_kind, samples, max_steps, concurrency, temperature, obs_tokens, no_constrain, site_seed, dtype, shots
) -> dict:
    """The run-config fields `domplay eval`'s options set (None: not given)."""
    given = {
        ("model",): model,
        ("env", "kind"): env_kind,
        ("eval", "samples_per_task"): samples,
        ("env", "max_steps"): max_steps,
        ("rollout", "concurrency"): concurrency,
        ("policy", "temperature"): temperature,
        ("env", "observation", "max_tokens"): obs_tokens,
        ("policy", "constrained"): False if no_constrain else None,
        ("tasks", "site_seed"): site_seed,
        ("eval", "dtype"): dtype,
        ("policy", "demos"): shots,
    }
    out: dict = {}
    for path, value in given.items():
        if value is None:
            continue
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


@main.command("run")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Run config (YAML).")
@click.option(
    "--preset",
    type=click.Choice(["quick", "full", "selfplay"]),
    default=None,
    help="quick (2-core CPU, default), full (GPU machine) or selfplay (quick's sizes, no oracle: "
    "training tasks from exploration, hindsight and the curriculum only).",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Run directory (default runs/<preset>)."
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Continue the run in this directory where it stopped.",
)
@click.option("--model", default=None, help="Starting model (overrides the config).")
@click.option("--rounds", default=None, type=int, help="Improvement rounds after round 0.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Delete the run already in --out and start afresh (without it, --out over a run with another config "
    "is refused).",
)
def run_command(config_path, preset, out_dir, resume_dir, model, rounds, overwrite) -> None:
    """Run the self-improvement loop: evaluate, propose, act, verify, train, repeat."""
    from domplay.config import load_config
    from domplay.loop import Run

    if resume_dir is not None:
        if config_path or preset or out_dir or model or rounds is not None or overwrite:
            raise click.UsageError("--resume takes the run's own config; give no other options")
        run = Run.resume(resume_dir, echo=click.echo)
    else:
        overrides: dict = {}
        if model is not None:
            overrides["model"] = model
        if rounds is not None:
            overrides["stop"] = {"rounds": rounds}
        config = load_config(config_path, preset, overrides)
        run = Run(out_dir or f"runs/{config.preset}", config, echo=click.echo, overwrite=overwrite)
    summaries = run.execute()
    click.echo(f"run directory: {run.dir}  (report: domplay report {run.dir})")
    if summaries:
        first, last = summaries[0], summaries[-1]
        click.echo(
            f"held-out success: round 0 {first.heldout_success:.1%} -> round {last.round} {last.heldout_success:.1%}"
        )


def _register() -> None:
    from domplay.autoif.cli import metrics
    from domplay.report.cli import report
    from domplay.tasks.cli import tasks
    from domplay.train.cli import train

    main.add_command(tasks)
    main.add_command(train)
    main.add_command(report)
    main.add_command(metrics)


_register()

if __name__ == "__main__":
    main()
