"""Task templates of the built-in sites (see `base.Template`)."""

from __future__ import annotations

import importlib

from domplay.tasks.templates.base import Draft, Step, Template

TEMPLATE_MODULES: tuple[str, ...] = (
    "domplay.tasks.templates.shop",
    "domplay.tasks.templates.forum",
    "domplay.tasks.templates.admin",
    "domplay.tasks.templates.widgets",
)


def all_templates() -> list[Template]:
    """One instance of every template, in a stable order."""
    out: list[Template] = []
    for module in TEMPLATE_MODULES:
        out.extend(cls() for cls in importlib.import_module(module).TEMPLATES)
    return out


__all__ = ["Draft", "Step", "Template", "all_templates"]
