"""Run untrusted verification code (written by people or models) against a Snapshot, safely.

The code must define `def check(snapshot):` and return a bool, a number in [0, 1], or a tuple
`(score_or_bool, "reason")`; `snapshot` is `Snapshot.model_dump(mode="json")`. Without importing
anything it can call `query(html, css)`, which returns the matching elements as
`{"tag", "text", "attrs"}` dicts, and `print` (bounded, returned as `SandboxResult.output`).

    with Sandbox(workers=2) as sandbox:
        result = sandbox.run_check(
            "def check(snapshot):\\n"
            "    rows = query(snapshot['html'], '#cart li')\\n"
            "    return len(rows) == 2, f'{len(rows)} items in the cart'\\n",
            snapshot.model_dump(mode="json"))

Defence in depth, outermost first:
1. `validate_code` (here, in the parent): an AST allowlist - imports only from ALLOWED_MODULES
   (sandbox_worker.py lists each module's exposed names), no identifier or attribute starting with
   `__`, no frame/code/traceback attributes (`gi_*`, `f_*`, `tb_*`, ...), no `.format`/`.format_map`
   (format strings read attributes), no open/exec/eval/getattr/type/... names, no classes, no
   attribute assignment, no `match`, no async, no bare `except`.
2. The worker (sandbox_worker.py, a separate `python -I` process with an empty environment):
   restricted builtins, module views instead of modules, per-check CPU timer, limits a check cannot
   catch (every `except`/`finally` re-raises them; a limit hit is an error whatever the check
   returns), RLIMIT_AS, RLIMIT_FSIZE=0, RLIMIT_NPROC=0, RLIMIT_NOFILE=0 (no new files, sockets or
   pipes, even after closing fd 0-2), an empty network namespace (as root; otherwise in a user
   namespace where the kernel allows one) and uid `nobody` when root (see `Sandbox.hardening`).
3. This module: a wall-clock deadline per check (the worker is killed and replaced), a bound on
   every frame read back, and a fresh worker after any CPU, memory or crash incident; a worker that
   dies mid-check (a signal, SIGSEGV from a C stack overflow) is a `worker_died` error result.
"""

from __future__ import annotations

import ast
import json
import math
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

from pydantic import Field, model_validator

from domplay.errors import ConfigError, SandboxError
from domplay.settings import Settings
from domplay.verify import sandbox_worker
from domplay.verify.sandbox_worker import ALLOWED_MODULES, FRAME_HEADER, ErrorKind

__all__ = ["ErrorKind", "Sandbox", "SandboxLimits", "SandboxResult", "validate_code"]

WORKER_SCRIPT = Path(sandbox_worker.__file__)
FRAME_OVERHEAD_BYTES = 16384
"""Room in a response frame for the JSON keys and the reason besides `max_output_bytes` of output."""


Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A positive, finite number of seconds."""
Count = Annotated[int, Field(gt=0, strict=True)]
"""A positive int (bytes, megabytes)."""


class SandboxLimits(Settings):
    """Limits applied to every check; all recorded with results by the caller."""

    cpu_time_s: Seconds = Field(2.0, description="CPU time one check may use (precise SIGPROF timer in the worker)")
    wall_time_s: Seconds = Field(
        5.0, description="wall-clock time one check may take, enforced by the parent (the worker is killed)"
    )
    memory_mb: Count = Field(
        512, description="address space a check may add on top of the worker's own (~100 MB) (RLIMIT_AS)"
    )
    max_output_bytes: Count = Field(
        65536, description="bound on printed output and on the returned reason; beyond it the check is an error"
    )
    max_code_bytes: Count = Field(
        65536, description="bound on the source code; longer code is refused before it is parsed"
    )
    max_snapshot_bytes: Count = Field(64 * 2**20, description="bound on the JSON-encoded snapshot sent to the worker")
    worker_cpu_budget_s: Seconds = Field(
        600.0, description="lifetime CPU of one worker (hard RLIMIT_CPU); it is replaced before it runs out"
    )
    startup_timeout_s: Seconds = Field(
        30.0, description="how long a new worker may take to import its modules and harden itself"
    )

    @model_validator(mode="after")
    def _one_check_fits_a_worker(self) -> SandboxLimits:
        if self.worker_cpu_budget_s < 2 * self.cpu_time_s + 2:
            raise ValueError(
                f"worker_cpu_budget_s={self.worker_cpu_budget_s} must be at least 2 * cpu_time_s + 2 "
                f"= {2 * self.cpu_time_s + 2} so one check fits in a worker"
            )
        return self

    @property
    def max_frame_bytes(self) -> int:
        return 2 * self.max_output_bytes + FRAME_OVERHEAD_BYTES


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one sandboxed check. `ok` means it ran and returned a valid score."""

    ok: bool
    score: float | None
    """In [0, 1] when ok (a bool return becomes 1.0 or 0.0); None otherwise."""
    reason: str
    """The check's own reason, or what went wrong; never empty."""
    error: str | None
    """None when ok, else an ErrorKind value (a str): catch kinds, not reason substrings."""
    duration_s: float
    output: str = ""
    """What the check printed (at most max_output_bytes)."""


