"""Sandbox worker: runs untrusted `check(snapshot)` code, one request at a time, in a hardened process.

`domplay.verify.sandbox` starts this file as `python -I sandbox_worker.py` and talks to it over
stdin/stdout in length-prefixed frames. The file uses the standard library and selectolax only
and imports nothing from domplay, so no package import can widen what untrusted code reaches.
The parent imports the constants below (ALLOWED_MODULES for its AST check, ErrorKind,
FRAME_HEADER), so the two sides cannot drift apart.

Layers inside this process (the parent's AST allowlist comes first):
- restricted builtins and an import hook that hands out read-only views of allowlisted modules;
- limits a check cannot catch: the CPU and output limits are BaseExceptions, recorded when they
  fire, and every `except` and `finally` block of a check starts by re-raising a limit (or a
  MemoryError) it is handling (`guard_handlers`), so `finally: return True` cannot make a pass;
- rlimits: address space, CPU (per check via a SIGPROF timer, lifetime via RLIMIT_CPU), file size 0,
  no new processes, no new file descriptors at all (RLIMIT_NOFILE = 0: no open(), socket() or
  pipe(), even after closing stdin, stdout or stderr);
- an empty private network namespace: as root before switching to uid/gid `nobody`, otherwise
  inside a new user namespace (capabilities dropped); and no_new_privs.
"""

from __future__ import annotations

import ast
import enum
import gc
import json
import math
import os
import signal
import struct
import sys
import types
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # at run time the worker imports selectolax only when a check queries a page
    from selectolax.lexbor import LexborHTMLParser

FRAME_HEADER = struct.Struct(">I")
"""Every frame is a 4-byte big-endian length followed by that many bytes."""

CHECK_FILENAME = "<check>"
NOBODY_ID = 65534
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
LINUX_CAPABILITY_VERSION_3 = 0x20080522
PR_SET_NO_NEW_PRIVS = 38
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MAX_MESSAGE_CHARS = 2000
"""Exception messages and reprs in error reasons are cut to this many characters."""
LIMIT_REFIRE_S = 0.05
"""Once a check's CPU limit has fired, the timer fires again this often until the check ends."""
GUARD_NAME = "__reraise_limits__"
"""The builtin that starts every handler of a check; `validate_code` refuses names starting with
`__`, so checks can neither call nor rebind it."""

# Modules importable by checks, and the only names each one exposes. Names that lead elsewhere
# (module attributes such as `urllib.parse.sys`, string.Formatter's attribute lookups,
# functools.update_wrapper's getattr/setattr by name) are left out on purpose.
ALLOWED_MODULES: dict[str, tuple[str, ...]] = {
    "re": (
        "compile",
        "search",
        "match",
        "fullmatch",
        "findall",
        "finditer",
        "sub",
        "subn",
        "split",
        "escape",
        "error",
        "IGNORECASE",
        "I",
        "MULTILINE",
        "M",
        "DOTALL",
        "S",
        "VERBOSE",
        "X",
        "ASCII",
        "A",
        "UNICODE",
        "U",
    ),
    "json": ("loads", "dumps", "JSONDecodeError"),
    "math": (
        "ceil",
        "floor",
        "fabs",
        "sqrt",
        "exp",
        "log",
        "log2",
        "log10",
        "pow",
        "isclose",
        "isfinite",
        "isnan",
        "isinf",
        "inf",
        "nan",
        "pi",
        "e",
        "fsum",
        "prod",
        "trunc",
        "gcd",
        "comb",
        "perm",
        "factorial",
        "hypot",
        "dist",
        "copysign",
        "modf",
    ),
    "string": (
        "ascii_letters",
        "ascii_lowercase",
        "ascii_uppercase",
        "digits",
        "hexdigits",
        "octdigits",
        "punctuation",
        "printable",
        "whitespace",
        "capwords",
        "Template",
    ),
    "collections": ("Counter", "defaultdict", "deque", "namedtuple", "OrderedDict", "ChainMap"),
    "itertools": (
        "accumulate",
        "chain",
        "combinations",
        "combinations_with_replacement",
        "compress",
        "count",
        "cycle",
        "dropwhile",
        "filterfalse",
        "groupby",
        "islice",
        "pairwise",
        "permutations",
        "product",
        "repeat",
        "starmap",
        "takewhile",
        "tee",
        "zip_longest",
    ),
    "functools": ("reduce", "partial", "lru_cache", "cache", "cmp_to_key"),
    "statistics": (
        "mean",
        "fmean",
        "geometric_mean",
        "harmonic_mean",
        "median",
        "median_low",
        "median_high",
        "mode",
        "multimode",
        "pstdev",
        "pvariance",
        "stdev",
        "variance",
        "quantiles",
        "StatisticsError",
    ),
    "difflib": ("SequenceMatcher", "get_close_matches", "ndiff", "unified_diff", "context_diff"),
    "datetime": ("date", "datetime", "time", "timedelta", "timezone", "MINYEAR", "MAXYEAR"),
    "html": ("escape", "unescape"),
    "urllib.parse": (
        "urlparse",
        "urlsplit",
        "urlunparse",
        "urlunsplit",
        "urljoin",
        "urldefrag",
        "parse_qs",
        "parse_qsl",
        "quote",
        "quote_plus",
        "unquote",
        "unquote_plus",
        "urlencode",
    ),
    "unicodedata": (
        "normalize",
        "category",
        "name",
        "lookup",
        "combining",
        "east_asian_width",
        "decimal",
        "digit",
        "numeric",
    ),
}

