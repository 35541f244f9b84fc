"""All built-in sites behind one ASGI app: `/shop`, `/forum`, `/admin`, `/widgets`.

The app also serves `/_domplay/state/{site}?ns=...` (the backend state of a namespace as
JSON), protected by a token so that an agent in a browser cannot read its own answers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from functools import cached_property

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route

from domplay.sites import BUILTIN_SITES, make_site
from domplay.sites.base import NamespaceMiddleware, Site

STATE_TOKEN_HEADER = "x-domplay-token"


class SitesApp:
    """The built-in sites for one seed, mounted side by side in one ASGI app."""

    def __init__(self, seed: int = 0, names: Iterable[str] | None = None, token: str | None = None):
        self.seed = seed
        self.sites: dict[str, Site] = {n: make_site(n, seed) for n in (names or BUILTIN_SITES)}
        self.token = token if token is not None else secrets.token_hex(16)

    def state_json(self, ns: str) -> dict[str, dict]:
        """Backend state of namespace `ns` for every site, keyed by site name."""
        return {name: site.state_json(ns) for name, site in self.sites.items()}

    def drop(self, ns: str) -> None:
        """Forget namespace `ns` on every site."""
        for site in self.sites.values():
            site.drop(ns)

    @cached_property
    def asgi(self) -> NamespaceMiddleware:
        routes: list[BaseRoute] = [
            Route("/", self._index),
            Route("/_domplay/health", lambda r: PlainTextResponse("ok")),
            Route("/_domplay/state", self._state),
        ]
        routes += [Mount(f"/{name}", app=site.app, name=name) for name, site in self.sites.items()]
        return NamespaceMiddleware(Starlette(routes=routes))

    async def _index(self, request: Request) -> HTMLResponse:
        links = "".join(f'<li><a href="/{n}/">{n}</a></li>' for n in self.sites)
        return HTMLResponse(
            f"<!doctype html><html><head><title>domplay sites</title></head>"
            f"<body><h1>domplay sites</h1><ul>{links}</ul></body></html>"
        )

    async def _state(self, request: Request) -> JSONResponse:
        if not secrets.compare_digest(request.headers.get(STATE_TOKEN_HEADER, ""), self.token):
            return JSONResponse({"error": "missing or wrong state token"}, status_code=403)
        ns = request.query_params.get("ns")
        if ns is None:
            return JSONResponse({"error": "query parameter ns is required"}, status_code=400)
        return JSONResponse(self.state_json(ns))
