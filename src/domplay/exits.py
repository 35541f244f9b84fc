"""How a `domplay` command ends on an error: one `Error:` line and the exit status of the error's type.

| status | error |
|---|---|
| 1 | any other domplay error |
| 2 | a command-line usage error (click's) |
| 3 | `ConfigError`, or a backend's invalid options |
| 4 | `TaskFileError` |
| 5 | `ModelError` |
| 6 | `StoreError` |
| 7 | `PageError`, `NavigationError`, `BrowserError` |
| 8 | `CheckError`, `SandboxError` |
| 9 | a file that cannot be read or written (`OSError`) |
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from domplay.errors import ConfigError, DomplayError

OS_ERROR_EXIT_CODE = 9
"""Exit status when a file cannot be read or written (missing, permissions, disk full)."""


class CommandError(click.ClickException):
    """One `Error:` line and a distinct exit status for an error that ends a command."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click's ClassVar; click reads it per instance


def command_error(exc: DomplayError | ValidationError | OSError) -> CommandError:
    """The `Error:` line and exit status for `exc`."""
    if isinstance(exc, DomplayError):
        return CommandError(str(exc), exc.exit_code)
    if isinstance(exc, ValidationError):  # a backend's options are plain pydantic models
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return CommandError(f"invalid {exc.title} option {where}: {first['msg']}", ConfigError.exit_code)
    where = f": {exc.filename}" if exc.filename is not None else ""
    return CommandError(f"{exc.strerror or exc}{where}", OS_ERROR_EXIT_CODE)
