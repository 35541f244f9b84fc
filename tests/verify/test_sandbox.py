"""The sandbox runs model-written checks: real checks score right, and no escape attempt gets out.

Every adversarial case must end in an error result with a reason, the host survives, and the
pool keeps answering afterwards (`assert_pool_works`).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import domplay
from domplay.errors import ConfigError, SandboxError
from domplay.verify.sandbox import ErrorKind, Sandbox, SandboxLimits, SandboxResult, _Worker, validate_code
from domplay.verify.snapshot import Snapshot

LIMITS = SandboxLimits(cpu_time_s=0.5, wall_time_s=10.0, memory_mb=256)  # wall: slack for a loaded CI box

CART_HTML = """<html><body>
<ul id="cart"><li class="item" data-sku="A1">Red mug <span class="qty">2</span></li>
<li class="item" data-sku="B7">Blue plate <span class="qty">1</span></li></ul>
<input id="coupon" name="coupon" value="SAVE10"><a href="/checkout" class="btn primary">Checkout</a>
</body></html>"""

CART_CHECK = """
import re
from collections import Counter

def qty(item):
    return int(re.search(r"(\\d+)$", item["text"]).group(1))

def check(snapshot):
    items = query(snapshot["html"], "#cart li.item")
    total = sum(qty(i) for i in items)
    orders = snapshot["state"]["shop"]["orders"]
    skus = Counter(i["attrs"]["data-sku"] for i in items)
    ok = total == 3 and skus["A1"] == 1 and len(orders) == 1
    return ok, f"{total} units, skus {sorted(skus)}, {len(orders)} orders"
"""


def make_snapshot(html: str = CART_HTML, orders: int = 1) -> dict:
    snap = Snapshot(
        url="http://127.0.0.1:8000/cart?x=1",
        html=html,
        title="Cart",
        answer="3 units",
        state={"shop": {"orders": [{"id": i} for i in range(orders)]}},
    )
    return snap.model_dump(mode="json")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=LIMITS) as box:
        yield box


def assert_refused(result: SandboxResult, *kinds: ErrorKind) -> None:
    assert not result.ok, result
    assert result.score is None
    assert result.error is not None and result.reason, result
    if kinds:
        assert result.error in kinds, result


def assert_pool_works(box: Sandbox) -> None:
    for _ in range(3):  # more than the number of workers: every slot answers
        result = box.run_check(CART_CHECK, make_snapshot())
        assert result.ok and result.score == 1.0, result


# ---- checks that should work ----------------------------------------------------------------


def test_real_check_passes_and_fails_on_the_page_and_state(sandbox):
    passed = sandbox.run_check(CART_CHECK, make_snapshot())
    assert passed.ok and passed.score == 1.0 and passed.error is None
    assert passed.reason == "3 units, skus ['A1', 'B7'], 1 orders"

    failed = sandbox.run_check(CART_CHECK, make_snapshot(orders=0))
    assert failed.ok and failed.score == 0.0 and "0 orders" in failed.reason

    one_item = CART_HTML.replace('<span class="qty">1</span>', '<span class="qty">5</span>')
    assert sandbox.run_check(CART_CHECK, make_snapshot(html=one_item)).score == 0.0


def test_query_returns_tag_text_and_attrs(sandbox):
    code = """
def check(snapshot):
    link = query(snapshot["html"], "a.btn")[0]
    field = query(snapshot["html"], "#coupon")[0]
    print(link, field)
    return (link["tag"] == "a" and link["text"] == "Checkout" and link["attrs"]["href"] == "/checkout"
            and field["attrs"]["value"] == "SAVE10" and query(snapshot["html"], "table") == [])
"""
    result = sandbox.run_check(code, make_snapshot())
    assert result.ok and result.score == 1.0, result
    assert "'href': '/checkout'" in result.output


def test_partial_scores_and_allowed_modules(sandbox):
    code = """
import json, math, string, itertools, functools, statistics, difflib, html, unicodedata
import urllib.parse
from urllib.parse import parse_qs
from urllib import parse
from datetime import datetime

