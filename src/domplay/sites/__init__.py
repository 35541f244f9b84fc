"""Built-in sites: `shop`, `forum`, `admin` (plain HTML) and `widgets` (needs JavaScript)."""

from __future__ import annotations

import importlib

from domplay.errors import ConfigError
from domplay.sites.base import Site

BUILTIN_SITES: dict[str, str] = {
    "shop": "domplay.sites.shop:ShopSite",
    "forum": "domplay.sites.forum:ForumSite",
    "admin": "domplay.sites.admin:AdminSite",
    "widgets": "domplay.sites.widgets:WidgetsSite",
}


def site_class(name: str) -> type[Site]:
    """The class of built-in site `name`."""
    try:
        target = BUILTIN_SITES[name]
    except KeyError:
        raise ConfigError(f"unknown site {name!r}; built-in sites are {sorted(BUILTIN_SITES)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def make_site(name: str, seed: int = 0) -> Site:
    """A fresh instance of built-in site `name` with content from `seed`."""
    return site_class(name)(seed)