# Modules the interpreter imports on behalf of allowed code (datetime's strftime and strptime
# go through `__import__`); checks cannot import them themselves, the AST check refuses it.
INTERNAL_IMPORTS: dict[str, tuple[str, ...]] = {
    "time": (
        "strftime",
        "struct_time",
        "localtime",
        "gmtime",
        "mktime",
        "time",
        "timezone",
        "altzone",
        "daylight",
        "tzname",
    ),
    "_strptime": ("_strptime_datetime", "_strptime_time"),
}

SAFE_BUILTIN_NAMES: tuple[str, ...] = (
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "bytes",
    "callable",
    "chr",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "format",
    "frozenset",
    "hash",
    "hex",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "oct",
    "ord",
    "pow",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "slice",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "True",
    "False",
    "None",
    "Ellipsis",
    "NotImplemented",
    "Exception",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "IndexError",
    "KeyError",
    "LookupError",
    "NotImplementedError",
    "OverflowError",
    "RecursionError",
    "RuntimeError",
    "StopIteration",
    "TypeError",
    "UnicodeError",
    "ValueError",
    "ZeroDivisionError",
    "MemoryError",
)
"""Builtins checks may use; `print`, `query` and the import hook are added per check."""

# Lazily imported modules that allowed code can trigger (codec lookups, strptime); they are
# imported before RLIMIT_NOFILE forbids opening their source files.
PRELOAD_MODULES = (
    *INTERNAL_IMPORTS,
    "encodings.latin_1",
    "encodings.ascii",
    "encodings.cp1252",
    "encodings.idna",
    "encodings.utf_16",
    "encodings.utf_32",
    "encodings.unicode_escape",
)


class ErrorKind(enum.StrEnum):
    """Why a sandboxed check produced no score (SandboxResult.error)."""

    VALIDATION = "validation"  # the AST allowlist refused the code
    EXCEPTION = "exception"  # the code raised (including syntax errors and recursion)
    BAD_RETURN = "bad_return"  # check() returned something that is not a score
    NO_CHECK = "no_check"  # the code defines no callable `check`
    CPU_TIME = "cpu_time"
    WALL_TIME = "wall_time"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"  # prints, the reason or the response were too large
    WORKER_DIED = "worker_died"  # killed by a signal or crashed mid-check
    INTERNAL = "internal"  # the worker itself failed; a bug, not the check's fault