def _error(kind: ErrorKind, reason: str, started: float, output: str = "") -> SandboxResult:
    return SandboxResult(
        ok=False, score=None, reason=reason, error=kind, duration_s=time.monotonic() - started, output=output
    )


# ---- the AST allowlist --------------------------------------------------------------------

DENIED_NAMES = frozenset(
    {
        "open",
        "exec",
        "eval",
        "compile",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "breakpoint",
        "input",
        "memoryview",
        "type",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "dir",
        "help",
        "exit",
        "quit",
        "BaseException",
        "SystemExit",
        "KeyboardInterrupt",
        "GeneratorExit",
    }
)
"""Names refused outright (none of them is in the worker's builtins either)."""
DENIED_ATTRIBUTE_PREFIXES = ("_" * 2, "gi_", "cr_", "ag_", "f_", "tb_", "co_")
"""Frame, code, generator and traceback internals lead back to real globals and builtins."""
DENIED_ATTRIBUTES = frozenset({"format", "format_map", "mro"})
"""`str.format` resolves `{0.attr}` by name at run time, out of the AST's sight."""
DENIED_NODES: dict[type, str] = {
    ast.ClassDef: "class definitions",
    ast.AsyncFunctionDef: "async functions",
    ast.Await: "await",
    ast.AsyncFor: "async for",
    ast.AsyncWith: "async with",
    ast.Match: "match statements",
    ast.TryStar: "except*",
}
MAX_VIOLATIONS_SHOWN = 10


