"""The one tree of infrastructure errors.

Two error channels exist in domplay (docs/architecture.md, "Ground rules"): an agent's
mistakes become observations and the episode goes on; broken infrastructure raises one of these.
Catch these types, never message substrings.
"""

from __future__ import annotations


class DomplayError(Exception):
    """Base of every error domplay raises on purpose."""

    exit_code = 1
    """The `domplay` command's exit status when this error ends it (README, "Exit codes")."""


class ConfigError(DomplayError, ValueError):
    """A configuration value is invalid; the message names the field, the value and the fix."""

    exit_code = 3


class ActionError(DomplayError, ValueError):
    """An action string could not be parsed or cannot be executed on the current page.

    Envs catch this and show its message to the agent in the next observation.
    """


class PageError(DomplayError):
    """A page cannot be used by this env (e.g. it needs JavaScript and DomEnv has none)."""

    exit_code = 7


class NavigationError(DomplayError):
    """A request failed: refused by the origin allowlist, timed out, or the server broke."""

    exit_code = 7


class BrowserError(DomplayError):
    """Chromium or Playwright is missing or misbehaving."""

    exit_code = 7


class TaskFileError(DomplayError, ValueError):
    """A task file is malformed; the message names the file, the task and the field."""

    exit_code = 4


class CheckError(DomplayError):
    """A check could not be evaluated (bad spec, crashed code). Verdicts record it as an error."""

    exit_code = 8


class SandboxError(DomplayError):
    """The sandbox refused or failed to run code (AST not allowed, limits hit, worker died)."""

    exit_code = 8


class ModelError(DomplayError):
    """A ChatModel backend failed (missing weights, endpoint unreachable after retries)."""

    exit_code = 5


class StoreError(DomplayError):
    """The run store is unreadable or inconsistent."""

    exit_code = 6


class TemplateError(DomplayError):
    """A task template's plan does not fit the page (a bug in the template or the site)."""