class LimitExceeded(BaseException):
    """A limit of the running check: a BaseException so `except Exception` cannot catch it, and
    recorded when raised (`raise_limit`), so a check that swallows it still gets the error."""

    kind: ErrorKind


class CpuTimeExceeded(LimitExceeded):
    """Raised by the SIGPROF handler."""

    kind = ErrorKind.CPU_TIME


class OutputLimitExceeded(LimitExceeded):
    """Raised by `print` when a check prints more than the limit."""

    kind = ErrorKind.OUTPUT_LIMIT


OUT_OF_MEMORY = "check ran out of memory"
_limit_hit: tuple[ErrorKind, str] | None = None
"""The first limit the running check hit; its result is that error, whatever it returns."""


def record_limit(kind: ErrorKind, reason: str) -> None:
    global _limit_hit
    if _limit_hit is None:
        _limit_hit = (kind, reason)


def raise_limit(exc: LimitExceeded) -> NoReturn:
    record_limit(exc.kind, str(exc))
    raise exc


def reraise_limits() -> None:
    """First statement of every `except` and `finally` block of a check (`guard_handlers`): a limit
    or MemoryError being handled is recorded and raised again, so no handler can swallow it."""
    exc = sys.exc_info()[1]
    if isinstance(exc, MemoryError):
        record_limit(ErrorKind.MEMORY, OUT_OF_MEMORY)
        raise exc
    if isinstance(exc, LimitExceeded):
        raise_limit(exc)


def record_unraisable(unraisable: object) -> None:
    """`sys.unraisablehook`: a limit hit in a finalizer (a generator closed by gc) still counts."""
    exc = getattr(unraisable, "exc_value", None)
    if isinstance(exc, MemoryError):
        record_limit(ErrorKind.MEMORY, OUT_OF_MEMORY)
    elif isinstance(exc, LimitExceeded):
        record_limit(exc.kind, str(exc))


