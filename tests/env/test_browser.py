"""BrowserEnv in real Chromium against real servers on 127.0.0.1.

One browser serves the whole session (BrowserEnv uses the thread's shared pool); each
env is one context. The escape tests run a second, "outside" server and assert it never
received a request.
"""

from __future__ import annotations

import re
import struct

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from domplay.env.browser import SCREENSHOT_INFO_KEY, BrowserEnv, BrowserEnvConfig
from domplay.env.browser_pool import BrowserConfig, BrowserPool
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.observation import ObservationConfig
from domplay.errors import BrowserError, ConfigError
from domplay.sites.app import SitesApp
from domplay.sites.server import SiteServer
from tests.env.browser_support import needs_chromium, serve

pytestmark = [pytest.mark.browser, needs_chromium]


# -- servers ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def outside():
    """A server outside every allowlist; `hits` records each request it gets."""
    hits: list[str] = []

    async def anything(request: Request) -> Response:
        hits.append(str(request.url))
        return HTMLResponse("<title>outside</title><h1>You escaped</h1>")

    server = serve(Starlette(routes=[Route("/{path:path}", anything)]))
    server.hits = hits  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def inside(outside):
    out = outside.base_url

    later = "document.getElementById('later').textContent"

    async def home(request: Request) -> Response:
        return HTMLResponse(f"""<!doctype html><html><head><title>Home</title>
<style>.gone {{ display: none }}</style></head><body>
<h1>Test home</h1>
<a id="local" href="/echo">Local link</a>
<a id="out" href="{out}/link">Outside link</a>
<a id="redir" href="/redirect-out">Redirecting link</a>
<a id="file" href="file:///etc/passwd">File link</a>
<a id="data" href="data:text/html,<h1>data</h1>">Data link</a>
<a id="dl" href="/download">Download report</a>
<a id="blank" href="/echo?from=blank" target="_blank">New tab link</a>
<button id="pop" onclick="window.open('{out}/popup')">Open popup</button>
<button id="ws" onclick="try {{ new WebSocket('{out.replace("http", "ws")}/ws') }} catch (e) {{}}">Open socket</button>
<button id="frame" onclick="const f = document.createElement('iframe');
  f.src = '{out}/frame'; document.body.append(f)">Add frame</button>
<button id="fetch-out" onclick="fetch('{out}/fetch').catch(() => {{}})">Fetch outside</button>
<p class="gone">Hidden by stylesheet</p>
<button onclick="setTimeout(() => {{ {later} = 'Timer ran'; }})">Defer by timer</button>
<button onclick="requestAnimationFrame(() => {{ {later} = 'Frame ran'; }})">Defer by frame</button>
<button onclick="clearTimeout(setTimeout(() => {{ {later} = 'Cleared ran'; }}, 0))">Defer and cancel</button>
<p id="later">Nothing ran</p>
<label for="when">When</label> <input id="when" type="date">
<label for="count">Count</label> <input id="count" type="number">
<label for="code">Code</label> <input id="code">
<form method="post" action="/echo">
<label for="name">Name</label> <input id="name" name="name">
<label for="size">Size</label> <select id="size" name="size"><option>Small</option><option>Large</option></select>
<label><input type="checkbox" name="gift" value="yes"> Gift wrap</label>
<label for="note">Note</label> <textarea id="note" name="note"></textarea>
<button type="submit">Send</button>
</form>
</body></html>""")

    async def echo(request: Request) -> Response:
        form = dict(await request.form()) if request.method == "POST" else dict(request.query_params)
        items = "".join(f'<li class="field" data-name="{k}">{k}={v}</li>' for k, v in sorted(form.items()))
        return HTMLResponse(f"<title>Echo</title><h1>Echo</h1><ul>{items}</ul><a href='/'>Home</a>")

    routes = [
        Route("/", home),
        Route("/echo", echo, methods=["GET", "POST"]),
        Route("/redirect-out", lambda r: RedirectResponse(f"{out}/redirected", 302)),
        Route(
            "/download",
            lambda r: PlainTextResponse("a,b\n", headers={"content-disposition": "attachment; filename=r.csv"}),
        ),
    ]
    server = serve(Starlette(routes=routes))
    yield server
    server.stop()


@pytest.fixture
def env(inside):
    e = BrowserEnv(BrowserEnvConfig(base_url=inside.base_url, max_steps=50))
    yield e
    e.close()


@pytest.fixture(scope="module")
def sites_server():
    sites = SitesApp(seed=0, names=["forum", "shop"])
    with SiteServer(sites) as server:
        yield server


def ids(obs, role=None, name=None) -> list[int]:
    return [e.id for e in obs.elements if (role is None or e.role == role) and (name is None or e.name == name)]