def check(snapshot):
    url = urllib.parse.urlsplit(snapshot["url"])
    parts = [
        parse_qs(url.query) == {"x": ["1"]} and parse.urlparse(snapshot["url"]).path == "/cart",
        datetime.strptime("2024-05-01", "%Y-%m-%d").month == 5,
        difflib.SequenceMatcher(None, snapshot["answer"], "3 units").ratio() == 1.0,
        html.unescape("&amp;") == "&" and unicodedata.normalize("NFC", "e\\u0301") == "\\u00e9",
        "é".encode("latin-1") == b"\\xe9" and json.loads('{"a": 1}')["a"] == 1,
        statistics.mean([1, 2, 3]) == 2 and math.isclose(functools.reduce(max, [1, 3]), 3),
        list(itertools.islice(itertools.count(), 2)) == [0, 1] and string.digits[0] == "0",
        False,
    ]
    return sum(parts) / len(parts), f"{sum(parts)} of {len(parts)}"
"""
    result = sandbox.run_check(code, make_snapshot())
    assert result.ok and result.score == 7 / 8 and result.reason == "7 of 8", result


@pytest.mark.parametrize(
    ("value", "score"),
    [("True", 1.0), ("False", 0.0), ("1", 1.0), ("0", 0.0), ("0.25", 0.25), ("(False, 'nope')", 0.0)],
)
def test_accepted_return_values(sandbox, value, score):
    result = sandbox.run_check(f"def check(snapshot):\n    return {value}\n", make_snapshot())
    assert result.ok and result.score == score and result.reason, result


# ---- bad results ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "None",
        "'yes'",
        "[1]",
        "1.5",
        "-0.1",
        "2",
        "float('nan')",
        "float('inf')",
        "(True,)",
        "(True, 3)",
        "(0.5, 'r', 'x')",
        "{'score': 1}",
        "10 ** 5000",
        "'x' * 10 ** 6",
        "((True, 'a'), 'b')",
    ],
)
def test_bad_return_values_are_errors(sandbox, value):
    result = sandbox.run_check(f"def check(snapshot):\n    return {value}\n", make_snapshot())
    assert_refused(result, ErrorKind.BAD_RETURN)


def test_raised_exceptions_name_the_type_and_line(sandbox):
    code = "def check(snapshot):\n    x = 1\n    raise ValueError('boom')\n"
    result = sandbox.run_check(code, make_snapshot())
    assert_refused(result, ErrorKind.EXCEPTION)
    assert result.reason == "ValueError: boom (line 3)"
    missing_key = sandbox.run_check("def check(snapshot):\n    return snapshot['nope']\n", make_snapshot())
    assert_refused(missing_key, ErrorKind.EXCEPTION)
    assert "KeyError" in missing_key.reason


def test_check_rebound_to_a_non_function(sandbox):
    result = sandbox.run_check("def check(snapshot):\n    return True\ncheck = 3\n", make_snapshot())
    assert_refused(result, ErrorKind.NO_CHECK)


def test_recursion_bomb(sandbox):
    result = sandbox.run_check(
        "def check(snapshot):\n    def f(n):\n        return f(n + 1)\n    return f(0)\n", make_snapshot()
    )
    assert_refused(result, ErrorKind.EXCEPTION)
    assert "RecursionError" in result.reason
    assert_pool_works(sandbox)


# ---- resource limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "def check(snapshot):\n    while True:\n        pass\n",
        # swallowing exceptions does not help: the CPU limit is not an Exception
        "def check(snapshot):\n    while True:\n        try:\n            sum(range(10**6))\n"
        "        except Exception:\n            pass\n",
        "x = 0\nwhile True:\n    x += 1\ndef check(snapshot):\n    return True\n",
    ],
)
def test_infinite_loops_hit_the_cpu_limit(sandbox, code):
    assert_refused(sandbox.run_check(code, make_snapshot()), ErrorKind.CPU_TIME)
    assert_pool_works(sandbox)


# Each of these once returned ok=True, score=1.0: the check caught its own limit.
SWALLOWED_LIMITS = {
    "cpu_finally_return": (
        "def check(snapshot):\n    try:\n        while True:\n            pass\n    finally:\n        return True\n",
        ErrorKind.CPU_TIME,
    ),
    "cpu_finally_keeps_looping": (
        "def check(snapshot):\n    try:\n        while True:\n            pass\n    finally:\n"
        "        while True:\n            pass\n",
        ErrorKind.CPU_TIME,
    ),
    "cpu_module_level_break": (
        "for _ in [0]:\n    try:\n        while True:\n            pass\n    finally:\n        break\n"
        "def check(snapshot):\n    return True\n",
        ErrorKind.CPU_TIME,
    ),
    "output_finally_return": (
        "def check(snapshot):\n    try:\n        print('x' * 10 ** 6)\n    finally:\n        return True\n",
        ErrorKind.OUTPUT_LIMIT,
    ),
    "memory_except_exception": (
        "def check(snapshot):\n    try:\n        return len('a' * 2 ** 34) > 0\n    except Exception:\n"
        "        return True\n",
        ErrorKind.MEMORY,
    ),
    "memory_except_memoryerror": (
        "def check(snapshot):\n    try:\n        return len('a' * 2 ** 34) > 0\n    except MemoryError:\n"
        "        return True\n",
        ErrorKind.MEMORY,
    ),
    "memory_nested_finally": (
        "def check(snapshot):\n    try:\n        try:\n            x = [0] * 10 ** 10\n        except ValueError:\n"
        "            pass\n    finally:\n        return 1.0\n",
        ErrorKind.MEMORY,
    ),
    "memory_in_a_finalizer": (  # raised while gc closes the generator: Python reports it nowhere
        "def gen():\n    try:\n        yield 1\n    finally:\n        x = 'a' * 2 ** 34\n"
        "def check(snapshot):\n    it = gen()\n    next(it)\n    it = None\n    return True\n",
        ErrorKind.MEMORY,
    ),
}


@pytest.mark.parametrize("name", sorted(SWALLOWED_LIMITS))
def test_a_check_cannot_swallow_its_limits(sandbox, name):
    code, kind = SWALLOWED_LIMITS[name]
    assert_refused(sandbox.run_check(code, make_snapshot()), kind)
    assert_pool_works(sandbox)


def test_handlers_still_work_for_ordinary_exceptions(sandbox):
    code = """