class BoundedOutput:
    """What `print` writes to: text up to `max_bytes`, then OutputLimitExceeded."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.parts: list[str] = []
        self.size_bytes = 0

    def print(self, *values: object, sep: str = " ", end: str = "\n") -> None:
        text = str(sep).join(str(v) for v in values) + str(end)
        self.size_bytes += len(text.encode("utf-8", "replace"))
        if self.size_bytes > self.max_bytes:
            raise_limit(OutputLimitExceeded(f"printed more than {self.max_bytes} bytes"))
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


# ---- the environment a check runs in ------------------------------------------------------


def module_view(name: str) -> types.SimpleNamespace:
    """A fresh namespace holding only the allowlisted names of a (pre-imported) module."""
    module = sys.modules[name]
    names = ALLOWED_MODULES.get(name) or INTERNAL_IMPORTS[name]
    return types.SimpleNamespace(**{attr: getattr(module, attr) for attr in names})


def safe_import(name, globals=None, locals=None, fromlist=(), level=0):
    """The `__import__` checks see: allowlisted modules only, as fresh read-only views."""
    if level == 0 and (name in INTERNAL_IMPORTS or (name in ALLOWED_MODULES and (fromlist or "." not in name))):
        return module_view(name)
    head = name.partition(".")[0]
    children = {m.partition(".")[2]: m for m in ALLOWED_MODULES if m.partition(".")[0] == head and "." in m}
    if level == 0 and children and (name == head or name in ALLOWED_MODULES):
        # `import urllib.parse` and `from urllib import parse` both need the package `urllib`.
        return types.SimpleNamespace(**{child: module_view(full) for child, full in children.items()})
    raise ImportError(f"import of {name!r} is not allowed in checks")


class CssQuery:
    """`query(html, css)`: the elements matching a CSS selector as {"tag", "text", "attrs"} dicts."""

    def __init__(self) -> None:
        self._html: str | None = None
        self._tree: LexborHTMLParser | None = None

    def __call__(self, html: str, css: str) -> list[dict]:
        from selectolax.lexbor import LexborHTMLParser, SelectolaxError

        if type(html) is not str or type(css) is not str:
            raise TypeError("query(html, css) takes two strings")
        tree = self._tree
        if html is not self._html or tree is None:  # checks often query the same page many times
            tree = LexborHTMLParser(html)
            self._html, self._tree = html, tree
        try:
            nodes = tree.css(css)
        except SelectolaxError as exc:
            raise ValueError(f"invalid CSS selector {css!r}: {exc}") from None
        return [
            {
                "tag": node.tag,
                "text": " ".join((node.text(deep=True) or "").split()),
                "attrs": {k: ("" if v is None else v) for k, v in node.attributes.items()},
            }
            for node in nodes
        ]


def fresh_globals(output: BoundedOutput) -> dict:
    builtins_module = sys.modules["builtins"]
    safe = {name: getattr(builtins_module, name) for name in SAFE_BUILTIN_NAMES}
    safe["print"] = output.print
    safe["__import__"] = safe_import
    safe[GUARD_NAME] = reraise_limits
    return {"__builtins__": safe, "__name__": "check", "query": CssQuery()}


_compiled: dict[str, types.CodeType] = {}
COMPILE_CACHE_ENTRIES = 64


class GuardHandlers(ast.NodeTransformer):
    """Start every `except` and `finally` block with a call to `reraise_limits`."""

    @staticmethod
    def _guarded(body: list[ast.stmt]) -> list[ast.stmt]:
        call = ast.Expr(ast.Call(ast.Name(GUARD_NAME, ast.Load()), [], []))
        return [ast.copy_location(call, body[0]), *body]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        self.generic_visit(node)
        node.body = self._guarded(node.body)
        return node

    def visit_Try(self, node: ast.Try) -> ast.Try:
        self.generic_visit(node)
        if node.finalbody:
            node.finalbody = self._guarded(node.finalbody)
        return node


def guard_handlers(code: str) -> ast.Module:
    return ast.fix_missing_locations(GuardHandlers().visit(ast.parse(code, CHECK_FILENAME)))


def compile_check(code: str) -> types.CodeType:
    """Compile once per distinct source (proposers run one check over many snapshots), with
    every handler guarded (`guard_handlers`)."""
    compiled = _compiled.get(code)
    if compiled is None:
        compiled = compile(guard_handlers(code), CHECK_FILENAME, "exec", dont_inherit=True)
        if len(_compiled) >= COMPILE_CACHE_ENTRIES:
            _compiled.clear()
        _compiled[code] = compiled
    return compiled


# ---- running one check --------------------------------------------------------------------

_armed = False
_cpu_time_s = 0.0


def _on_sigprof(signum, frame):
    if _armed:
        raise_limit(CpuTimeExceeded(f"check used more than {_cpu_time_s} s of CPU time"))


def short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


def describe_exception(exc: BaseException) -> str:
    """`Type: message (line N)` with N the last line of the check's own code in the traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CHECK_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        line = exc.lineno
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a message that cannot be rendered (e.g. a huge int) is not worth a crash
        message = "<unprintable message>"
    where = f" (line {line})" if line is not None else ""
    return short(f"{type(exc).__name__}: {message}{where}")


def interpret(value: object) -> tuple[float | None, str, ErrorKind | None]:
    """(score, reason, error_kind) from what check() returned."""
    reason = ""
    if type(value) is tuple:
        if len(value) != 2 or type(value[1]) is not str:
            return None, "check returned a tuple that is not (score_or_bool, reason_str)", ErrorKind.BAD_RETURN
        value, reason = value
    if type(value) is bool:
        return (1.0 if value else 0.0), reason or f"check returned {value}", None
    if (type(value) is int or type(value) is float) and 0 <= value <= 1:  # NaN fails the comparison
        return float(value), reason or f"check returned {value}", None
    if type(value) is float:
        return None, f"check returned {value!r}, outside [0, 1]", ErrorKind.BAD_RETURN
    if type(value) is int:  # no repr: a huge int cannot be rendered
        return None, "check returned an int outside [0, 1]", ErrorKind.BAD_RETURN
    return (
        None,
        (
            f"check returned a {type(value).__name__}; expected a bool, a number in [0, 1] "
            "or a (score_or_bool, reason) tuple"
        ),
        ErrorKind.BAD_RETURN,
    )


