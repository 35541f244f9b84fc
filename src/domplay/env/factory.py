"""Make envs of either kind over the built-in sites, for rollouts and evaluation."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from domplay.env.base import DEFAULT_MAX_STEPS, WebEnv
from domplay.env.browser import DEFAULT_JPEG_QUALITY, JpegQuality
from domplay.env.browser_pool import DEFAULT_CHROMIUM
from domplay.env.miniwob import MiniWoBConfig, MiniWoBPages
from domplay.env.observation import ObservationConfig
from domplay.errors import ConfigError
from domplay.settings import Settings
from domplay.sites.app import SitesApp

if TYPE_CHECKING:  # imported where used: only the browser env serves sites over a socket
    from domplay.sites.server import SiteServer

EnvKind = Literal["dom", "browser"]


class EnvSettings(Settings):
    """Which env, how it observes and how long an episode may be; recorded with every run."""

    kind: EnvKind = Field("dom", description="dom: HTTP + HTML, no JavaScript; browser: Chromium via Playwright")
    max_steps: int = Field(
        DEFAULT_MAX_STEPS,
        ge=1,
        description="hard cap on the steps of every episode (model and reference "
        "replays); tasks whose reference needs more are rejected when proposed",
    )
    observation: ObservationConfig = ObservationConfig()
    allowed_origins: tuple[str, ...] = ()
    chromium_path: str = DEFAULT_CHROMIUM
    screenshots: bool = Field(
        False,
        description="browser env only: save a JPEG of the page at every step "
        "(RUN/screenshots/) for the report's trajectory viewer; DomEnv renders nothing",
    )
    screenshot_jpeg_quality: JpegQuality = DEFAULT_JPEG_QUALITY
    miniwob: MiniWoBConfig = Field(
        MiniWoBConfig(), description="browser env only: where MiniWoB++'s pages are and how its episodes run"
    )

    @model_validator(mode="after")
    def _screenshots_need_browser(self) -> EnvSettings:
        if self.screenshots and self.kind != "browser":
            raise ValueError(
                f"env screenshots need the browser env (env kind is {self.kind!r}: DomEnv renders "
                f"no pages); set env.kind: browser or env.screenshots: false"
            )
        return self


class EnvFactory(AbstractContextManager):
    """Builds envs over `sites`; for BrowserEnv it also serves the sites on 127.0.0.1, and its envs
    play MiniWoB++ tasks too (`env.miniwob.MiniWoBEnv`, pages served once for all of them).

    >>> with EnvFactory(EnvSettings(kind="dom"), SitesApp(0)) as make:   # doctest: +SKIP
    ...     env = make()
    """

    def __init__(self, settings: EnvSettings, sites: SitesApp):
        self.settings = settings
        self.sites = sites
        self._server: SiteServer | None = None
        self._miniwob = MiniWoBPages(settings.miniwob)

    def __enter__(self) -> Callable[[], WebEnv]:
        if self.settings.kind == "browser":
            from domplay.sites.server import SiteServer

            self._server = SiteServer(self.sites).start()
        return self.make

    def make(self) -> WebEnv:
        s = self.settings
        if s.kind == "dom":
            from domplay.env.dom import DomEnv, DomEnvConfig

            return DomEnv(
                DomEnvConfig(max_steps=s.max_steps, observation=s.observation, allowed_origins=s.allowed_origins),
                sites=self.sites,
            )
        from domplay.env.browser import BrowserEnvConfig
        from domplay.env.browser_pool import BrowserConfig
        from domplay.env.miniwob import MiniWoBEnv

        if self._server is None:
            raise ConfigError("BrowserEnv needs the site server: use EnvFactory as a context manager")
        config = BrowserEnvConfig(
            base_url=self._server.base_url,
            max_steps=s.max_steps,
            observation=s.observation,
            allowed_origins=s.allowed_origins,
            browser=BrowserConfig(executable_path=s.chromium_path),
            screenshots=s.screenshots,
            screenshot_jpeg_quality=s.screenshot_jpeg_quality,
        )
        return MiniWoBEnv(config, s.miniwob, pages=self._miniwob, sites=self.sites)

    def __exit__(self, *exc: object) -> None:
        self._miniwob.close()
        if self._server is not None:
            self._server.stop()
            self._server = None