def _identifiers(node: ast.AST) -> list[str]:
    """Every identifier a node introduces or reads (besides Attribute.attr, checked apart)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.Lambda)):
        args = node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        return names + ([node.name] if isinstance(node, ast.FunctionDef) else [])
    if isinstance(node, ast.keyword) and node.arg is not None:
        return [node.arg]
    if isinstance(node, ast.alias):
        return [n for n in (node.name, node.asname) if n is not None]
    if isinstance(node, ast.ExceptHandler) and node.name is not None:
        return [node.name]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    return []


def _import_problem(node: ast.Import | ast.ImportFrom) -> str | None:
    allowed = ", ".join(sorted(ALLOWED_MODULES))
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                return f"import of {alias.name!r} is not allowed (allowed modules: {allowed})"
        return None
    submodules = {f"{node.module}.{alias.name}" for alias in node.names}
    if node.level == 0 and node.module not in ALLOWED_MODULES and submodules <= ALLOWED_MODULES.keys():
        return None  # `from urllib import parse`
    if node.level != 0 or node.module not in ALLOWED_MODULES:
        return f"import from {'.' * node.level}{node.module or ''!r} is not allowed (allowed modules: {allowed})"
    for alias in node.names:
        if alias.name not in ALLOWED_MODULES[node.module]:
            return (
                f"{node.module}.{alias.name} is not available in checks "
                f"(available: {', '.join(ALLOWED_MODULES[node.module])})"
            )
    return None


def _node_problem(node: ast.AST) -> str | None:
    """What is wrong with one node, or None."""
    if type(node) in DENIED_NODES:
        return f"{DENIED_NODES[type(node)]} are not allowed"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _import_problem(node)
    if isinstance(node, ast.ExceptHandler) and node.type is None:
        return "bare `except:` is not allowed; write `except Exception:`"
    if isinstance(node, ast.Attribute):
        if node.attr.startswith(DENIED_ATTRIBUTE_PREFIXES) or node.attr in DENIED_ATTRIBUTES:
            return f"attribute `.{node.attr}` is not allowed"
        if not isinstance(node.ctx, ast.Load):
            return f"assigning or deleting attributes (`.{node.attr}`) is not allowed"
    for name in _identifiers(node):
        if name.startswith("__"):
            return f"name {name!r} is not allowed (no names starting with '__')"
        if name in DENIED_NAMES:
            return f"{name!r} is not allowed in checks"
    return None


def validate_code(code: str, max_code_bytes: int = SandboxLimits().max_code_bytes) -> None:
    """Refuse code outside the sandbox's allowlist; SandboxError names each construct and line."""
    if not isinstance(code, str):
        raise SandboxError(f"check code must be a str, got {type(code).__name__}")
    size_bytes = len(code.encode("utf-8", "surrogatepass"))
    if size_bytes > max_code_bytes:
        raise SandboxError(f"check code is {size_bytes} bytes, over the limit of {max_code_bytes}")
    try:
        tree = ast.parse(code, filename="<check>")
    except SyntaxError as exc:
        raise SandboxError(f"line {exc.lineno}: syntax error: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError) as exc:  # absurd nesting, NUL bytes
        raise SandboxError(f"check code cannot be parsed: {type(exc).__name__}: {exc}") from None
    problems = [
        f"line {getattr(node, 'lineno', '?')}: {problem}"
        for node in ast.walk(tree)
        if (problem := _node_problem(node)) is not None
    ]
    has_check = any(isinstance(n, ast.FunctionDef) and n.name == "check" and len(n.args.args) == 1 for n in tree.body)
    if not has_check:
        problems.append("the code must define `def check(snapshot):` at top level (one parameter)")
    if problems:
        shown = problems[:MAX_VIOLATIONS_SHOWN]
        more = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise SandboxError("check code refused: " + "; ".join(shown) + more)


# ---- one worker process -------------------------------------------------------------------


class _WorkerGone(Exception):
    """The worker exited or closed its pipe."""


class _Deadline(Exception):
    """The worker did not answer in time."""


class _BadFrame(Exception):
    """The worker sent a frame larger than allowed."""


@dataclass(eq=False)  # identity semantics: workers live in a set
class _Worker:
    """A running sandbox_worker.py process and its pipes."""

    limits: SandboxLimits
    proc: subprocess.Popen[bytes] = field(init=False)
    hardening: dict[str, Any] = field(init=False, default_factory=dict)
    cpu_total_s: float = 0.0

    def __post_init__(self) -> None:
        try:
            self._start()
        except (OSError, _WorkerGone, _Deadline) as exc:
            if getattr(self, "proc", None) is not None:
                self.dispose()
            raise SandboxError(
                f"cannot start a sandbox worker ({sys.executable} -I {WORKER_SCRIPT}): {type(exc).__name__}: {exc}"
            ) from None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The worker's stdin and stdout: both PIPE, so never None once started."""
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:
            raise SandboxError("the sandbox worker has no stdin/stdout pipe; _start opens both")
        return stdin, stdout

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.defpath, "LANG": "C.UTF-8"},
            cwd="/",
            bufsize=0,
            close_fds=True,
            start_new_session=True,
        )  # the terminal's Ctrl-C goes to the parent, not to checks
        os.set_blocking(self._pipes()[0].fileno(), False)  # writes honour the deadline too
        config = {
            "cpu_time_s": self.limits.cpu_time_s,
            "memory_mb": self.limits.memory_mb,
            "max_output_bytes": self.limits.max_output_bytes,
            "max_frame_bytes": self.limits.max_frame_bytes,
            "worker_cpu_budget_s": self.limits.worker_cpu_budget_s,
        }
        self._deadline = time.monotonic() + self.limits.startup_timeout_s
        self._send(json.dumps(config).encode())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> None:
        """Block until the worker has hardened itself; SandboxError if it cannot."""
        try:
            message = json.loads(self._receive(self._deadline))
        except (_WorkerGone, _Deadline, _BadFrame) as exc:
            self.dispose()
            raise SandboxError(
                f"sandbox worker failed to start ({type(exc).__name__}, exit code "
                f"{self.proc.returncode}); run `{sys.executable} -I {WORKER_SCRIPT}` "
                "to see why"
            ) from None
        if message.get("type") != "ready":
            self.dispose()
            raise SandboxError(f"sandbox worker failed to start: {message.get('error')}")
        self.hardening = message["hardening"]

    def request(self, code: str, snapshot_json: bytes) -> dict[str, Any]:
        deadline = time.monotonic() + self.limits.wall_time_s
        self._send(json.dumps({"code": code}).encode(), deadline)
        self._send(snapshot_json, deadline)
        response = json.loads(self._receive(deadline))
        self.cpu_total_s = response["cpu_total_s"]
        return response

    def kill(self) -> None:
        """SIGKILL and reap; safe from any thread (the pipes stay open for their reader)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def dispose(self) -> None:
        """Kill and close the pipes; only by the thread that holds the worker (no fd reuse races)."""
        self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def exit_description(self) -> tuple[ErrorKind, str]:
        code = self.proc.wait()
        if code < 0 and -code == signal.SIGXCPU:
            return ErrorKind.CPU_TIME, "the worker hit its CPU limit (SIGXCPU)"
        if code < 0:
            return ErrorKind.WORKER_DIED, f"the worker was killed by {signal.Signals(-code).name} mid-check"
        return ErrorKind.WORKER_DIED, f"the worker exited with code {code} mid-check"

    def _send(self, payload: bytes, deadline: float | None = None) -> None:
        fd = self._pipes()[0].fileno()
        view = memoryview(FRAME_HEADER.pack(len(payload)) + payload)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while view:
            if not poller.poll(_remaining_ms(deadline or self._deadline)):
                raise _Deadline()
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise _WorkerGone() from None

    def _receive(self, deadline: float) -> bytes:
        header = self._read_exact(FRAME_HEADER.size, deadline)
        (size,) = FRAME_HEADER.unpack(header)
        if size > self.limits.max_frame_bytes:
            raise _BadFrame(size)
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        fd = self._pipes()[1].fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        chunks, remaining = [], size
        while remaining:
            if not poller.poll(_remaining_ms(deadline)):
                raise _Deadline()
            chunk = os.read(fd, remaining)
            if not chunk:
                raise _WorkerGone()
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


def _remaining_ms(deadline: float) -> int:
    return max(0, math.ceil((deadline - time.monotonic()) * 1000))


def _kill_all(workers: set[_Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


# ---- the pool -----------------------------------------------------------------------------

RECYCLE_AFTER = frozenset({ErrorKind.CPU_TIME, ErrorKind.MEMORY, ErrorKind.INTERNAL})
"""After these a worker may hold a half-done allocation or a late signal: start a fresh one."""


class Sandbox:
    """A pool of warm, hardened worker processes running `check(snapshot)` code.

    `run_check` is thread-safe; it blocks while all workers are busy. Use as a context manager
    (or call `close()`): workers are killed on exit.
    """

    def __init__(self, workers: int = 2, limits: SandboxLimits = SandboxLimits()) -> None:
        if not (isinstance(workers, int) and workers >= 1):
            raise ConfigError(f"Sandbox(workers=...) must be a positive int, got {workers!r}")
        self.limits = limits
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_all, self._live)
        started = [self._start_worker_nowait() for _ in range(workers)]
        try:
            for worker in started:
                worker.wait_ready()
        except SandboxError:
            self.close()
            raise
        self.hardening: dict[str, Any] = started[0].hardening
        """What the OS-level layer could apply (uid, network_isolation, memory limit, ...)."""
        for worker in started:
            self._idle.put(worker)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run_check(self, code: str, snapshot: dict[str, Any]) -> SandboxResult:
        """Run `check(snapshot)` from `code`; every failure of the code is an error result.

        Raises SandboxError only for the caller's or the machine's faults: a closed sandbox, a
        snapshot that is not JSON data or too large, a worker that cannot be started.
        """
        started = time.monotonic()
        if self._closed:
            raise SandboxError("this Sandbox is closed; create a new one")
        try:
            validate_code(code, self.limits.max_code_bytes)
        except SandboxError as exc:
            return _error(ErrorKind.VALIDATION, str(exc), started)
        snapshot_json = self._encode_snapshot(snapshot)
        worker = self._acquire()
        keep = False
        try:
            response = worker.request(code, snapshot_json)
        except _Deadline:
            message = f"check took more than {self.limits.wall_time_s} s of wall time"
            return _error(ErrorKind.WALL_TIME, message, started)
        except _WorkerGone:
            return _error(*worker.exit_description(), started)
        except _BadFrame as exc:
            return _error(
                ErrorKind.OUTPUT_LIMIT,
                f"the worker sent {exc.args[0]} bytes, over the limit of {self.limits.max_frame_bytes}",
                started,
            )
        else:
            keep = self._reusable(worker, response)
        finally:
            self._release(worker, keep)
        if response["error"] is not None:
            return _error(ErrorKind(response["error"]), response["reason"], started, response["output"])
        return SandboxResult(
            ok=True,
            score=response["score"],
            reason=response["reason"],
            error=None,
            duration_s=time.monotonic() - started,
            output=response["output"],
        )

    def worker_pids(self) -> tuple[int, ...]:
        """Process ids of the live workers (for monitoring, and for tests that kill one)."""
        with self._lock:
            return tuple(w.pid for w in self._live)

    def close(self) -> None:
        """Kill every worker. Checks running in other threads end with a worker_died result."""
        with self._lock:
            self._closed = True
            _kill_all(self._live)
        while True:  # idle workers are ours to dispose; busy ones are disposed on release
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker is not None:
                self._forget(worker)

    # -- internals --

    def _reusable(self, worker: _Worker, response: dict[str, Any]) -> bool:
        # Headroom for one more check plus the one-second RLIMIT_CPU grace, twice over.
        cpu_headroom_s = 2 * (self.limits.cpu_time_s + 1)
        return (
            response["error"] not in RECYCLE_AFTER
            and worker.cpu_total_s + cpu_headroom_s < self.limits.worker_cpu_budget_s
        )

    def _encode_snapshot(self, snapshot: dict[str, Any]) -> bytes:
        try:
            data = json.dumps(snapshot, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError) as exc:
            raise SandboxError(
                f"the snapshot is not JSON data ({exc}); pass Snapshot.model_dump(mode='json')"
            ) from None
        if len(data) > self.limits.max_snapshot_bytes:
            raise SandboxError(
                f"the snapshot is {len(data)} bytes of JSON, over "
                f"SandboxLimits.max_snapshot_bytes={self.limits.max_snapshot_bytes}"
            )
        return data

    def _start_worker_nowait(self) -> _Worker:
        worker = _Worker(self.limits)
        with self._lock:
            if self._closed:
                worker.dispose()
                raise SandboxError("this Sandbox is closed; create a new one")
            self._live.add(worker)
        return worker

    def _acquire(self) -> _Worker:
        worker = self._idle.get()
        if self._closed:
            if worker is not None:
                self._forget(worker)
            raise SandboxError("this Sandbox is closed; create a new one")
        if worker is not None and worker.proc.poll() is None:
            return worker
        if worker is not None:  # died while idle (killed from outside)
            self._forget(worker)
        try:
            worker = self._start_worker_nowait()
            worker.wait_ready()
        except SandboxError:
            self._idle.put(None)  # keep the slot; a later call retries the start
            raise
        return worker

    def _release(self, worker: _Worker, keep: bool) -> None:
        if keep and not self._closed:
            self._idle.put(worker)
            return
        self._forget(worker)
        self._idle.put(None)  # the slot is refilled lazily by the next _acquire

    def _forget(self, worker: _Worker) -> None:
        worker.dispose()
        with self._lock:
            self._live.discard(worker)