def check(snapshot):
    seen = []
    try:
        int("x")
    except ValueError as exc:
        seen.append(str(exc).split(":")[0])
    finally:
        seen.append("finally")
    try:
        return len(seen) == 2, ",".join(seen)
    finally:
        seen.append("after")
"""
    result = sandbox.run_check(code, make_snapshot())
    assert result.ok and result.score == 1.0, result
    assert result.reason == "invalid literal for int() with base 10,finally"


def test_c_level_runaway_is_stopped(sandbox):
    # Catastrophic regex backtracking never returns to the bytecode loop, so the SIGPROF timer
    # cannot interrupt it: RLIMIT_CPU (SIGXCPU) or the wall clock ends it.
    code = "import re\ndef check(snapshot):\n    return bool(re.match(r'(a+)+$', 'a' * 64 + 'b'))\n"
    assert_refused(sandbox.run_check(code, make_snapshot()), ErrorKind.CPU_TIME, ErrorKind.WALL_TIME)
    assert_pool_works(sandbox)


def test_wall_clock_deadline_kills_and_replaces_the_worker():
    limits = SandboxLimits(cpu_time_s=30.0, wall_time_s=0.5, memory_mb=128)
    with Sandbox(workers=1, limits=limits) as box:
        before = box.worker_pids()
        result = box.run_check("def check(snapshot):\n    while True:\n        pass\n", make_snapshot())
        assert_refused(result, ErrorKind.WALL_TIME)
        assert_pool_works(box)
        assert box.worker_pids() != before


@pytest.mark.parametrize(
    "code",
    [
        "def check(snapshot):\n    return len('a' * (2 ** 34)) > 0\n",
        "def check(snapshot):\n    return len([0] * 10 ** 10) > 0\n",
        "def check(snapshot):\n    hog = []\n    while True:\n        hog.append(bytes(10 ** 7))\n",
    ],
)
def test_memory_bombs(sandbox, code):
    assert_refused(sandbox.run_check(code, make_snapshot()), ErrorKind.MEMORY)
    assert_pool_works(sandbox)


@pytest.mark.parametrize(
    "code",
    [
        "def check(snapshot):\n    print('x' * 100_000)\n    return True\n",
        "def check(snapshot):\n    for i in range(10 ** 6):\n        print(i)\n    return True\n",
        "def check(snapshot):\n    return True, 'r' * 100_000\n",
    ],
)
def test_huge_output_is_an_error(sandbox, code):
    result = sandbox.run_check(code, make_snapshot())
    assert_refused(result, ErrorKind.OUTPUT_LIMIT)
    assert len(result.output) <= LIMITS.max_output_bytes
    assert_pool_works(sandbox)


def test_a_crashing_worker_is_an_error():
    # A chain of a million nested iterators overflows the C stack when it is advanced: the worker
    # dies of SIGSEGV (CPython 3.11). The check gets an error, never a pass, and the pool recovers.
    # Building the chain takes ~0.3 s of CPU, more on a loaded box: this sandbox allows 10 s.
    code = (
        "def check(snapshot):\n    it = iter([])\n    for _ in range(10 ** 6):\n        it = map(len, it)\n"
        "    return next(it, True)\n"
    )
    with Sandbox(workers=1, limits=SandboxLimits(cpu_time_s=10.0, wall_time_s=30.0, memory_mb=256)) as box:
        result = box.run_check(code, make_snapshot())
        assert_refused(result, ErrorKind.WORKER_DIED)
        assert "SIGSEGV" in result.reason
        assert_pool_works(box)


def test_worker_killed_mid_check():
    limits = SandboxLimits(cpu_time_s=30.0, wall_time_s=30.0, memory_mb=128)
    with Sandbox(workers=1, limits=limits) as box:
        (pid,) = box.worker_pids()
        results: list[SandboxResult] = []
        runner = threading.Thread(
            target=lambda: results.append(
                box.run_check("def check(snapshot):\n    while True:\n        pass\n", make_snapshot())
            )
        )
        runner.start()
        time.sleep(0.3)  # let the check start looping
        os.kill(pid, signal.SIGKILL)
        runner.join(timeout=10)
        assert_refused(results[0], ErrorKind.WORKER_DIED)
        assert "SIGKILL" in results[0].reason
        assert_pool_works(box)
        assert pid not in box.worker_pids()


# ---- escapes the AST allowlist refuses --------------------------------------------------------

ESCAPES = {
    "import_os": "import os\ndef check(snapshot):\n    return os.getcwd() == '/'\n",
    "fork": "import os\ndef check(snapshot):\n    while True:\n        os.fork()\n",
    "multiprocessing": "import multiprocessing\ndef check(snapshot):\n    return True\n",
    "subprocess": "from subprocess import run\ndef check(snapshot):\n    return run(['id']) is None\n",
    "socket": (
        "import socket\ndef check(snapshot):\n    s = socket.socket()\n"
        "    s.connect(('127.0.0.1', 22))\n    return True\n"
    ),
    "ctypes": "import ctypes\ndef check(snapshot):\n    return True\n",
    "sys": "import sys\ndef check(snapshot):\n    return 'os' in sys.modules\n",
    "importlib": "import importlib\ndef check(snapshot):\n    return True\n",
    "builtins": "import builtins\ndef check(snapshot):\n    return True\n",
    "aliased": "import json, os as o\ndef check(snapshot):\n    return True\n",
    "relative": "from . import sandbox\ndef check(snapshot):\n    return True\n",
    "unlisted_name": "from functools import update_wrapper\ndef check(snapshot):\n    return True\n",
    "dunder_import": "def check(snapshot):\n    return __import__('os').getcwd()\n",
    "subclasses": "def check(snapshot):\n    return ().__class__.__bases__[0].__subclasses__()\n",
    "builtins_name": "def check(snapshot):\n    return __builtins__['open']\n",
    "getattr": "def check(snapshot):\n    return getattr((), '__cl' + 'ass__')\n",
    "getattr_indirect": "import functools\ndef check(snapshot):\n    return functools.partial(getattr, ())('x')\n",
    "type_call": "def check(snapshot):\n    return type(())\n",
    "type_new_class": "def check(snapshot):\n    T = type('T', (), {})\n    return True\n",
    "vars": "def check(snapshot):\n    return vars(check)\n",
    "globals": "def check(snapshot):\n    return globals()\n",
    "eval": "def check(snapshot):\n    return eval('1')\n",
    "exec": "def check(snapshot):\n    exec('x = 1')\n    return True\n",
    "compile": "def check(snapshot):\n    return compile('1', 'x', 'eval')\n",
    "breakpoint": "def check(snapshot):\n    breakpoint()\n",
    "gi_frame": ("def check(snapshot):\n    g = (x for x in [1])\n    return g.gi_frame.f_back.f_globals\n"),
    "tb_frame": (
        "def check(snapshot):\n    try:\n        1 / 0\n    except Exception as e:\n"
        "        return e.__traceback__.tb_frame.f_globals\n"
    ),
    "two_params": "def check(snapshot, e=None):\n    return True\n",
    "format_dunder": "def check(snapshot):\n    return '{0.__class__}'.format(1)\n",
    "format_plain": "def check(snapshot):\n    return '{0.real}'.format(1) == '1'\n",
    "format_map": "def check(snapshot):\n    return '{x.__class__}'.format_map({'x': 1})\n",
    "str_format": "def check(snapshot):\n    return str.format('{0.__class__}', 1)\n",
    "fstring_dunder": "def check(snapshot):\n    return f'{().__class__}' != ''\n",
    "open_secret": "def check(snapshot):\n    return open('/etc/passwd').read()\n",
    "class_def": "class A:\n    pass\ndef check(snapshot):\n    return True\n",
    "attr_assign": "import json\ndef check(snapshot):\n    json.loads = len\n    return True\n",
    "match_class_pattern": ("def check(snapshot):\n    match 1:\n        case int(real=r):\n            return True\n"),
    "bare_except": "def check(snapshot):\n    try:\n        return True\n    except:\n        return False\n",
    "base_exception": (
        "def check(snapshot):\n    try:\n        return True\n    except BaseException:\n        return False\n"
    ),
    "async": "async def check(snapshot):\n    return True\n",
    "dunder_param": "def check(__snapshot):\n    return True\n",
    "mro": "def check(snapshot):\n    return int.mro()\n",
    "no_check": "def verify(snapshot):\n    return True\n",
    "syntax": "def check(snapshot)\n    return True\n",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escapes_are_refused_before_running(sandbox, name):
    result = sandbox.run_check(ESCAPES[name], make_snapshot())
    assert_refused(result, ErrorKind.VALIDATION)
    assert "line" in result.reason or "def check(snapshot)" in result.reason


def test_reading_a_secret_file_is_refused(sandbox, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    for code in (
        f"def check(snapshot):\n    return open({str(secret)!r}).read()\n",
        f"import io\ndef check(snapshot):\n    return io.open({str(secret)!r}).read()\n",
        f"import codecs\ndef check(snapshot):\n    return codecs.open({str(secret)!r}).read()\n",
    ):
        result = sandbox.run_check(code, make_snapshot())
        assert_refused(result, ErrorKind.VALIDATION)
        assert "hunter2" not in result.reason + result.output


def test_validate_code_names_the_construct_and_line():
    with pytest.raises(SandboxError, match=r"line 3: import of 'os' is not allowed"):
        validate_code("import re\n\nimport os\ndef check(snapshot):\n    return True\n")
    with pytest.raises(SandboxError, match=r"line 2: attribute `.__class__` is not allowed"):
        validate_code("def check(snapshot):\n    return ().__class__\n")
    with pytest.raises(SandboxError, match=r"over the limit"):
        validate_code("def check(snapshot):\n    return True\n" + "#" * 100, max_code_bytes=64)
    with pytest.raises(SandboxError, match=r"cannot be parsed|syntax error"):
        validate_code("def check(snapshot):\n    return " + "-" * 200_000 + "1\n", max_code_bytes=10**6)
    validate_code(CART_CHECK)  # accepted code passes silently


# ---- escapes that pass the AST: the worker's views and builtins stop them ----------------------


@pytest.mark.parametrize(
    "code",
    [
        "import urllib.parse\ndef check(snapshot):\n    return urllib.parse.sys.modules\n",
        "import json\ndef check(snapshot):\n    return json.decoder.scanstring\n",
        "import string\ndef check(snapshot):\n    return string.Formatter().get_field('0.__class__', [1], {})\n",
        "import functools\ndef check(snapshot):\n    return functools.update_wrapper\n",
        "import re\ndef check(snapshot):\n    return re.sre_compile\n",
    ],
)
def test_module_views_hide_everything_unlisted(sandbox, code):
    result = sandbox.run_check(code, make_snapshot())
    assert_refused(result, ErrorKind.EXCEPTION)
    assert "AttributeError" in result.reason


@pytest.mark.parametrize(
    ("code", "exception"),
    [
        ("def check(snapshot):\n    return open('/etc/hostname').read()\n", "NameError"),
        ("def check(snapshot):\n    return __import__('os').getcwd()\n", "ImportError"),
        ("import os\ndef check(snapshot):\n    return os.fork()\n", "ImportError"),
        ("def check(snapshot):\n    return getattr((), '__class__')\n", "NameError"),
        ("def check(snapshot):\n    return type(()).__subclasses__()\n", "NameError"),
        ("def check(snapshot):\n    return __builtins__['eval']('1')\n", "KeyError"),
    ],
)
def test_worker_builtins_stop_code_that_skipped_the_ast_check(code, exception):
    worker = _Worker(LIMITS)  # talk to a worker directly, as if validate_code had a hole
    try:
        worker.wait_ready()
        response = worker.request(code, json.dumps(make_snapshot()).encode())
    finally:
        worker.dispose()
    assert response["error"] == ErrorKind.EXCEPTION and response["score"] is None
    assert response["reason"].startswith(exception), response


# The worker's own OS layer, with real builtins (as if every layer above had a hole). `as_user`:
# "root" keeps the test's uid (root drops to nobody in `harden`); "nobody" gives up root first,
# after the imports, as a worker started by an unprivileged user would run.
PROBE_PRELUDE = """
import json, os, socket, sys
sys.path.insert(0, sys.argv[1])
import sandbox_worker as w
w.preload()
if sys.argv[2] == "nobody" and os.geteuid() == 0:
    os.setgroups([])
    os.setgid(w.NOBODY_ID)
    os.setuid(w.NOBODY_ID)