def one(obs, role, name) -> int:
    found = ids(obs, role, name)
    assert len(found) == 1, (role, name, obs.text)
    return found[0]


# -- launch ---------------------------------------------------------------------------------
@pytest.mark.browser
def test_missing_chromium_is_a_clear_browser_error(tmp_path):
    pool = BrowserPool(BrowserConfig(executable_path=str(tmp_path / "no-chromium")))
    with pytest.raises(BrowserError, match="apt-get install -y chromium") as info:
        _ = pool.browser
    assert str(tmp_path / "no-chromium") in str(info.value)


# -- actions on pages ---------------------------------------------------------------------
def test_form_fill_select_check_and_submit(env):
    obs, _ = env.reset(options={"start_url": "/"})
    assert "Hidden by stylesheet" not in obs.text  # computed style, not just inline style
    obs, *_ = env.step(f'fill({one(obs, "textbox", "Name")}, "Ada")')
    assert obs.error is None and obs.element(one(obs, "textbox", "Name")).value == "Ada"
    obs, *_ = env.step(f'select({one(obs, "combobox", "Size")}, "large")')
    assert obs.element(one(obs, "combobox", "Size")).value == "Large"
    obs, *_ = env.step(f"click({one(obs, 'checkbox', 'Gift wrap')})")
    assert obs.element(one(obs, "checkbox", "Gift wrap")).checked is True
    obs, *_ = env.step(f'fill({one(obs, "textbox", "Note")}, "two\\nlines")')
    assert obs.element(one(obs, "textbox", "Note")).value == "two\nlines"
    obs, *_ = env.step(f"click({one(obs, 'button', 'Send')})")
    assert obs.title == "Echo" and obs.url.endswith("/echo")
    fields = {e.name for e in obs.elements if e.role == "text"}
    assert {"name=Ada", "size=Large", "gift=yes", "note=two\nlines".replace("\n", " ")} <= fields
    obs, *_ = env.step("back()")
    assert obs.title == "Home"


def test_press_enter_submits_and_links_navigate(env):
    obs, _ = env.reset(options={"start_url": "/"})
    env.step(f'fill({one(obs, "textbox", "Name")}, "Bo")')
    obs, *_ = env.step(f'press({one(obs, "textbox", "Name")}, "Enter")')
    assert obs.title == "Echo" and "name=Bo" in obs.text
    obs, *_ = env.step(f"click({one(obs, 'link', 'Home')})")
    obs, *_ = env.step(f"click({one(obs, 'link', 'Local link')})")
    assert obs.url.endswith("/echo") and obs.error is None
    obs, *_ = env.step('goto("/echo?x=1")')
    assert "x=1" in obs.text


def test_actions_by_name_and_a_missing_name_as_an_observation(env):
    obs, _ = env.reset(options={"start_url": "/"})
    for action in ['fill("Name", "Ada")', 'select("Size", "Large")', 'click("Gift wrap")', 'fill("Note", "hi")']:
        obs, *_ = env.step(action)
        assert obs.error is None, (action, obs.error)
    obs, *_ = env.step('click("Sned")')
    assert "did you mean 'Send'" in obs.error and obs.title == "Home"
    obs, *_ = env.step('click("Send")')
    fields = {e.name for e in obs.elements if e.role == "text"}
    assert obs.title == "Echo" and {"name=Ada", "size=Large", "gift=yes", "note=hi"} <= fields


@pytest.mark.parametrize(
    ("button", "shown"),
    [("Defer by timer", "Timer ran"), ("Defer by frame", "Frame ran"), ("Defer and cancel", "Nothing ran")],
)
def test_observation_shows_updates_a_click_deferred(env, button, shown):
    # the observe script waits for the zero-delay timeouts and animation frames queued before it
    # started, and not for a cleared one
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step(f'click("{button}")')
    assert obs.error is None and shown in obs.text, obs.text
    assert env.page.evaluate("window.__dpSoon.size") == 0  # nothing left for the next observation to wait for


def test_fill_sets_typed_and_valued_inputs_and_refuses_what_the_page_refuses(env):
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step('fill("When", " 2026-12-05 ")')  # a date takes its value (trimmed), not keystrokes
    assert obs.error is None and obs.element(one(obs, "textbox", "When")).value == "2026-12-05"
    obs, *_ = env.step('fill("Count", "three")')
    assert "cannot type text into a number input" in obs.error
    obs, *_ = env.step('fill("Count", "3")')
    assert obs.error is None and obs.element(one(obs, "textbox", "Count")).value == "3"
    obs, *_ = env.step('fill("Code", "A1")')
    assert obs.error is None and obs.element(one(obs, "textbox", "Code")).value == "A1"
    env.page.evaluate("() => { document.getElementById('code').readOnly = true; }")  # as a page script would
    obs, *_ = env.step('fill("Code", "B2")')  # read-only now, though the last observation did not say so
    assert "is read-only" in obs.error and obs.element(one(obs, "textbox", "Code")).value == "A1"


