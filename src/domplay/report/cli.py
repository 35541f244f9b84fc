"""`domplay report DIR`: write the run's self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from domplay.errors import DomplayError
from domplay.exits import command_error
from domplay.report.viewer import ViewerConfig

_DEFAULTS = ViewerConfig()


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML file.  [default: RUN_DIR/report.html]",
)
@click.option(
    "--train-episodes",
    "train_episodes_per_round",
    default=_DEFAULTS.train_episodes_per_round,
    show_default=True,
    type=click.IntRange(min=0),
    help="Training episodes sampled per round for the viewer.",
)
@click.option(
    "--eval-episodes",
    "max_eval_episodes_per_round",
    default=_DEFAULTS.max_eval_episodes_per_round,
    show_default=True,
    type=click.IntRange(min=0),
    help="Held-out eval episodes embedded per shown round (first and last round).",
)
@click.option(
    "--obs-chars",
    "observation_chars",
    default=_DEFAULTS.observation_chars,
    show_default=True,
    type=click.IntRange(min=1),
    help="Observations are cut to this many characters.",
)
@click.option("--seed", default=_DEFAULTS.seed, show_default=True, type=int, help="Seed of the training sample.")
def report(
    run_dir: Path,
    out: Path | None,
    train_episodes_per_round: int,
    max_eval_episodes_per_round: int,
    observation_chars: int,
    seed: int,
) -> None:
    """Write a self-contained HTML report of the run in RUN_DIR (charts, yield table, trajectories, config)."""
    from domplay.report.build import build_report

    config = ViewerConfig(
        max_eval_episodes_per_round=max_eval_episodes_per_round,
        train_episodes_per_round=train_episodes_per_round,
        observation_chars=observation_chars,
        seed=seed,
    )
    try:
        path = build_report(run_dir, out=out, config=config)
    except DomplayError as exc:
        raise command_error(exc) from exc
    size_kb = path.stat().st_size / 1024
    click.echo(f"wrote {path} ({size_kb:.0f} KiB); open it in a browser")
