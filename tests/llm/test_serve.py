"""A real OpenAI-compatible server on 127.0.0.1 (domplay.llm.serve) and OpenAIModel against it."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from domplay.errors import ModelError
from domplay.llm import Constraint, GenerationParams, ScriptedModel
from domplay.llm.openai_backend import OpenAIConfig, OpenAIModel
from domplay.llm.serve import ServeConfig, create_app

WAIT_SECONDS = 10.0
POLL_SECONDS = 0.01
FAST_RETRIES = {"backoff_initial_seconds": 0.02, "backoff_max_seconds": 0.05, "max_retries": 200}


def _client(server, **options) -> OpenAIModel:
    return OpenAIModel(OpenAIConfig(model="scripted", base_url=server.base_url, **options))


def _wait_for(condition) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(POLL_SECONDS)


def test_round_trip_batches_concurrent_requests_and_passes_constraints(local_server):
    model = ScriptedModel(lambda prompt: f"answer({prompt[-1]['content']!r})")
    app = create_app(model, ServeConfig(batch_window_ms=200))
    with local_server(app) as server:
        client = _client(server, constraint_format="domplay", concurrent_requests=4)
        prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(4)]
        page = Constraint(targets=[4, 9])
        out = client.generate(prompts, GenerationParams(n=2, stop=(")",)), [page, None, page, None])
        assert [[c.text for c in o] for o in out] == [[f"answer('q{i}'"] * 2 for i in range(4)]
        assert out[0][0].finish_reason == "stop" and out[0][0].prompt_tokens == 1
        assert app.state.stats.batches < 4  # concurrent requests shared generate calls
        assert sorted(model.constraints_seen, key=str) == [page, page, None, None]
        listed = httpx.get(f"{server.base_url}/models").json()
        assert listed["data"][0]["id"] == "scripted"


def test_429_when_busy_then_retry_succeeds(local_server):
    release = threading.Event()
    entered = threading.Event()

    def slow_then_fast(prompt):
        if prompt[-1]["content"] == "first":
            entered.set()
            assert release.wait(WAIT_SECONDS)
        return "done " + prompt[-1]["content"]

    app = create_app(
        ScriptedModel(slow_then_fast), ServeConfig(max_queued_requests=1, batch_window_ms=0, retry_after_seconds=0)
    )
    with local_server(app) as server:
        client = _client(server, **FAST_RETRIES)
        results: dict[str, str] = {}

        def ask(word: str) -> None:
            results[word] = client.generate([[{"role": "user", "content": word}]], GenerationParams())[0][0].text

        first = threading.Thread(target=ask, args=("first",))
        first.start()
        assert entered.wait(WAIT_SECONDS)
        second = threading.Thread(target=ask, args=("second",))
        second.start()
        _wait_for(lambda: app.state.stats.rejected >= 1)  # the second request got a 429 ...
        release.set()
        first.join(WAIT_SECONDS)
        second.join(WAIT_SECONDS)
        assert results == {"first": "done first", "second": "done second"}  # ... and its retry succeeded


def test_400_is_not_retried_and_model_errors_are_500(local_server):
    def broken(prompt):
        raise RuntimeError("scripted failure")

    app = create_app(ScriptedModel(broken), ServeConfig())
    with local_server(app) as server:
        client = _client(server, **FAST_RETRIES)
        with pytest.raises(ModelError, match="400 after 1 attempt"):
            client.generate([[{"role": "robot", "content": "hi"}]], GenerationParams())
        assert app.state.stats.requests == 1
        with pytest.raises(ModelError, match=r"500 after 2 attempt.*scripted failure"):
            _client(server, **{**FAST_RETRIES, "max_retries": 1}).generate(
                [[{"role": "user", "content": "hi"}]], GenerationParams()
            )


class _DropsLastAnswer(ScriptedModel):
    """Breaks the ChatModel contract: one completion list fewer than prompts."""

    def generate(self, prompts, params, constraints=None):
        return super().generate(prompts, params, constraints)[:-1]


def test_a_model_answering_too_few_prompts_fails_the_request_instead_of_hanging(local_server):
    app = create_app(_DropsLastAnswer(lambda prompt: "x"), ServeConfig())
    with local_server(app) as server:
        client = _client(server, **{**FAST_RETRIES, "max_retries": 0}, timeout_seconds=WAIT_SECONDS)
        with pytest.raises(ModelError, match=r"500 after 1 attempt.*one per prompt"):
            client.generate([[{"role": "user", "content": "hi"}]], GenerationParams())


def test_unreachable_server_raises_after_retries():
    client = OpenAIModel(
        OpenAIConfig(
            model="m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff_initial_seconds=0.001, timeout_seconds=2
        )
    )
    with pytest.raises(ModelError, match="unreachable after 2 attempts"):
        client.generate([[{"role": "user", "content": "hi"}]], GenerationParams())


def _sse(response: httpx.Response) -> list:
    """The `data:` payloads of a server-sent event stream, JSON-decoded but the final [DONE]."""
    import json

    lines = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_stream_true_answers_server_sent_events_in_openais_chunk_format(local_server):
    app = create_app(ScriptedModel(lambda prompt: f"click({len(prompt[-1]['content'])})"))
    with local_server(app) as server:
        body = {"messages": [{"role": "user", "content": "four"}], "n": 2, "stream": True}
        body["stream_options"] = {"include_usage": True}
        with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            chunks = _sse(response)
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    for index in (0, 1):
        mine = [c["choices"][0] for c in chunks if c["choices"] and c["choices"][0]["index"] == index]
        assert "".join(d["delta"].get("content", "") for d in mine) == "click(4)"
        assert mine[0]["delta"]["role"] == "assistant" and mine[-1]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 2


def test_the_server_says_where_it_listens_and_stays_off_the_sites_port(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    from urllib.parse import urlsplit

    from domplay.env.base import DEFAULT_BASE_URL

    assert ServeConfig().port != urlsplit(DEFAULT_BASE_URL).port
    assert urlsplit(OpenAIConfig(model="m").base_url).port == ServeConfig().port  # the client finds the server
    src = str(Path(__file__).resolve().parents[2] / "src")
    command = [sys.executable, "-m", "domplay.llm.serve", "--model", "random", "--port", "0"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": src})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("serving 'random' at http://127.0.0.1:") and "/v1" in line, line
        base_url = line.split(" at ", 1)[1].split(" ", 1)[0]
        _wait_for(lambda: _answers(f"{base_url}/models"))
        body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
        with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=WAIT_SECONDS) as response:
            assert len(_sse(response)) == 3
    finally:
        proc.terminate()
        proc.wait(WAIT_SECONDS)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False
