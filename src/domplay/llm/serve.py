"""Serve any ChatModel as an OpenAI-compatible endpoint (POST /v1/chat/completions).

Rollout workers in other processes then share one loaded model through `OpenAIModel`.
Concurrent requests with the same sampling params are merged into one `generate` batch
(collected for `batch_window_ms`). Beyond `max_queued_requests` the server answers 429
with Retry-After, which OpenAIModel retries. An optional `domplay_constraint` field
carries a Constraint (see `Constraint.to_json`). With `"stream": true` the answer comes as
server-sent events in OpenAI's `chat.completion.chunk` format, ending with `data: [DONE]`; a
completion is generated whole (it is part of a batch), so each choice's text comes in one chunk.

    python -m domplay.llm.serve --model embedded            # listens on 127.0.0.1:8100
"""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from domplay.errors import DomplayError, ModelError
from domplay.llm.base import ChatModel, Completion, GenerationParams
from domplay.llm.constrained import Constraint

DEFAULT_SERVE_PORT = 8100
"""The server's port unless told otherwise: not 8000, where `domplay sites serve` and the envs'
default base URL put the built-in sites."""


class ServeConfig(BaseModel, extra="forbid", frozen=True):
    """Server settings."""

    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_SERVE_PORT, ge=0, le=65535, description="TCP port (0: any free port)")
    max_queued_requests: int = Field(64, ge=1, description="requests waiting or running before 429")
    retry_after_seconds: float = Field(1.0, ge=0, description="Retry-After sent with 429")
    batch_window_ms: float = Field(5.0, ge=0, description="how long to gather requests into one batch")
    max_batch_prompts: int = Field(32, ge=1, description="prompts per generate call")


class ChatMessage(BaseModel, extra="ignore"):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel, extra="ignore"):
    """The OpenAI request fields this server honours (unknown OpenAI fields are ignored)."""

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = Field(1.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(1, ge=1)
    stream: bool = False
    stream_options: dict | None = None
    domplay_constraint: dict | None = None

    def params(self) -> GenerationParams:
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        limit = self.max_completion_tokens or self.max_tokens
        return GenerationParams(
            temperature=self.temperature,
            top_p=self.top_p,
            stop=stop,
            seed=self.seed,
            n=self.n,
            **({"max_new_tokens": limit} if limit is not None else {}),
        )


@dataclass
class ServerStats:
    """Counters a test or an operator can read from `app.state.stats`."""

    requests: int = 0
    rejected: int = 0
    batches: int = 0
    in_flight: int = 0


@dataclass
class _Job:
    messages: list[dict]
    params: GenerationParams
    constraint: Constraint | None
    future: Future


class _Batcher:
    """One worker thread that merges queued jobs with equal params into generate batches."""

    def __init__(self, model: ChatModel, config: ServeConfig, stats: ServerStats) -> None:
        self.model, self.config, self.stats = model, config, stats
        self.jobs: queue.Queue[_Job] = queue.Queue()
        threading.Thread(target=self._run, name="domplay-serve-batcher", daemon=True).start()

    def _run(self) -> None:
        while True:
            jobs = [self.jobs.get()]
            deadline = time.monotonic() + self.config.batch_window_ms / 1000
            while len(jobs) < self.config.max_batch_prompts:
                try:
                    jobs.append(self.jobs.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            for params in dict.fromkeys(j.params for j in jobs):
                self._run_batch([j for j in jobs if j.params == params], params)

    def _run_batch(self, jobs: list[_Job], params: GenerationParams) -> None:
        self.stats.batches += 1
        constraints = [j.constraint for j in jobs]
        try:
            results = self.model.generate(
                [j.messages for j in jobs], params, constraints if any(c is not None for c in constraints) else None
            )
            if len(results) != len(jobs):  # a request left without an answer would wait forever
                raise ModelError(
                    f"{self.model.name} returned {len(results)} completion lists for "
                    f"{len(jobs)} prompts; generate must return one per prompt"
                )
        except Exception as exc:  # noqa: BLE001 - handed to each waiting request, which answers 500
            for job in jobs:
                job.future.set_exception(exc)
            return
        for job, completions in zip(jobs, results, strict=True):
            job.future.set_result(completions)


def create_app(model: ChatModel, config: ServeConfig | None = None) -> Starlette:
    """The ASGI app serving `model`."""
    config = config or ServeConfig()
    stats = ServerStats()
    batcher: list[_Batcher] = []  # started on first request, inside the server's process
    lock = threading.Lock()

    async def chat(request: Request) -> Response:
        with lock:
            stats.requests += 1
        try:
            body = ChatRequest.model_validate(await request.json())
            params = body.params()
            constraint = Constraint.from_json(body.domplay_constraint) if body.domplay_constraint else None
        except (ValueError, ValidationError, DomplayError) as exc:
            return _error(400, f"invalid request: {exc}", "invalid_request_error")
        with lock:
            if stats.in_flight >= config.max_queued_requests:
                stats.rejected += 1
                return _error(
                    429,
                    f"server busy ({stats.in_flight} requests queued); retry later",
                    "rate_limit_error",
                    {"Retry-After": f"{config.retry_after_seconds:g}"},
                )
            stats.in_flight += 1
            if not batcher:
                batcher.append(_Batcher(model, config, stats))
        job = _Job([m.model_dump() for m in body.messages], params, constraint, Future())
        try:
            batcher[0].jobs.put(job)
            completions: list[Completion] = await asyncio.wrap_future(job.future)
        except Exception as exc:  # noqa: BLE001 - the model failed: report it, keep serving
            return _error(500, f"model {model.name!r} failed: {exc!r}", "server_error")
        finally:
            with lock:
                stats.in_flight -= 1
        if body.stream:
            usage = bool((body.stream_options or {}).get("include_usage"))
            return StreamingResponse(_events(model.name, completions, usage), media_type="text/event-stream")
        return JSONResponse(_response(model.name, completions))

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": model.name, "object": "model", "owned_by": "domplay"}]})

    app = Starlette(
        routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/v1/models", models, methods=["GET"])]
    )
    app.state.stats = stats
    return app


def _response(name: str, completions: list[Completion]) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": name,
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": c.text}, "finish_reason": c.finish_reason}
            for i, c in enumerate(completions)
        ],
        "usage": {
            "prompt_tokens": completions[0].prompt_tokens if completions else 0,
            "completion_tokens": sum(c.completion_tokens for c in completions),
            "total_tokens": (completions[0].prompt_tokens if completions else 0)
            + sum(c.completion_tokens for c in completions),
        },
    }


