"""The `domplay` command line."""

from __future__ import annotations

from pathlib import Path

import click

from domplay import __version__


@click.group()
@click.version_option(__version__, prog_name="domplay")
def main() -> None:
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
@click.option("--model", "model_spec", default="embedded", show_default=True,
              help="embedded | hf:/path | a model dir | openai:MODEL@URL | random")
@click.option("--tasks", "tasks_spec", default="heldout", show_default=True,
              help="A task file (YAML/JSONL) or a preset: heldout, heldout-full, train, smoke.")
@click.option("--env", "env_kind", type=click.Choice(["dom", "browser"]), default="dom", show_default=True)
@click.option("--samples", default=1, show_default=True, type=int, help="Episodes per task.")
@click.option("--plan", is_flag=True, help="Plan mode: propose, score and follow plans.")
@click.option("--max-steps", default=12, show_default=True, type=int)
@click.option("--batch", "concurrency", default=8, show_default=True, type=int, help="Episodes in flight.")
@click.option("--temperature", default=0.0, show_default=True, type=float)
@click.option("--obs-tokens", default=512, show_default=True, type=int, help="Observation token budget.")
@click.option("--no-constrain", is_flag=True, help="Turn off constrained action decoding.")
@click.option("--site-seed", default=0, show_default=True, type=int)
@click.option("--limit", default=None, type=int, help="Only the first N tasks.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Also write the report as JSON here.")
@click.option("--demos", "demos_path", type=click.Path(exists=True, dir_okay=False),
              help="Few-shot: a demo pool (a run's round<N>/data/demos.json).")
@click.option("--shots", default=2, show_default=True, type=int, help="Demos per prompt with --demos.")
@click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto", show_default=True,
              help="A local model's dtype; auto = bfloat16 where the hardware computes it (GPU, AMX CPU).")
def eval_command(model_spec, tasks_spec, env_kind, samples, plan, max_steps, concurrency, temperature,
                 obs_tokens, no_constrain, site_seed, limit, json_out, demos_path, shots, dtype) -> None:
    """Evaluate a model on a task set; print success by site, difficulty and template."""
    from domplay.agent.evaluate import run_eval

    report = run_eval(model_spec=model_spec, tasks_spec=tasks_spec, env_kind=env_kind, samples=samples,
                      plan=plan, max_steps=max_steps, concurrency=concurrency, temperature=temperature,
                      obs_tokens=obs_tokens, constrained=not no_constrain, site_seed=site_seed, limit=limit,
                      demos_path=demos_path, shots=shots, dtype=dtype)
    click.echo(report.table())
    if json_out:
        Path(json_out).write_text(report.to_json() + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")


@main.command("run")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Run config (YAML).")
@click.option("--preset", type=click.Choice(["quick", "full"]), default=None,
              help="Sizes: quick (2-core CPU, default) or full (GPU machine).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run directory (default runs/<preset>).")
@click.option("--resume", "resume_dir", type=click.Path(exists=True, file_okay=False),
              help="Continue the run in this directory where it stopped.")
@click.option("--model", default=None, help="Starting model (overrides the config).")
@click.option("--rounds", default=None, type=int, help="Improvement rounds after round 0.")
def run_command(config_path, preset, out_dir, resume_dir, model, rounds) -> None:
    """Run the self-improvement loop: evaluate, propose, act, verify, train, repeat."""
    from domplay.config import load_config
    from domplay.loop import Run

    if resume_dir is not None:
        if config_path or preset or out_dir or model or rounds is not None:
            raise click.UsageError("--resume takes the run's own config; give no other options")
        run = Run.resume(resume_dir, echo=click.echo)
    else:
        overrides: dict = {}
        if model is not None:
            overrides["model"] = model
        if rounds is not None:
            overrides["stop"] = {"rounds": rounds}
        config = load_config(config_path, preset, overrides)
        run = Run(out_dir or f"runs/{config.preset}", config, echo=click.echo)
    summaries = run.execute()
    click.echo(f"run directory: {run.dir}  (report: domplay report {run.dir})")
    if summaries:
        first, last = summaries[0], summaries[-1]
        click.echo(f"held-out success: round 0 {first.heldout_success:.1%} -> round {last.round} "
                   f"{last.heldout_success:.1%}")


def _register() -> None:
    from domplay.report.cli import report
    from domplay.tasks.cli import tasks
    from domplay.train.cli import train

    main.add_command(tasks)
    main.add_command(train)
    main.add_command(report)


_register()

if __name__ == "__main__":
    main()
