"""Make envs of either kind over the built-in sites, for rollouts and evaluation."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Literal

from domplay.env.base import WebEnv
from domplay.env.browser import DEFAULT_JPEG_QUALITY, check_jpeg_quality
from domplay.env.observation import ObservationConfig
from domplay.errors import ConfigError
from domplay.sites.app import SitesApp

EnvKind = Literal["dom", "browser"]


@dataclass(frozen=True)
class EnvSettings:
    """Which env and how it observes; recorded with every run."""

    kind: EnvKind = "dom"
    max_steps: int = 100
    """The env's own truncation; rollouts set tighter per-task limits themselves."""
    observation: ObservationConfig = field(default_factory=ObservationConfig)
    allowed_origins: tuple[str, ...] = ()
    chromium_path: str = "/usr/bin/chromium"
    screenshots: bool = False
    """BrowserEnv captures a JPEG of the viewport after every reset and step (see
    `BrowserEnvConfig.screenshots`); DomEnv renders nothing, so it cannot."""
    screenshot_jpeg_quality: int = DEFAULT_JPEG_QUALITY

    def __post_init__(self) -> None:
        if self.kind not in ("dom", "browser"):
            raise ConfigError(f"env kind {self.kind!r} is unknown; use 'dom' or 'browser'")
        if self.screenshots and self.kind != "browser":
            raise ConfigError(f"env screenshots need the browser env (env kind is {self.kind!r}: DomEnv renders "
                              f"no pages); set env.kind: browser or env.screenshots: false")
        check_jpeg_quality("EnvSettings.screenshot_jpeg_quality", self.screenshot_jpeg_quality)


class EnvFactory(AbstractContextManager):
    """Builds envs over `sites`; for BrowserEnv it also serves the sites on 127.0.0.1.

    >>> with EnvFactory(EnvSettings(kind="dom"), SitesApp(0)) as make:   # doctest: +SKIP
    ...     env = make()
    """

    def __init__(self, settings: EnvSettings, sites: SitesApp):
        self.settings = settings
        self.sites = sites
        self._server = None

    def __enter__(self) -> Callable[[], WebEnv]:
        if self.settings.kind == "browser":
            from domplay.sites.server import SiteServer

            self._server = SiteServer(self.sites).start()
        return self.make

    def make(self) -> WebEnv:
        s = self.settings
        if s.kind == "dom":
            from domplay.env.dom import DomEnv, DomEnvConfig

            return DomEnv(DomEnvConfig(max_steps=s.max_steps, observation=s.observation,
                                       allowed_origins=s.allowed_origins), sites=self.sites)
        from domplay.env.browser import BrowserEnv, BrowserEnvConfig
        from domplay.env.browser_pool import BrowserConfig

        if self._server is None:
            raise ConfigError("BrowserEnv needs the site server: use EnvFactory as a context manager")
        config = BrowserEnvConfig(base_url=self._server.base_url, max_steps=s.max_steps,
                                  observation=s.observation, allowed_origins=s.allowed_origins,
                                  browser=BrowserConfig(executable_path=s.chromium_path),
                                  screenshots=s.screenshots, screenshot_jpeg_quality=s.screenshot_jpeg_quality)
        return BrowserEnv(config, sites=self.sites)

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
