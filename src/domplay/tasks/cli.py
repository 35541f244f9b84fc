"""`domplay tasks ...`: list, show and validate task files."""

from __future__ import annotations

import sys

import click

from domplay.errors import TaskFileError
from domplay.exits import command_error
from domplay.tasks.files import load_tasks, task_to_data, to_yaml
from domplay.tasks.model import Task


@click.group("tasks")
def tasks() -> None:
    """Inspect and validate task files (YAML, JSON or JSONL)."""


def _load(path: str) -> list[Task]:
    try:
        return load_tasks(path)
    except TaskFileError as exc:
        raise command_error(exc) from None


@tasks.command("list")
@click.argument("file", type=click.Path(dir_okay=False))
def list_tasks(file: str) -> None:
    """One line per task: id, site, difficulty, intent."""
    for task in _load(file):
        intent = " ".join(task.intent.split())
        click.echo(f"{task.id}\t{task.site}\t{task.difficulty}\t{intent}")


@tasks.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("task_id")
def show_task(file: str, task_id: str) -> None:
    """Print the task with id TASK_ID as YAML."""
    found = [t for t in _load(file) if t.id == task_id]
    if not found:
        raise click.ClickException(
            f"no task with id {task_id!r} in {file}; run `domplay tasks list {file}` to see the ids"
        )
    click.echo(to_yaml(task_to_data(found[0])), nl=False)


@tasks.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Validate task files; exit 1 and name every problem if any is malformed."""
    total, failed = 0, 0
    for file in files:
        try:
            total += len(load_tasks(file))
        except TaskFileError as exc:
            failed += 1
            click.echo(str(exc), err=True)
    if failed:
        click.echo(f"{failed} of {len(files)} task files are invalid", err=True)
        sys.exit(TaskFileError.exit_code)
    click.echo(f"ok: {total} tasks in {len(files)} file{'s' if len(files) != 1 else ''}")
