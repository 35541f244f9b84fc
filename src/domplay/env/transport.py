"""A synchronous httpx transport that calls an ASGI app in-process.

httpx's own ASGITransport is async-only; DomEnv is synchronous and wants built-in sites
without a socket, so this runs the app on a private event loop. One transport per thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import httpx
from starlette.types import ASGIApp, Message

_log = logging.getLogger(__name__)


class InProcessTransport(httpx.BaseTransport):
    """Send httpx requests straight to an ASGI app (no sockets, no threads)."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 50000)):
        self.app = app
        self.client = client
        self._loop: asyncio.AbstractEventLoop | None = None  # made on first use, closed by close()
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _run(self, coro) -> None:
        """Run `coro` to completion: inline on the private loop, or on a helper thread's loop
        when this thread already runs an event loop (e.g. after Playwright's sync API started one)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if self._loop is None or self._loop.is_closed():  # first use, or used again after close()
                self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(coro)
            return
        if self._thread_loop is None:
            self._thread_loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._thread_loop.run_forever, name="domplay-asgi", daemon=True)
            self._thread.start()
        asyncio.run_coroutine_threadsafe(coro, self._thread_loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        status, headers, content = self.call(
            request.method,
            url.scheme,
            url.host,
            url.port,
            url.path,
            url.query,
            [(k.lower(), v) for k, v in request.headers.raw],
            request.read(),
        )
        return httpx.Response(status, headers=headers, content=content, request=request)

    def call(
        self,
        method: str,
        scheme: str,
        host: str,
        port: int | None,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One request straight into the app: (status, raw headers, body)."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": scheme,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": self.client,
            "server": (host, port or (443 if scheme == "https" else 80)),
        }
        status = 500
        out_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, out_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            self._run(self.app(scope, receive, send))
        except Exception:  # noqa: BLE001 - a server answers 500 whatever its app raised; so does this one
            _log.warning("the in-process app raised on %s %s; answering 500", method, path, exc_info=True)
            if not out_headers:  # nothing was sent yet
                return 500, [(b"content-type", b"text/plain; charset=utf-8")], b"Internal Server Error"
        return status, out_headers, b"".join(chunks)

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        if self._thread_loop is not None:
            self._thread_loop.call_soon_threadsafe(self._thread_loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            if not self._thread_loop.is_running():
                self._thread_loop.close()
            self._thread_loop = self._thread = None
