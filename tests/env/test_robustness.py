"""Nothing a model reply or a page says crashes an env: at worst it is an error the agent sees.

Property-based (hypothesis) over the action parser and over DomEnv steps with arbitrary replies, plus
the replies and pages that once raised (issue 21). Example counts are kept small so this runs in
seconds; `derandomize` makes CI see the same examples every run.
"""

from __future__ import annotations

import gc
import json
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import ActionError, PageError
from tests.env.formsite import FormSite
from tests.fuzz import FUZZ, HOSTILE_REPLIES, replies

BASE = "http://127.0.0.1:8000"


@FUZZ
@given(replies)
def test_the_parser_raises_nothing_but_action_errors(reply: str) -> None:
    try:
        action = A.parse_action(reply)
    except ActionError:
        return
    text = A.format_action(action)
    text.encode("utf-8")  # what is parsed can be stored
    assert A.parse_action(text) == action


@pytest.fixture(scope="module")
def site() -> FormSite:
    return FormSite()


@pytest.fixture(scope="module")
def env(site: FormSite):
    e = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form", max_steps=1000), sites=site)
    yield e
    e.close()


def _stored(obs, env: DomEnv) -> None:
    """The observation and the snapshot (action log, answer, page) serialize as the run store writes them."""
    obs.text.encode("utf-8")
    json.loads(env.snapshot().model_dump_json())


@pytest.mark.parametrize("reply", HOSTILE_REPLIES, ids=range(len(HOSTILE_REPLIES)))
def test_hostile_replies_are_error_steps(env: DomEnv, reply: str) -> None:
    env.reset()
    obs, _, terminated, _, _ = env.step(reply)
    if reply in ('answer("\ud800")', "\ud800"):  # a lone surrogate passed straight to step()
        assert "not valid Unicode" in obs.error
    if reply.startswith("goto"):
        assert obs.error is not None
    assert not terminated or obs.error is None
    _stored(obs, env)


@FUZZ
@given(st.lists(replies, min_size=1, max_size=3))
def test_env_steps_with_arbitrary_replies_never_raise(env: DomEnv, steps: list[str]) -> None:
    env.reset()
    for reply in steps:
        obs, _, terminated, _, _ = env.step(reply)
        _stored(obs, env)
        if terminated:
            break


class PageSite:
    """Serves whatever HTML a test puts in `pages` (path -> (content type, body)); `/crash` raises."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}

        async def serve(request):
            path = request.url.path
            if path == "/crash":
                raise RuntimeError("the app broke")
            ctype, body = self.pages.get(path, ("text/html", b"<p>not found</p>"))
            return Response(body, media_type=None, headers={"content-type": ctype})

        self.asgi = Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "POST"])])

    def state_json(self, ns: str) -> dict:
        return {}

    def drop(self, ns: str) -> None:
        pass


HOSTILE_PAGE = """<html><body>
<a href="http://[x/">bad ipv6</a> <a href="/\x01x">control</a> <a href="http://ex\uff03ample.com/">nfkc</a>
<a href="/charset">bad charset</a> <a href="/crash">crash</a> <a href="/deep">deep</a>
<a href="/sh\nop">newline</a> <a href="http://127.0.0.1:8000:99/">two ports</a>
<form action="http://[x" method="post"><input name="q" aria-label="q1"><button>Send v6</button></form>
<form id='a"b'></form><input form='a"b' name="z" aria-label="outside">
<label for='x"]'>weird label</label>
<input name="p" aria-label="patterned" pattern="(" minlength="²" form="f"><form id="f"><button>Send f</button></form>
</body></html>"""


@pytest.fixture(scope="module")
def page_env():
    site = PageSite()
    site.pages["/"] = ("text/html", HOSTILE_PAGE.encode())
    site.pages["/charset"] = ("text/html; charset=no-such-charset", "<p>caf\u00e9</p>".encode())
    site.pages["/deep"] = ("text/html", ("<div>" * 5000 + '<a href="/">inside</a>' + "</div>" * 5000).encode())
    e = DomEnv(DomEnvConfig(base_url=BASE, start_url="/", max_steps=1000), sites=site)
    yield e, site
    e.close()


def test_hostile_pages_are_error_steps_or_pages(page_env) -> None:
    env, site = page_env
    site.pages["/"] = ("text/html", HOSTILE_PAGE.encode())
    obs, _ = env.reset()
    names = [e.name for e in obs.elements if e.interactive]
    for name in names:
        for action in (f"click({json.dumps(name)})", f"press({json.dumps(name)}, 'Enter')"):
            env.reset()
            obs, *_ = env.step(action)
            _stored(obs, env)
    env.reset()
    assert "not a valid URL" in env.step('click("bad ipv6")')[0].error
    assert "control character" in env.step('click("control")')[0].error
    env.reset()
    assert env.step('click("bad charset")')[0].error is None  # decoded as UTF-8, as a browser falls back
    env.reset()
    obs = env.step('click("crash")')[0]  # the in-process app raised: a 500 answer, as from a server
    assert "not a web page (content-type text/plain)" in obs.error
    env.reset()
    assert env.step('click("deep")')[0].error is None  # markup nested past the walk's limit is left out


def test_a_start_page_that_cannot_be_read_is_a_page_error(page_env) -> None:
    env, _ = page_env
    with pytest.raises(PageError, match="not a valid URL"):
        env.reset(options={"start_url": "http://[::1"})


attribute_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["http://[x/", "/\x00", "javascript:x", "//evil.example/", "?q=1#f", "(", "²", 'a"b', "\ud800"]),
)


@FUZZ
@given(href=attribute_values, action=attribute_values, form=attribute_values, pattern=attribute_values, text=replies)
def test_arbitrary_attributes_never_crash_a_step(page_env, href, action, form, pattern, text) -> None:
    env, site = page_env
    page = (
        f'<a href="{href}">go</a><form id="f1" action="{action}" method="post">'
        f'<input name="a" aria-label="field" pattern="{pattern}" minlength="{pattern}" type="{form}">'
        f'<button formaction="{href}">send</button></form><input form="{form}" name="b" aria-label="other">'
        f'<label for="{form}">{text}</label>'
    )
    site.pages["/"] = ("text/html; charset=utf-8", page.encode("utf-8", "surrogatepass"))
    env.reset()
    for step in ('click("go")', 'fill("field", "x")', 'click("send")', 'press("other", "Enter")', text):
        obs, _, terminated, _, _ = env.step(step)
        _stored(obs, env)
        if terminated:
            break
        env.reset()


def test_close_leaves_no_open_event_loop(site: FormSite) -> None:
    env = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form"), sites=site)
    env.reset()
    env.step('click("Home")')
    gc.collect()  # what earlier tests left unreachable is theirs, not this env's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env.close()
        del env
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]


def test_gymnasium_makes_a_dom_env_by_id() -> None:
    import gymnasium as gym

    import domplay.env

    env = gym.make(domplay.env.DOM_ENV_ID, sites=["shop"], start_url="/shop/", max_steps=3)
    obs, _ = env.reset(seed=0)
    assert obs.url.endswith("/shop/") and any(e.name.startswith("Cart (") for e in obs.elements)
    obs, reward, _, _, _ = env.step('click("Cart (0)")')
    assert obs.error is None and obs.url.endswith("/shop/cart") and reward == 0.0
    gc.collect()  # what earlier tests left unreachable is theirs, not this env's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env.close()
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    gym.make("domplay.env:domplay/DomEnv-v0", sites=["shop"]).close()  # gymnasium's module:id form
