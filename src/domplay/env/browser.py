"""BrowserEnv: the same gymnasium env as DomEnv, driven through a real Chromium (Playwright).

Per observation there is one `page.evaluate` of `browser_observe.js`: it waits for the
page to settle, stamps elements (`data-dp`), reflects live form values into attributes,
marks what the browser does not render (`data-dp-hidden`) and returns the HTML, which
`observation.extract_page` turns into the same Observation DomEnv would build. Actions
find their element by stamp (`[data-dp="17"]`) and use trusted input events through
Playwright's mouse and keyboard: a click is a real mouse click at the centre of the
element's first box (`browser_click_point.js`); fill, select and press are prepared by
`browser_input.js` as Playwright's forced actions prepare them. Neither waits for
actionability nor needs Playwright's injected script (40-80 ms to set up on each new
document).

One Chromium per thread is shared (`browser_pool.shared_pool`); each env owns one
context and one page, reused across episodes: reset clears cookies and storage, sets a
fresh `dp_ns` namespace cookie, opens the start URL and forgets the tab history. The
context is kept inside the origin allowlist by `browser_guard.OriginGuard`; an agent's
attempt to leave it becomes an error in the next observation.
"""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import httpx
from pydantic import Field
from selectolax.lexbor import LexborHTMLParser

from domplay.env import actions as A
from domplay.env.base import SCREENSHOT_INFO_KEY, EnvConfig, WebEnv
from domplay.env.browser_guard import OriginGuard
from domplay.env.browser_pool import BrowserConfig, BrowserPool, shared_pool
from domplay.env.dom import InProcessSites
from domplay.env.observation import Element
from domplay.errors import ActionError, BrowserError, ConfigError, NavigationError
from domplay.sites.app import STATE_TOKEN_HEADER
from domplay.sites.base import NS_COOKIE
from domplay.verify.snapshot import Snapshot

_HERE = Path(__file__).parent
PROXY_FAILURE = "net::ERR_PROXY_CONNECTION_FAILED"
"""How Chromium reports a request the guard's dead proxy refused (outside the allowlist)."""
OBSERVE_ATTEMPTS = 3
"""Reads of the page tried when navigations keep replacing the document under the observe script."""
DEFAULT_JPEG_QUALITY = 70
"""JPEG quality of step screenshots: a 1280x800 viewport of a built-in site is 10-110 KB at 70,
under the report's per-screenshot cap (`ViewerConfig.screenshot_max_bytes`)."""
JPEG_QUALITY_RANGE = (1, 100)
JpegQuality = Annotated[int, Field(ge=JPEG_QUALITY_RANGE[0], le=JPEG_QUALITY_RANGE[1])]
"""A JPEG quality Chromium accepts."""


def check_jpeg_quality(name: str, quality: int) -> None:
    """Raise ConfigError unless `quality` (the value of argument `name`) is a JPEG quality Chromium accepts."""
    low, high = JPEG_QUALITY_RANGE
    if not low <= quality <= high:
        raise ConfigError(f"{name}={quality}; a JPEG quality must be between {low} and {high}")