def test_target_blank_link_opens_in_the_same_tab(env):
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step(f"click({one(obs, 'link', 'New tab link')})")
    assert obs.error is None and "from=blank" in obs.text
    assert len(env.page.context.pages) == 1


def test_malformed_actions_become_observation_errors(env):
    obs, _ = env.reset(options={"start_url": "/"})
    for bad, expected in [
        ("click(", "cannot parse"),
        ("explode(3)", "unknown action"),
        ("click(999)", "no element [999]"),
        ('fill(1, "x")', "cannot be filled"),
    ]:
        obs, reward, terminated, _, _ = env.step(bad)
        assert obs.error is not None and expected in obs.error, (bad, obs.error)
        assert not terminated and reward == 0.0
    assert obs.title == "Home"


def test_same_observation_as_domenv_on_built_in_pages(sites_server):
    config = {"base_url": sites_server.base_url}
    # DomEnv over HTTP: its in-process transport cannot run beside Playwright's event loop.
    dom = DomEnv(DomEnvConfig(**config))
    browser = BrowserEnv(BrowserEnvConfig(**config), sites=sites_server.sites)
    try:
        for start in ("/forum/", "/shop/"):
            d_obs, _ = dom.reset(options={"start_url": start})
            b_obs, _ = browser.reset(options={"start_url": start})
            assert b_obs.text == d_obs.text
            assert [e.stamp for e in b_obs.elements] == [e.stamp for e in d_obs.elements]
        link = next(e for e in b_obs.elements if e.role == "link" and e.href and e.href.startswith("/shop/"))
        d_obs, *_ = dom.step(f"click({link.id})")
        b_obs, *_ = browser.step(f"click({link.id})")
        assert b_obs.url == d_obs.url and b_obs.text == d_obs.text
    finally:
        dom.close()
        browser.close()


def test_compact_and_lines_renderings_match_domenv(sites_server):
    """Both envs group the same elements into the same compact lines (a listing of product cards,
    a table) and render the old per-element lines alike."""
    for fmt in ("compact", "lines"):
        config = {"base_url": sites_server.base_url, "observation": ObservationConfig(max_tokens=4096, format=fmt)}
        dom = DomEnv(DomEnvConfig(**config))
        browser = BrowserEnv(BrowserEnvConfig(**config), sites=sites_server.sites)
        try:
            for start in ("/shop/category/electronics", "/forum/search"):
                d_obs, _ = dom.reset(options={"start_url": start})
                b_obs, _ = browser.reset(options={"start_url": start})
                assert b_obs.text == d_obs.text and b_obs.cut_note is None
                assert b_obs.elements == d_obs.elements
                if fmt == "compact":
                    card_or_row = r'^"[^"]+" [\w ]+ \$\d' if "/shop/" in start else r" \| "  # name brand $price
                    assert re.search(card_or_row, b_obs.text, re.MULTILINE)
        finally:
            dom.close()
            browser.close()


# -- the allowlist --------------------------------------------------------------------------
@pytest.mark.parametrize("link", ["Outside link", "Redirecting link", "File link", "Data link"])
def test_links_out_of_the_allowlist_are_blocked(env, outside, link):
    before = len(outside.hits)
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step(f"click({one(obs, 'link', link)})")
    assert obs.url.startswith(env.config.base_url) and obs.title == "Home"
    if link in ("Outside link", "Redirecting link"):
        assert obs.error is not None and "outside the allowed sites" in obs.error
    assert len(outside.hits) == before


@pytest.mark.parametrize(
    "url", ["{out}/goto", "file:///etc/passwd", "data:text/html,<h1>x</h1>", "javascript:alert(1)", "chrome://version"]
)
def test_goto_outside_is_an_error_not_a_crash(env, outside, url):
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step(f'goto("{url.format(out=outside.base_url)}")')
    assert obs.error is not None and "outside the allowed sites" in obs.error
    assert obs.title == "Home"
    assert outside.hits == [] or not any(h.endswith("/goto") for h in outside.hits)


@pytest.mark.parametrize("button", ["Open popup", "Open socket", "Add frame", "Fetch outside"])
def test_scripts_cannot_reach_outside(env, outside, button):
    before = len(outside.hits)
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step(f"click({one(obs, 'button', button)})")
    env.page.wait_for_timeout(200)  # give a stray request time to arrive if it could
    assert len(outside.hits) == before
    assert len(env.page.context.pages) == 1
    if button == "Open popup":
        assert obs.error is not None and "new window was blocked" in obs.error