def run_check(code: str, snapshot_json: bytes, cpu_time_s: float, max_output_bytes: int) -> dict:
    """Run one check under the per-check CPU timer; never raises for anything the check does."""
    global _armed, _cpu_time_s, _limit_hit
    output = BoundedOutput(max_output_bytes)
    score, reason, error = None, "", None
    set_check_cpu_limit(cpu_time_s)
    _cpu_time_s, _limit_hit = cpu_time_s, None
    try:
        _armed = True
        signal.setitimer(signal.ITIMER_PROF, cpu_time_s, LIMIT_REFIRE_S)
        namespace = fresh_globals(output)
        exec(compile_check(code), namespace)  # noqa: S102 - this is the sandbox
        check = namespace.get("check")
        if not callable(check):
            score, reason, error = None, "the code defines no `check(snapshot)` function", ErrorKind.NO_CHECK
        else:
            score, reason, error = interpret(check(json.loads(snapshot_json)))
        # Drop the check's objects while the timer still runs: finalizers are check code too.
        check = None
        namespace.clear()
        gc.collect()
    except LimitExceeded as exc:
        reason, error = str(exc), exc.kind
    except MemoryError:
        reason, error = OUT_OF_MEMORY, ErrorKind.MEMORY
    except Exception as exc:  # noqa: BLE001 - anything the untrusted code raised is its result
        reason, error = describe_exception(exc), ErrorKind.EXCEPTION
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_PROF, 0)
    if _limit_hit is not None:  # swallowed by the check (a `finally: return`, a finalizer): still an error
        error, reason = _limit_hit
    if error is None and len(reason.encode("utf-8", "replace")) > max_output_bytes:
        score, reason, error = None, f"the reason is longer than {max_output_bytes} bytes", ErrorKind.OUTPUT_LIMIT
    return {
        "score": score if error is None else None,
        "reason": reason,
        "error": error,
        "output": output.text(),
        "cpu_total_s": cpu_used_s(),
    }


# ---- process hardening --------------------------------------------------------------------


def cpu_used_s() -> float:
    times = os.times()
    return times.user + times.system


def set_check_cpu_limit(cpu_time_s: float) -> None:
    """Second line behind the SIGPROF timer: SIGXCPU (default action: terminate) a second later."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(cpu_used_s() + cpu_time_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard), hard))


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def drop_capabilities(libc) -> bool:
    """Clear every capability set (the ones a new user namespace grants inside it)."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    data = (Data * 2)()  # two 32-bit halves, all zero
    return libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), data) == 0


def isolate_network(libc) -> str | None:
    """Move into an empty network namespace (only a down loopback); returns how, or None.

    Root can create one directly; any other user creates a user namespace with it (where the
    kernel allows unprivileged user namespaces) and then drops the capabilities it gains there.
    """
    if os.geteuid() == 0:
        return "network namespace" if libc.unshare(CLONE_NEWNET) == 0 else None
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return None
    return "user and network namespaces" if drop_capabilities(libc) else None


def drop_root(applied: dict[str, object]) -> None:
    """Become uid/gid `nobody` when running as root."""
    if os.geteuid() != 0:
        return
    try:
        os.setgroups([])
        os.setgid(NOBODY_ID)
        os.setuid(NOBODY_ID)
    except OSError as exc:
        applied["setuid_error"] = str(exc)


