"""Helpers for the browser tests: serve any ASGI app on 127.0.0.1, skip without Chromium."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from domplay.env.browser_pool import DEFAULT_CHROMIUM
from domplay.sites.server import SiteServer

needs_chromium = pytest.mark.skipif(
    not os.path.exists(DEFAULT_CHROMIUM), reason=f"Chromium not installed at {DEFAULT_CHROMIUM}"
)


def serve(app) -> SiteServer:
    """A started SiteServer for a plain ASGI app (stop it when done)."""
    return SiteServer(SimpleNamespace(asgi=app)).start()  # type: ignore[arg-type]