@cache
def _script(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


@cache
def _observe_script(probe: str | None) -> str:
    """`browser_observe.js`, also running `probe` (a JS function of no arguments) on the settled page."""
    script = _script("browser_observe.js")
    if probe is None:
        return script
    return (
        f"async (settleMs) => {{\n  const out = await (\n{script}\n)(settleMs);\n"
        f"  out.probe = ({probe})();\n  return out;\n}}"
    )


class BrowserEnvConfig(EnvConfig):
    """BrowserEnv settings (on top of EnvConfig)."""

    browser: BrowserConfig = BrowserConfig()
    state_token: str | None = Field(
        None, description="token for `/_domplay/state` when the built-in sites run in another process"
    )
    state_timeout_s: float = Field(10.0, gt=0, description="timeout of the backend-state HTTP request")
    screenshots: bool = Field(
        False,
        description="capture a JPEG of the viewport after every reset() and step(), "
        "returned as `info[SCREENSHOT_INFO_KEY]` (for the report's trajectory viewer)",
    )
    screenshot_jpeg_quality: JpegQuality = Field(DEFAULT_JPEG_QUALITY, description="JPEG quality of those screenshots")


class BrowserEnv(WebEnv):
    """A web page in Chromium as a gymnasium env; see the module docstring.

    `BrowserEnv(config, sites=SitesApp(seed))` reads built-in sites' backend state
    in-process (the pages themselves are always loaded over HTTP from `config.base_url`,
    e.g. a `SiteServer`). Pass `pool=` to share a specific `BrowserPool`.
    """

    supports_js = True

    def __init__(
        self,
        config: BrowserEnvConfig = BrowserEnvConfig(),
        sites: InProcessSites | None = None,
        pool: BrowserPool | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(config, render_mode)
        self.config: BrowserEnvConfig = config
        self.sites = sites
        self.pool = pool if pool is not None else shared_pool(config.browser)
        self._context: Any = None
        self._page_obj: Any = None
        self._cdp: Any = None
        self._guard: OriginGuard | None = None
        self._cached: tuple[LexborHTMLParser, str] | None = None
        self._last_url = ""
        self._prev_ns = ""
        self._failures: list[tuple[str, str]] = []
        self._downloads: list[str] = []
        self._blocked_popups = 0
        self._observations = 0
        """Reads of the page so far (`_evaluate_page`)."""
        self._probe: tuple[int, Any] = (0, None)
        """(`_observations` at the read, value) of the last read's `_observe_probe`."""
        self._step_began_at = 0
        """`_observations` when the step in play began."""

    # -- the browser page -----------------------------------------------------------------
    @property
    def page(self):  # -> playwright.sync_api.Page
        """The Playwright page of this env (after the first reset)."""
        if self._page_obj is None:
            raise ConfigError("call reset() before using the browser page")
        return self._page_obj

    def _ensure_context(self, origins: frozenset[str]) -> None:
        guard = OriginGuard(origins)
        if self._guard is not None and self._guard.origins == guard.origins:
            guard.close()
            return
        self._close_context()
        ctx = self.pool.new_context(**guard.context_options())
        page = ctx.new_page()
        guard.install(ctx, page)
        ctx.add_init_script(script=_script("browser_pending.js"))
        ctx.on("requestfailed", self._request_failed)
        page.on("download", lambda d: self._downloads.append(d.url))
        self._context, self._page_obj, self._guard = ctx, page, guard
        self._cdp = ctx.new_cdp_session(page)

    def _request_failed(self, request) -> None:
        from playwright.sync_api import Error as PlaywrightError

        if not request.is_navigation_request():
            return
        try:
            frame = request.frame
        except PlaywrightError:  # a popup's first request: it has no frame yet, and is not ours
            return
        if frame == self._page_obj.main_frame:
            self._failures.append((request.url, request.failure or ""))

    def _close_context(self) -> None:
        if self._context is not None:
            self._context.close()
        if self._guard is not None:
            self._guard.close()
        self._context = self._page_obj = self._cdp = self._guard = None

    # -- WebEnv hooks ---------------------------------------------------------------------
    def _begin(self, ns: str, url: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self._switch_namespace(ns)
        origins = self.allowed_origins()
        self._ensure_context(origins)
        assert self._guard is not None
        if not self._guard.allows(url):
            raise ConfigError(
                f"start URL {url!r} is outside the allowed origins {sorted(origins)}; "
                f"add its origin to EnvConfig.allowed_origins"
            )
        page = self.page
        try:
            if self._guard.allows(page.url):  # this origin's storage is reachable from here
                page.evaluate("() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) {} }")
            self._context.clear_cookies()
            self._context.add_cookies([{"name": NS_COOKIE, "value": ns, "url": o + "/"} for o in sorted(origins)])
            self._forget_page_events()
            page.goto(url, wait_until="domcontentloaded")
            self._cdp.send("Page.resetNavigationHistory")
        except PlaywrightError as exc:
            raise NavigationError(f"cannot open start URL {url}: {_first_line(exc)}") from None
        self._cached = None
        self._observe(check=False)
        if not self._guard.allows(self._cached[1] if self._cached else ""):
            raise NavigationError(
                f"start URL {url} did not load a page inside the allowed origins "
                f"{sorted(origins)}: {self._explain_failures() or 'no page'}"
            )

    def _forget_page_events(self) -> None:
        """Forget what the last episode's page was refused (blocked requests, popups, failed
        navigations, downloads), so the new episode's first observation does not report it."""
        assert self._guard is not None
        self._guard.take()
        self._failures.clear()
        self._downloads.clear()

    def _switch_namespace(self, ns: str) -> None:
        """Drop the last episode's backend state namespace; `ns` is the episode's."""
        if self._prev_ns and self.sites is not None:
            self.sites.drop(self._prev_ns)
        self._prev_ns = ns

    def _tree(self) -> tuple[LexborHTMLParser, str]:
        if self._cached is None:
            self._cached = self._evaluate_page()
        return self._cached

    def snapshot(self) -> Snapshot:
        self._cached = None  # the final page as it is now, not as last observed
        return super().snapshot()

    def _click(self, el: Element) -> None:
        def click() -> None:
            # One round trip for the point and one for the mouse: Playwright's forced click makes the
            # same trusted mouse events at the same point, with more protocol round trips and, on each
            # new document, the setup of its injected script.
            point = self.page.evaluate(_script("browser_click_point.js"), el.stamp)
            if isinstance(point, str):
                raise ActionError(f"cannot click element [{el.id}] ({el.role} {el.name!r}): {point}")
            self.page.mouse.click(point[0], point[1])

        self._act(el, "click", click)

    def _fill(self, el: Element, text: str) -> None:
        def fill() -> None:
            if self._prepare_input(el, "fill", text) == "type":
                if text:
                    self.page.keyboard.insert_text(text)  # as Playwright's fill: one input event
                else:
                    self.page.keyboard.press("Delete")  # the selected content

        self._act(el, "fill", fill)

    def _select(self, el: Element, option: str) -> None:
        self._act(el, "select", lambda: self._prepare_input(el, "select", option))

    def _press(self, el: Element, key: str) -> None:
        def press() -> None:
            self._prepare_input(el, "press", key)
            self.page.keyboard.press(key)

        self._act(el, "press", press)

    def _prepare_input(self, el: Element, verb: str, value: str) -> str:
        """Run `browser_input.js`: "type" (the keyboard goes on) or "done"; ActionError when it refuses."""
        how = self.page.evaluate(_script("browser_input.js"), [verb, el.stamp, value])
        if isinstance(how, dict):
            if how.get("error") == "read-only":
                raise ActionError(f"element [{el.id}] ({el.role} {el.name!r}) is read-only")
            raise ActionError(f"cannot {verb} element [{el.id}] ({el.role} {el.name!r}): {how.get('error')}")
        return str(how)

    def _wait(self, ms: int) -> None:
        self._cached = None
        if ms > 0:
            self.page.wait_for_timeout(ms)
        self._observe()

    def _keyboard(self, key: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self._cached = None
        try:
            self.page.keyboard.press(key)
        except PlaywrightError as exc:
            self._observe()
            raise ActionError(f"keyboard_press({key!r}) failed: {_first_line(exc)}") from None
        self._observe()

    def _goto(self, url: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self._cached = None
        try:
            self.page.goto(url, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            self._observe()
            raise ActionError(f"goto({url!r}) failed: {self._explain_failures() or _first_line(exc)}") from None
        self._observe()

    def _back(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self._cached = None
        try:
            response = self.page.go_back(wait_until="domcontentloaded")
        except PlaywrightError as exc:
            self._observe()
            raise ActionError(f"back() failed: {_first_line(exc)}") from None
        if response is None and self.page.evaluate("() => history.length") <= 1:
            self._observe()
            raise ActionError("there is no previous page to go back to")
        self._observe()

    def _scrolled(self, direction: str) -> None:
        if self._page is None or not self._page.elements:
            return
        first = self._page.elements[min(self._offset, len(self._page.elements) - 1)]
        self.page.evaluate(
            '(s) => { const e = document.querySelector(`[data-dp="${s}"]`); '
            "if (e) e.scrollIntoView({block: 'start'}); }",
            first.stamp,
        )

    def _backend_state(self) -> dict[str, Any]:
        if self.sites is not None:
            return self.sites.state_json(self.ns)
        if self.config.state_token is None:
            return {}
        url = self.config.base_url.rstrip("/") + "/_domplay/state"
        try:
            resp = httpx.get(
                url,
                params={"ns": self.ns},
                timeout=self.config.state_timeout_s,
                headers={STATE_TOKEN_HEADER: self.config.state_token},
            )
        except httpx.HTTPError as exc:
            raise NavigationError(f"backend state request to {url} failed: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise NavigationError(f"backend state request failed: HTTP {resp.status_code} {resp.text[:200]}")
        return resp.json()

    # -- gymnasium API: the base env's, plus a screenshot in `info` when asked for ------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = super().reset(seed=seed, options=options)
        return obs, self._with_screenshot(info)

    def step(self, action: str | A.Action):
        self._step_began_at = self._observations
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, terminated, truncated, self._with_screenshot(info)

    # -- a subclass's reading of the page, in the observation's round trip ---------------------
    def _observe_probe(self) -> str | None:
        """A JS function of no arguments that each observation also runs on the settled page (one
        round trip for both), or None; its value is what `_probed()` returns."""
        return None

    def _probed(self) -> tuple[bool, Any]:
        """(True, the probe's value) when this step's action read the page (a scroll does not), else (False, None)."""
        at, value = self._probe
        return (True, value) if at > self._step_began_at else (False, None)

    def _with_screenshot(self, info: dict[str, Any]) -> dict[str, Any]:
        if self.config.screenshots:
            info[SCREENSHOT_INFO_KEY] = self.screenshot_jpeg()
        return info

    # -- public extras ----------------------------------------------------------------------
    def screenshot_jpeg(self, quality: int | None = None) -> bytes:
        """A JPEG of the viewport as it is now (`quality` defaults to the config's)."""
        from playwright.sync_api import Error as PlaywrightError

        quality = self.config.screenshot_jpeg_quality if quality is None else quality
        check_jpeg_quality("screenshot_jpeg(quality)", quality)
        try:
            return self.page.screenshot(type="jpeg", quality=quality)
        except PlaywrightError as exc:
            raise BrowserError(f"cannot take a screenshot of {self.page.url}: {_first_line(exc)}") from None

    def screenshot(self, path: str | Path | None = None, full_page: bool = False) -> bytes:
        """A PNG of the page as it is now (also written to `path` when given)."""
        return self.page.screenshot(path=str(path) if path is not None else None, full_page=full_page, type="png")

    def close(self) -> None:
        self._close_context()
        if self.sites is not None and self._prev_ns:
            self.sites.drop(self._prev_ns)
        super().close()

    # -- internals -------------------------------------------------------------------------
    def _act(self, el: Element, verb: str, do) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self._cached = None
        try:
            do()
        except PlaywrightError as exc:  # e.g. a navigation replaced the document under the script
            self._observe()
            raise ActionError(
                f"could not {verb} element [{el.id}] ({el.role} {el.name!r}): {_first_line(exc)}"
            ) from None
        self._observe()

    def _evaluate_page(self) -> tuple[LexborHTMLParser, str]:
        """Run the observe script; try again while navigations replace the document under it."""
        from playwright.sync_api import Error as PlaywrightError

        probe = self._observe_probe()
        script = _observe_script(probe)
        for attempt in range(OBSERVE_ATTEMPTS):
            try:
                out = self.page.evaluate(script, self.config.browser.settle_ms)
                break
            except PlaywrightError as exc:  # the document was replaced while we read it
                if attempt + 1 == OBSERVE_ATTEMPTS:
                    raise BrowserError(f"cannot read the page at {self.page.url}: {_first_line(exc)}") from None
                with contextlib.suppress(PlaywrightError):  # the next attempt reports it
                    self.page.wait_for_load_state("domcontentloaded")
        self._blocked_popups += out["popups"]
        self._observations += 1
        if probe is not None:
            self._probe = (self._observations, out.get("probe"))
        return LexborHTMLParser(out["html"]), out["url"]

    def _observe(self, check: bool = True) -> None:
        """Read the page after an action; leave pages outside the allowlist; report what was blocked."""
        assert self._guard is not None
        self._cached = None
        url = self._tree()[1]
        problems: list[str] = []
        if check and not self._guard.allows(url):
            problems.append(self._explain_failures() or f"the page left the allowed sites ({url})")
            self._restore()
        elif check and self._failures:
            problems.append(self._explain_failures())
        _, popups = self._guard.take()  # blocked sub-resources (iframes, images) are not the agent's error
        popups, self._blocked_popups = popups + self._blocked_popups, 0
        if popups:
            problems.append("opening a new window was blocked: stay in this tab")
        if self._downloads:
            problems.append(f"download of {self._downloads[0]} was refused")
        self._failures.clear()
        self._downloads.clear()
        if self._guard.allows(self._tree()[1]):
            self._last_url = self._tree()[1]
        if problems and check:
            raise ActionError("; ".join(problems))

    def _restore(self) -> None:
        """Go back to the last page inside the allowlist (after a blocked navigation)."""
        from playwright.sync_api import Error as PlaywrightError

        self._cached = None
        if self._last_url:
            try:
                self.page.goto(self._last_url, wait_until="domcontentloaded")
            except PlaywrightError as exc:
                raise BrowserError(
                    f"cannot return to {self._last_url} after a blocked navigation: {_first_line(exc)}"
                ) from None
        self._tree()

    def _explain_failures(self) -> str:
        if not self._failures:
            return ""
        url, failure = self._failures[0]
        if failure == PROXY_FAILURE or failure == "net::ERR_BLOCKED_BY_CLIENT":
            return f"blocked navigation to {url}: it is outside the allowed sites"
        return f"loading {url} failed ({failure})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