"""
OS_LAYER_PROBE = (
    PROBE_PRELUDE
    + """
applied = w.harden(memory_mb=128, worker_cpu_budget_s=60)
os.close(2)  # frees the lowest descriptor number: the fd limit must not count on it
out = {"applied": applied}
def attempt(name, fn):
    try:
        fn()
        out[name] = "allowed"
    except OSError as exc:
        out[name] = type(exc).__name__
attempt("read", lambda: open(sys.argv[3]).read())
attempt("write", lambda: open(sys.argv[5], "w"))
attempt("socket", lambda: socket.create_connection(("127.0.0.1", int(sys.argv[4])), timeout=1))
attempt("pipe", os.pipe)
attempt("dup", lambda: os.dup(1))
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
attempt("fork", fork)
os.write(1, json.dumps(out).encode())
"""
)
# The network layer alone (no fd limit): `isolate` says whether to apply it, so the same probe
# shows that without it the listener is reachable.
NETWORK_PROBE = (
    PROBE_PRELUDE
    + """
how = w.isolate_network(w._libc()) if sys.argv[3] == "isolate" else "none"
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[4])), timeout=5).close()
    result = "connected"
except OSError as exc:
    result = type(exc).__name__
print(json.dumps({"how": how, "result": result, "uid": os.geteuid()}))
"""
)
AS_USERS = ["root", "nobody"]


def run_probe(probe: str, as_user: str, *args: str) -> dict:
    import domplay.verify.sandbox_worker as worker_module

    if as_user == "root" and os.geteuid() != 0:
        pytest.skip("the root path needs a test run as root; this run is not (the nobody path is tested)")
    proc = subprocess.run(
        [sys.executable, "-I", "-c", probe, os.path.dirname(worker_module.__file__), as_user, *args],
        capture_output=True,
        timeout=60,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout)
    return out


@pytest.mark.parametrize("as_user", AS_USERS)
def test_os_layer_blocks_files_sockets_and_processes(tmp_path, as_user):
    """The rlimits/uid/netns layer alone, with real builtins and stderr closed: nothing gets out."""
    import socket

    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    written = tmp_path / "written.txt"
    tmp_path.chmod(0o777)  # nobody may read the secret and write here: only the sandbox stops it
    secret.chmod(0o644)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        out = run_probe(OS_LAYER_PROBE, as_user, str(secret), str(listener.getsockname()[1]), str(written))
    for name in ("read", "write", "socket", "pipe", "dup"):
        assert out[name] != "allowed", out
    assert out["applied"]["uid"] != 0 and out["applied"]["network_isolation"] is not None, out
    assert out["fork"] != "allowed", out  # RLIMIT_NPROC: the worker never runs as root
    assert not written.exists()


@pytest.mark.parametrize("as_user", AS_USERS)
def test_network_is_cut_off_with_or_without_root(as_user):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = str(listener.getsockname()[1])
        control = run_probe(NETWORK_PROBE, as_user, "none", port)
        isolated = run_probe(NETWORK_PROBE, as_user, "isolate", port)
    assert control["result"] == "connected", control  # the probe can see a reachable network
    if isolated["how"] is None and as_user == "nobody":
        pytest.skip(
            "this kernel refuses unprivileged user namespaces (kernel.unprivileged_userns_clone or an "
            "AppArmor policy): a non-root worker relies on RLIMIT_NOFILE=0 alone to block sockets"
        )
    expected_how = "network namespace" if as_user == "root" else "user and network namespaces"
    assert isolated["how"] == expected_how and (isolated["uid"] == 0) == (as_user == "root"), isolated
    assert isolated["result"] != "connected", isolated


NON_ROOT_SANDBOX = """
import json, sys
sys.path.insert(0, sys.argv[3])
from domplay.verify.sandbox import Sandbox, SandboxLimits
with Sandbox(workers=1, limits=SandboxLimits(cpu_time_s=0.5, wall_time_s=10.0, memory_mb=256)) as box:
    results = [box.run_check(code, json.loads(sys.argv[2])) for code in json.loads(sys.argv[1])]
    print(json.dumps({"hardening": box.hardening, "results": [[r.score, r.error] for r in results]}))
