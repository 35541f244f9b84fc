"""EnvFactory and EnvSettings: which env is built, with which settings."""

from __future__ import annotations

import pytest

from domplay.env.browser import SCREENSHOT_INFO_KEY, BrowserEnv
from domplay.env.dom import DomEnv
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.errors import ConfigError
from domplay.sites.app import SitesApp


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(seed=0, names=["shop"])


def test_screenshots_need_the_browser_env():
    with pytest.raises(ConfigError, match=r"env\.kind: browser"):
        EnvSettings(kind="dom", screenshots=True)
    with pytest.raises(ConfigError, match="screenshot_jpeg_quality=0"):
        EnvSettings(kind="browser", screenshots=True, screenshot_jpeg_quality=0)


def test_dom_env_has_no_screenshots(sites):
    with EnvFactory(EnvSettings(kind="dom"), sites) as make:
        env = make()
        assert isinstance(env, DomEnv)
        _, info = env.reset(options={"start_url": "/shop/"})
        assert SCREENSHOT_INFO_KEY not in info
        *_, info = env.step('scroll("down")')
        assert SCREENSHOT_INFO_KEY not in info


def test_browser_settings_reach_the_env(sites):
    # Building a BrowserEnv launches nothing: Chromium starts on the first reset.
    with EnvFactory(EnvSettings(kind="browser", screenshots=True, screenshot_jpeg_quality=55), sites) as make:
        env = make()
        assert isinstance(env, BrowserEnv)
        assert env.config.screenshots and env.config.screenshot_jpeg_quality == 55
        assert env.config.base_url.startswith("http://127.0.0.1:")
        env.close()
    with EnvFactory(EnvSettings(kind="browser"), sites) as make:
        env = make()
        assert not env.config.screenshots
        env.close()


def test_a_run_config_with_screenshots_on_the_dom_env_is_refused():
    from domplay.config import load_config

    with pytest.raises(ConfigError, match=r"env\.screenshots: false"):
        load_config(overrides={"env": {"kind": "dom", "screenshots": True}})