def harden(memory_mb: int, worker_cpu_budget_s: float) -> dict:
    """Apply every OS-level limit to this process; returns what could be applied.

    `network_isolation` says how the network was cut off (None: it could not be; then the
    RLIMIT_NOFILE of 0 alone keeps the process from creating a socket).
    """
    import resource

    applied: dict[str, object] = {}
    os.chdir("/")
    libc = _libc()
    applied["no_new_privs"] = libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    network = isolate_network(libc)  # as root, before root is dropped
    with open("/proc/self/statm") as f:
        baseline_bytes = int(f.read().split()[0]) * PAGE_BYTES
    drop_root(applied)
    applied["uid"] = os.getuid()
    applied["network_isolation"] = network or isolate_network(libc)  # not root now: a user namespace
    memory_bytes = baseline_bytes + memory_mb * 2**20
    limits = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: 0,
        resource.RLIMIT_NPROC: 0,
        resource.RLIMIT_AS: memory_bytes,
        resource.RLIMIT_CPU: math.ceil(cpu_used_s() + worker_cpu_budget_s),
        # No new descriptor of any number: the limit bounds numbers, not counts, so with 3 a check
        # that closed stderr could open a file or socket as fd 2. The open 0, 1, 2 keep working.
        resource.RLIMIT_NOFILE: 0,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
    applied["memory_limit_bytes"] = memory_bytes
    return applied


def preload() -> None:
    """Import everything checks can reach before the limits forbid opening files."""
    import importlib

    for name in (*ALLOWED_MODULES, *PRELOAD_MODULES, "selectolax.lexbor", "resource", "ctypes"):
        importlib.import_module(name)
    gc.freeze()  # later gc.collect() calls only scan what checks created


# ---- protocol -----------------------------------------------------------------------------


def read_exact(n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame() -> bytes | None:
    header = read_exact(FRAME_HEADER.size)
    if header is None:
        return None
    return read_exact(FRAME_HEADER.unpack(header)[0])


def write_frame(message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8", "replace")
    view = memoryview(FRAME_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(1, view) :]


def bounded_response(response: dict, max_frame_bytes: int) -> dict:
    """Replace a response that would not fit in a frame by an output-limit error."""
    size = len(json.dumps(response, ensure_ascii=False).encode("utf-8", "replace"))
    if size <= max_frame_bytes:
        return response
    return {
        "score": None,
        "reason": f"the check's result and output exceed {max_frame_bytes} bytes",
        "error": ErrorKind.OUTPUT_LIMIT,
        "output": "",
        "cpu_total_s": response["cpu_total_s"],
    }


def main() -> None:
    # Stray writes to sys.stdout must not corrupt the protocol on fd 1.
    sys.stdout = sys.stderr
    config_frame = read_frame()
    if config_frame is None:
        return
    config = json.loads(config_frame)
    try:
        preload()
        signal.signal(signal.SIGPROF, _on_sigprof)
        sys.unraisablehook = record_unraisable
        applied = harden(config["memory_mb"], config["worker_cpu_budget_s"])
    except Exception as exc:  # noqa: BLE001 - report why startup failed instead of dying silently
        write_frame({"type": "fatal", "error": f"{type(exc).__name__}: {exc}"})
        return
    write_frame({"type": "ready", "hardening": applied})
    while True:
        request = read_frame()
        snapshot_json = read_frame() if request is not None else None
        if request is None or snapshot_json is None:
            return  # the parent closed the pipe
        code = json.loads(request)["code"]
        try:
            response = run_check(code, snapshot_json, config["cpu_time_s"], config["max_output_bytes"])
        except LimitExceeded as exc:  # the timer fired just as the check finished
            response = {
                "score": None,
                "reason": str(exc),
                "error": exc.kind,
                "output": "",
                "cpu_total_s": cpu_used_s(),
            }
        except BaseException as exc:  # noqa: BLE001 - a worker bug; say so and keep serving
            response = {
                "score": None,
                "reason": short(f"{type(exc).__name__}: {exc}"),
                "error": ErrorKind.INTERNAL,
                "output": "",
                "cpu_total_s": cpu_used_s(),
            }
        write_frame(bounded_response(response, config["max_frame_bytes"]))


if __name__ == "__main__":
    main()
