"""What every built-in site is made of: seeded data, per-episode state, routes.

A built-in site is a Starlette app whose content is generated from a seed (so the same
seed gives the same products, threads, customers) and whose mutable state (cart, posts,
edited records) lives in a *namespace*: one per episode, chosen by the `dp_ns` cookie.
Many episodes can therefore run at once against one server without seeing each other.

The state an episode produced is readable as JSON (`Site.state_json(ns)`), which is what
verification reads as the backend half of a Snapshot.
"""

from __future__ import annotations

import inspect
import json
import secrets
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from functools import cached_property
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, ClassVar, Protocol

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NS_COOKIE = "dp_ns"
"""Name of the cookie that selects an episode's state namespace."""

_SHARED_TEMPLATES = Path(__file__).parent / "templates"


class SiteState(Protocol):
    """Mutable per-namespace state of one site."""

    def to_json(self) -> dict[str, Any]:
        """The backend state as plain JSON data (what checks read)."""
        ...


def new_namespace() -> str:
    """A fresh, unguessable namespace id."""
    return secrets.token_hex(8)


def namespace_of(request: Request) -> str:
    """The namespace of the episode that sent `request` (set by `NamespaceMiddleware`)."""
    return request.scope["state"]["dp_ns"]


class NamespaceMiddleware:
    """Pure-ASGI middleware: reads the `dp_ns` cookie, or makes a namespace and sets it.

    Pure ASGI rather than BaseHTTPMiddleware because it runs on every request of every
    step and must stay cheap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if "dp_ns" in state:  # an outer app already chose it
            await self.app(scope, receive, send)
            return
        ns = _cookie_value(scope, NS_COOKIE)
        fresh = ns is None or not _valid_ns(ns)
        if fresh:
            ns = new_namespace()
        state["dp_ns"] = ns

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                cookie = f"{NS_COOKIE}={ns}; Path=/; SameSite=Lax"
                headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if name in jar:
                return jar[name].value
    return None


def _valid_ns(ns: str) -> bool:
    return 0 < len(ns) <= 64 and all(c.isalnum() or c in "-_" for c in ns)


class PageCache:
    """Pure-ASGI cache of GET pages keyed by (path, query, the namespace's state JSON).

    A built-in site's GET page is a function of its URL and the namespace's state (GET
    handlers never change state; `tests/sites/test_page_cache.py` holds them to it), so
    episodes that look at the same page in the same state share one rendering. During
    rollouts most episodes start from fresh state, so most pages hit. Only 200 HTML
    responses are stored; the cache is a bounded LRU.
    """

    def __init__(self, app: ASGIApp, site: Site, max_entries: int) -> None:
        self.app, self.site, self.max_entries = app, site, max_entries
        self._entries: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.max_entries <= 0:
            await self.app(scope, receive, send)
            return
        ns = scope["state"]["dp_ns"]
        state = json.dumps(self.site.state_json(ns), sort_keys=True, separators=(",", ":"))
        key = (scope.get("root_path", ""), scope["path"], scope.get("query_string", b""), state)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if hit is not None:
            status, headers, body = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.misses += 1
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        headers = list(start.get("headers", []))
        html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers)
        if start.get("status") == 200 and html and not any(k == b"set-cookie" for k, v in headers):
            with self._lock:
                self._entries[key] = (200, headers, b"".join(chunks))
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)


class Site(ABC):
    """A built-in site: subclasses generate data from a seed, define state and routes.

    Subclasses set `name` (its URL prefix, e.g. `/shop`) and implement `generate`,
    `new_state` and `routes`. Handlers get their namespace's state with
    `self.state_for(request)` and render pages with `self.render(...)`.
    """

    name: ClassVar[str]
    needs_js: ClassVar[bool] = False
    """True for sites whose pages only work with JavaScript (DomEnv refuses them)."""
    page_cache_entries: ClassVar[int] = 4096
    """Size of the GET page cache (0 turns it off); see `PageCache`."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.data = self.generate(seed)
        self._states: dict[str, SiteState] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def generate(self, seed: int) -> Any:
        """Deterministic content (products, threads, records) for `seed`."""

    @abstractmethod
    def new_state(self) -> SiteState:
        """Fresh mutable state for a new namespace."""

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The site's routes, relative to its mount point `/{name}`."""

    def accounts(self) -> list[tuple[str, str]]:
        """(username, password) of the logins the site's data defines, as its testers have them."""
        return []

    # -- state -------------------------------------------------------------------------
    def state(self, ns: str) -> SiteState:
        """The state of namespace `ns`, created on first use."""
        with self._lock:
            st = self._states.get(ns)
            if st is None:
                st = self._states[ns] = self.new_state()
            return st

    def state_for(self, request: Request) -> Any:
        return self.state(namespace_of(request))

    def state_json(self, ns: str) -> dict[str, Any]:
        """The backend state of namespace `ns` as JSON data (fresh state if never used)."""
        with self._lock:
            st = self._states.get(ns)
        return (st if st is not None else self.new_state()).to_json()

    def drop(self, ns: str) -> None:
        """Forget namespace `ns` (called when an episode is closed)."""
        with self._lock:
            self._states.pop(ns, None)

    # -- rendering ---------------------------------------------------------------------
    @cached_property
    def _jinja(self) -> jinja2.Environment:
        own = Path(inspect.getfile(type(self))).parent / "templates"
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(own), str(_SHARED_TEMPLATES)]),
            autoescape=True,
            auto_reload=False,  # templates are package data; skip a stat() per render
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render `template` (from the site's `templates/` folder or the shared one)."""
        html = self._jinja.get_template(template).render(site=self, root=f"/{self.name}", **context)
        return HTMLResponse(html, status_code=status_code)

    @cached_property
    def app(self) -> ASGIApp:
        """The site as a standalone ASGI app (mounted at `/{name}` by `SitesApp`)."""
        self.page_cache = PageCache(Starlette(routes=self.routes()), self, self.page_cache_entries)
        return NamespaceMiddleware(self.page_cache)