"""


def test_the_sandbox_as_a_non_root_user():
    """The whole pool started by an unprivileged user: checks score, limits hold, network is cut."""
    import shutil

    command = [sys.executable, "-I", "-c", NON_ROOT_SANDBOX]
    if os.geteuid() == 0:  # a user namespace where this uid is 65534: no root, same files readable
        if shutil.which("unshare") is None:
            pytest.skip("running as root and util-linux `unshare` is missing: no way to start as non-root")
        command = ["unshare", "--user", "--map-user=65534", "--map-group=65534", *command]
    codes = [CART_CHECK, *(SWALLOWED_LIMITS[name][0] for name in ("cpu_finally_return", "memory_except_exception"))]
    src = os.path.dirname(os.path.dirname(domplay.__file__))  # the checkout's src/
    proc = subprocess.run(
        [*command, json.dumps(codes), json.dumps(make_snapshot()), src], capture_output=True, timeout=120, cwd="/"
    )
    if proc.returncode != 0 and b"unshare failed" in proc.stderr:
        pytest.skip(f"this kernel refuses user namespaces: {proc.stderr.decode().strip()}")
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout)
    assert out["results"] == [[1.0, None], [None, ErrorKind.CPU_TIME], [None, ErrorKind.MEMORY]], out
    assert out["hardening"]["uid"] != 0 and "setuid_error" not in out["hardening"], out
    assert out["hardening"]["network_isolation"] == "user and network namespaces", out


# ---- the pool ---------------------------------------------------------------------------------


def test_hardening_is_reported(sandbox):
    assert sandbox.hardening["memory_limit_bytes"] > LIMITS.memory_mb * 2**20
    assert len(sandbox.worker_pids()) == 2


def test_threads_share_the_pool(sandbox):
    snapshots = [make_snapshot(orders=i % 2) for i in range(24)]
    results: list[tuple[int, SandboxResult]] = []
    lock = threading.Lock()

    def work(indices: range) -> None:
        for i in indices:
            result = sandbox.run_check(CART_CHECK, snapshots[i])
            with lock:
                results.append((i, result))

    threads = [threading.Thread(target=work, args=(range(k, 24, 4),)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 24
    for i, result in results:
        assert result.ok and result.score == float(i % 2), (i, result)


def test_snapshot_must_be_json_data(sandbox):
    with pytest.raises(SandboxError, match="model_dump"):
        sandbox.run_check(CART_CHECK, {"html": object()})
    with pytest.raises(SandboxError, match="model_dump"):
        sandbox.run_check(CART_CHECK, {"x": math.nan})


def test_closed_sandbox_refuses_work():
    box = Sandbox(workers=1, limits=LIMITS)
    pids = box.worker_pids()
    box.close()
    with pytest.raises(SandboxError, match="closed"):
        box.run_check(CART_CHECK, make_snapshot())
    for pid in pids:  # the workers are gone (reaped: no such process)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cpu_time_s": 0},
        {"wall_time_s": -1.0},
        {"memory_mb": 0},
        {"max_output_bytes": 1.5},
        {"cpu_time_s": math.nan},
        {"cpu_time_s": 100.0, "worker_cpu_budget_s": 50.0},
    ],
)
def test_limits_are_validated(kwargs):
    with pytest.raises(ConfigError):
        SandboxLimits(**kwargs)


def test_workers_must_be_positive():
    with pytest.raises(ConfigError, match="workers"):
        Sandbox(workers=0)
