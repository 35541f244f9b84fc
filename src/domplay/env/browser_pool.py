"""One Chromium per process (per thread), shared by many browser contexts.

Launching Chromium takes most of a second; a context costs a few hundred milliseconds;
resetting a page that already exists costs a few. So a `BrowserPool` launches the
browser once, hands out one guarded context + page per env, and envs reuse that page
across episodes (see `BrowserEnv._begin`).

Playwright's sync API binds its objects to the thread that created them, so a pool
belongs to one thread; `shared_pool()` keeps one per thread and configuration.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import Field

from domplay.errors import BrowserError
from domplay.settings import Settings

if TYPE_CHECKING:  # imported where used: Playwright is needed only by the browser env
    from playwright.sync_api import Browser, Playwright

DEFAULT_CHROMIUM = "/usr/bin/chromium"
DEFAULT_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class BrowserConfig(Settings):
    """How Chromium is launched and how long browser operations may take."""

    executable_path: str = Field(
        DEFAULT_CHROMIUM, description="the Chromium binary (system Chromium; domplay never downloads browsers)"
    )
    args: tuple[str, ...] = DEFAULT_ARGS
    headless: bool = True
    navigation_timeout_ms: int = Field(10_000, gt=0, description="longest wait for a page load (goto, back, reset)")
    action_timeout_ms: int = Field(
        3_000,
        gt=0,
        description="Playwright's default timeout for the operations that wait (a screenshot, a load state); "
        "element actions do not wait for actionability",
    )
    settle_ms: int = Field(
        1_000,
        ge=0,
        description="longest wait, before an observation, for the DOM to be parsed and for pending fetch/XHR calls",
    )
    viewport_width_px: int = Field(1280, gt=0)
    viewport_height_px: int = Field(800, gt=0)
    launch_timeout_ms: int = Field(30_000, gt=0)


@dataclass
class BrowserPool:
    """A lazily launched Chromium; `new_context()` hands out isolated contexts."""

    config: BrowserConfig = field(default_factory=BrowserConfig)
    _playwright: Playwright | None = field(default=None, init=False, repr=False)
    _browser: Browser | None = field(default=None, init=False, repr=False)
    _thread: int | None = field(default=None, init=False, repr=False)

    @property
    def browser(self):  # -> playwright.sync_api.Browser
        """The running browser, launched on first use."""
        if self._browser is None:
            self._launch()
        elif threading.get_ident() != self._thread:
            raise BrowserError(
                "this BrowserPool was started in another thread; Playwright's sync "
                "API needs one pool per thread (use shared_pool() in each thread)"
            )
        return self._browser

    def _launch(self) -> None:
        path = self.config.executable_path
        if not os.path.exists(path):
            raise BrowserError(
                f"Chromium not found at {path!r}; install it with "
                f"`apt-get install -y chromium` or set BrowserConfig.executable_path"
            )
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise BrowserError(
                f"Playwright is not installed ({exc}); `pip install playwright` "
                f"(no browser download needed: domplay uses {path})"
            ) from None
        pw = sync_playwright().start()
        try:
            self._browser = pw.chromium.launch(
                executable_path=path,
                args=list(self.config.args),
                headless=self.config.headless,
                timeout=self.config.launch_timeout_ms,
            )
        except PlaywrightError as exc:
            pw.stop()
            raise BrowserError(
                f"could not launch Chromium at {path!r}: {exc}".splitlines()[0]
                + "; check that it runs (`chromium --version`) and the launch args "
                f"{list(self.config.args)}"
            ) from None
        self._playwright = pw
        self._thread = threading.get_ident()

    def new_context(self, **options):  # -> playwright.sync_api.BrowserContext
        """A fresh isolated context with this pool's viewport and timeouts."""
        ctx = self.browser.new_context(
            viewport={"width": self.config.viewport_width_px, "height": self.config.viewport_height_px},
            **options,
        )
        ctx.set_default_timeout(self.config.action_timeout_ms)
        ctx.set_default_navigation_timeout(self.config.navigation_timeout_ms)
        return ctx

    @property
    def running(self) -> bool:
        return self._browser is not None

    def close(self) -> None:
        """Close the browser (and every context of it) and stop Playwright."""
        browser, pw = self._browser, self._playwright
        self._browser = self._playwright = None
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()

    def __enter__(self) -> BrowserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SHARED: dict[tuple[int, BrowserConfig], BrowserPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(config: BrowserConfig | None = None) -> BrowserPool:
    """The pool this thread shares for `config` (launched on first use; a closed one is replaced)."""
    config = config if config is not None else BrowserConfig()
    key = (threading.get_ident(), config)
    with _SHARED_LOCK:
        pool = _SHARED.get(key)
        if pool is None or (not pool.running and pool._thread is not None):
            pool = _SHARED[key] = BrowserPool(config)
        return pool
