"""`domplay metrics ...`: review the metric definitions a model wrote (show, accept, edit, reject).

DIR is a run's `RUN/metrics` folder or a user library (`tasks.metrics.library`).
"""

from __future__ import annotations

import click

from domplay.autoif.library import MetricDefinition, MetricLibrary, Status, to_yaml
from domplay.autoif.metrics import Trajectory, read_checks, validate
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.errors import TaskFileError
from domplay.exits import command_error
from domplay.selfplay.replay import run_path
from domplay.sites.app import SitesApp
from domplay.verify.sandbox import Sandbox

DIR = click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))


@click.group("metrics")
def metrics() -> None:
    """Review metric definitions: the queue a run's model filled, the accepted library."""


def _one_line(d: MetricDefinition) -> str:
    kinds = ",".join(c.kind for c in d.checks)
    return f"{d.id}\t{d.site}\t{d.source}\t{kinds}\t{d.intent}"


@metrics.command("queue")
@DIR
@click.option("--library", "status", flag_value="library", help="list the accepted definitions instead")
@click.option("--rejected", "status", flag_value="rejected", help="list the rejected definitions instead")
def list_queue(folder: str, status: str | None) -> None:
    """One line per definition waiting for review: id, site, who wrote it, check kinds, intent."""
    for d in MetricLibrary(folder).items(status or "queue"):  # type: ignore[arg-type]
        click.echo(_one_line(d))


@metrics.command("show")
@DIR
@click.argument("metric_id")
def show(folder: str, metric_id: str) -> None:
    """Print a definition (and where it is: library, queue or rejected) as YAML."""
    status, d = _get(folder, metric_id)
    click.echo(f"# {status}\n{to_yaml(d)}", nl=False)


@metrics.command("accept")
@DIR
@click.argument("metric_id")
def accept(folder: str, metric_id: str) -> None:
    """Move a definition into the library: a task source and a few-shot example from now on."""
    _get(folder, metric_id)
    MetricLibrary(folder).move(metric_id, "library")
    click.echo(f"accepted {metric_id}")


@metrics.command("reject")
@DIR
@click.argument("metric_id")
def reject(folder: str, metric_id: str) -> None:
    """Move a definition to rejected/ (kept for the record, never used)."""
    _get(folder, metric_id)
    MetricLibrary(folder).move(metric_id, "rejected")
    click.echo(f"rejected {metric_id}")


@metrics.command("edit")
@DIR
@click.argument("metric_id")
@click.argument("checks_file", type=click.Path(dir_okay=False, exists=True))
def edit(folder: str, metric_id: str, checks_file: str) -> None:
    """Replace a definition's checks by those in CHECKS_FILE (a YAML list), validated again on its
    trajectory (replayed on the built-in site); it goes back to the queue."""
    status, d = _get(folder, metric_id)
    with open(checks_file, encoding="utf-8") as f:
        checks = read_checks(f.read())
    if isinstance(checks, str):
        raise command_error(TaskFileError(f"{checks_file}: {checks}; write a YAML list of domplay checks"))
    sites = SitesApp(seed=d.site_seed, names=(d.site,))
    with EnvFactory(EnvSettings(), sites) as make, Sandbox(workers=1) as sandbox:
        env = make()
        snapshot = run_path(env, d.start_url, d.actions)
        if snapshot is None:
            raise command_error(TaskFileError(f"the trajectory of {metric_id} no longer replays on {d.site}"))
        t = Trajectory(d.site, d.site_seed, d.intent, d.start_url, tuple(d.actions), snapshot)
        reason = validate(env, sandbox, checks, t)
    if reason is not None:
        raise command_error(TaskFileError(f"the edited checks of {metric_id} are not valid: they {reason}"))
    library = MetricLibrary(folder)
    library.put("queue", d.model_copy(update={"checks": checks, "note": "edited by hand"}))
    if status != "queue":
        library.path(status, metric_id).unlink()
    click.echo(f"edited {metric_id}: valid, back in the queue")


def _get(folder: str, metric_id: str) -> tuple[Status, MetricDefinition]:
    try:
        return MetricLibrary(folder).get(metric_id)
    except TaskFileError as exc:
        raise command_error(exc) from None
