"""Shared fixtures: one embedded model per session, cassette replay, a real local server."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

CASSETTES = Path(__file__).parent / "cassettes"
SERVER_START_SECONDS = 10.0
POLL_SECONDS = 0.01


TEST_CPU_THREADS = 1  # torch's thread barriers stall when other processes share the cores


@pytest.fixture(scope="session")
def embedded_model():
    """The embedded SmolLM2 model, converted into the default cache once per machine."""
    from domplay.llm.embedded import load_embedded

    return load_embedded(cpu_threads=TEST_CPU_THREADS)


class CassetteTransport(httpx.BaseTransport):
    """Replays recorded exchanges; a request must match an unused recorded request body.

    Exchanges with equal bodies (retries) are replayed in recorded order. Every request
    seen is kept in `seen`; `unused` lists what was recorded but never asked for.
    """

    def __init__(self, name: str) -> None:
        data = json.loads((CASSETTES / name).read_text())
        self.interactions = list(data["interactions"])
        self.seen: list[dict] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        with self._lock:
            self.seen.append(
                {
                    "method": request.method,
                    "url": str(request.url),
                    "body": body,
                    "authorization": request.headers.get("authorization"),
                }
            )
            for i, rec in enumerate(self.interactions):
                want = rec["request"]
                if want["method"] == request.method and want["url"] == str(request.url) and want["body"] == body:
                    self.interactions.pop(i)
                    resp = rec["response"]
                    return httpx.Response(resp["status"], headers=resp.get("headers", {}), json=resp["body"])
        raise AssertionError(f"request not in cassette: {request.method} {request.url} {body}")

    @property
    def unused(self) -> list[dict]:
        return self.interactions


@pytest.fixture
def cassette():
    return CassetteTransport


class LocalServer:
    """A real uvicorn server on 127.0.0.1 serving `create_app(model, config)` in a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("local test server did not start")
            time.sleep(POLL_SECONDS)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(SERVER_START_SECONDS)
        self.sock.close()


@pytest.fixture
def local_server() -> type[LocalServer]:
    return LocalServer