def test_downloads_are_refused(env):
    obs, _ = env.reset(options={"start_url": "/"})
    obs, *_ = env.step(f"click({one(obs, 'link', 'Download report')})")
    assert obs.title == "Home"
    obs, *_ = env.step('goto("/download")')
    assert obs.error is not None and obs.title == "Home"


def test_start_url_outside_the_allowlist_is_a_config_error(inside, outside):
    e = BrowserEnv(BrowserEnvConfig(base_url=inside.base_url, allowed_origins=(inside.base_url,)))
    try:
        with pytest.raises(ConfigError, match="outside the allowed origins"):
            e.reset(options={"start_url": f"{outside.base_url}/start"})
    finally:
        e.close()


# -- episodes -------------------------------------------------------------------------------
def test_reset_starts_clean(env, inside):
    obs, _ = env.reset(options={"start_url": "/"})
    first_ns = env.ns
    env.step(f"click({one(obs, 'link', 'Local link')})")
    env.page.evaluate("() => { localStorage.setItem('k', 'v'); document.cookie = 'extra=1; path=/'; }")
    obs, _ = env.reset(options={"start_url": "/"})
    assert env.ns != first_ns
    cookies = {c["name"]: c["value"] for c in env.page.context.cookies()}
    assert cookies == {"dp_ns": env.ns}
    assert env.page.evaluate("() => localStorage.getItem('k')") is None
    obs, *_ = env.step("back()")
    assert obs.error is not None and "no previous page" in obs.error


def test_two_concurrent_episodes_are_isolated(inside):
    a = BrowserEnv(BrowserEnvConfig(base_url=inside.base_url))
    b = BrowserEnv(BrowserEnvConfig(base_url=inside.base_url))
    try:
        obs_a, _ = a.reset(options={"start_url": "/"})
        obs_b, _ = b.reset(options={"start_url": "/"})
        assert a.ns != b.ns
        a.step(f'fill({one(obs_a, "textbox", "Name")}, "only in a")')
        obs_b, *_ = b.step(f'fill({one(obs_b, "textbox", "Name")}, "only in b")')
        obs_a = a.observation
        assert obs_a.element(one(obs_a, "textbox", "Name")).value == "only in a"
        assert obs_b.element(one(obs_b, "textbox", "Name")).value == "only in b"
        assert a.page.context is not b.page.context
        assert a.page.context.cookies()[0]["value"] == a.ns
        assert b.page.context.cookies()[0]["value"] == b.ns
    finally:
        a.close()
        b.close()


def test_snapshot_and_screenshot(env):
    obs, _ = env.reset(options={"start_url": "/"})
    env.step(f'fill({one(obs, "textbox", "Name")}, "Snap")')
    obs, reward, terminated, _, _ = env.step('answer("done")')
    assert terminated and reward == 0.0
    snap = env.snapshot()
    assert snap.answer == "done" and 'value="Snap"' in snap.html and snap.state == {}
    assert snap.actions[0].target is not None and snap.actions[0].target.attrs["id"] == "name"
    png = env.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 800)


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) from a baseline or progressive JPEG's start-of-frame segment."""
    i = 2
    while i < len(jpeg):
        marker, length = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC2):
            height, width = struct.unpack(">HH", jpeg[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no start-of-frame segment in the JPEG")


def test_screenshots_come_in_info_when_asked_for(inside):
    shooting = BrowserEnv(BrowserEnvConfig(base_url=inside.base_url, screenshots=True, screenshot_jpeg_quality=60))
    try:
        obs, info = shooting.reset(options={"start_url": "/"})
        home = info[SCREENSHOT_INFO_KEY]
        obs, _, _, _, info = shooting.step(f"click({one(obs, 'link', 'Local link')})")
        echo = info[SCREENSHOT_INFO_KEY]
        assert obs.title == "Echo"
        for jpeg in (home, echo):
            assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
            assert jpeg_size(jpeg) == (1280, 800)  # the viewport, not the full page
        assert home != echo  # taken after the step, of the page it led to
    finally:
        shooting.close()


def test_no_screenshots_by_default(env):
    _, info = env.reset(options={"start_url": "/"})
    assert SCREENSHOT_INFO_KEY not in info
    *_, info = env.step('answer("x")')
    assert SCREENSHOT_INFO_KEY not in info


@pytest.mark.parametrize("quality", [0, 101])
def test_screenshot_quality_out_of_range_is_a_config_error(quality):
    with pytest.raises(ConfigError, match=f"screenshot_jpeg_quality={quality}"):
        BrowserEnvConfig(screenshots=True, screenshot_jpeg_quality=quality)


def test_gymnasium_env_checker(env):
    from gymnasium.utils.env_checker import check_env

    check_env(env.unwrapped, skip_render_check=True)