def _events(name: str, completions: list[Completion], include_usage: bool):
    """The completions as OpenAI's stream: per choice a role chunk, a content chunk and a finish chunk,
    then (if asked) a usage chunk, then `[DONE]`."""
    whole = _response(name, completions)
    head = {"id": whole["id"], "object": "chat.completion.chunk", "created": whole["created"], "model": name}

    def event(choices: list[dict], **extra: object) -> str:
        return f"data: {json.dumps({**head, 'choices': choices, **extra}, ensure_ascii=False)}\n\n"

    for i, c in enumerate(completions):
        yield event([{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        yield event([{"index": i, "delta": {"content": c.text}, "finish_reason": None}])
        yield event([{"index": i, "delta": {}, "finish_reason": c.finish_reason}])
    if include_usage:
        yield event([], usage=whole["usage"])
    yield "data: [DONE]\n\n"


def _error(status: int, message: str, kind: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": status}}, status_code=status, headers=headers
    )


def serve(model: ChatModel, config: ServeConfig | None = None, echo: Callable[[str], None] = print) -> None:
    """Run the server in this process until interrupted; `echo` the URL it listens on first."""
    import uvicorn

    config = config or ServeConfig()
    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        sock.close()
        raise ModelError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror}; choose another --port"
        ) from None
    port = sock.getsockname()[1]
    host = f"[{config.host}]" if ":" in config.host else config.host
    echo(f"serving {model.name!r} at http://{host}:{port}/v1 (OpenAI-compatible; Ctrl-C stops)")
    server = uvicorn.Server(uvicorn.Config(create_app(model, config), log_level="warning"))
    server.run(sockets=[sock])


def main() -> None:
    import click

    from domplay.llm.load import load_model, local_dtype

    @click.command()
    @click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="a run config: serve its model as its evals load it (eval.dtype, rollout.concurrency)",
    )
    @click.option(
        "--model", "spec", default=None, help="model spec for load_model [default: the config's, else embedded]"
    )
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=DEFAULT_SERVE_PORT, show_default=True, help="TCP port (0: any free port)")
    def command(config_path: str | None, spec: str | None, host: str, port: int) -> None:
        from domplay.config import load_config
        from domplay.exits import command_error

        try:
            config = load_config(config_path, overrides={"model": spec} if spec is not None else None)
            dtype = local_dtype(config.model, config.eval.dtype)
            model = load_model(config.model, dtype=dtype, batch_size=config.rollout.concurrency)
            serve(model, ServeConfig(host=host, port=port), echo=lambda line: click.echo(line, err=True))
        except (DomplayError, ValidationError, OSError) as exc:
            raise command_error(exc) from None

    command()


if __name__ == "__main__":
    main()
