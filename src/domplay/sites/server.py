"""Serve the built-in sites on 127.0.0.1 with uvicorn, in the foreground or a thread."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from domplay.errors import NavigationError
from domplay.sites.app import SitesApp


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SiteServer:
    """The built-in sites served by uvicorn in a background thread.

    >>> with SiteServer(SitesApp(seed=0)) as server:   # doctest: +SKIP
    ...     print(server.base_url)
    http://127.0.0.1:41234
    """

    def __init__(self, sites: SitesApp, host: str = "127.0.0.1", port: int = 0, start_timeout_s: float = 10.0):
        self.sites = sites
        self.host = host
        self.port = port or free_port(host)
        self.start_timeout_s = start_timeout_s
        config = uvicorn.Config(
            sites.asgi, host=host, port=self.port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self._server.run, name="domplay-sites", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise NavigationError(f"site server did not start on {self.base_url} within {self.start_timeout_s} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self.start_timeout_s)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(seed: int = 0, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve all built-in sites in the foreground (`domplay sites serve`)."""
    sites = SitesApp(seed=seed)
    print(f"domplay sites (seed {seed}) on http://{host}:{port}/ : " + ", ".join(f"/{n}/" for n in sites.sites))
    print(f"state token: {sites.token}")
    uvicorn.run(sites.asgi, host=host, port=port, log_level="warning", lifespan="off")
