"""MiniWoB++ tasks as BrowserEnv episodes (the user supplies MiniWoB++'s `html` folder or URL).

MiniWoB++'s public page protocol: open `miniwob/<task>.html`, call `Math.seedrandom(seed)`,
set `core.EPISODE_MAX_TIME` (ms), call `core.startEpisodeReal()`, read the instruction
from `core.getUtterance()`; the episode is over when the page global `WOB_DONE_GLOBAL` is
true, and it succeeded when `WOB_RAW_REWARD_GLOBAL > 0`. A folder is served by a static
HTTP server on 127.0.0.1 (pages need http: for their scripts); a URL is used as is.

    env = MiniWoBEnv("click-button", MiniWoBConfig(html_root="/data/miniwob-plusplus/html"))
    obs, info = env.reset(seed=3)      # info["utterance"]: 'Click on the "Submit" button.'
    obs, reward, terminated, truncated, info = env.step("click(4)")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from starlette.staticfiles import StaticFiles

from domplay.env.browser import BrowserEnv, BrowserEnvConfig
from domplay.env.browser_pool import BrowserConfig, BrowserPool
from domplay.env.observation import ObservationConfig
from domplay.errors import ConfigError, PageError
from domplay.settings import Settings
from domplay.sites.server import SiteServer

SEED_RANGE = 2**31 - 1
_START_JS = """([seed, maxTimeMs]) => {
  if (typeof Math.seedrandom !== "function" || typeof core === "undefined") return null;
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = maxTimeMs;
  core.startEpisodeReal();
  return String(core.getUtterance());
}"""
_RESULT_JS = "() => [Number(window.WOB_RAW_REWARD_GLOBAL || 0), window.WOB_DONE_GLOBAL === true]"


class MiniWoBConfig(Settings):
    """Where MiniWoB++ lives and how an episode runs."""

    html_root: str = Field(
        description="MiniWoB++'s `html` folder (served on 127.0.0.1) or its URL, e.g. http://127.0.0.1:8080/html"
    )
    episode_max_time_ms: int = Field(
        10_000, gt=0, description="`core.EPISODE_MAX_TIME`: the page ends the episode (reward -1) after this long"
    )
    max_steps: int = Field(10, ge=1)
    observation: ObservationConfig = ObservationConfig()
    browser: BrowserConfig = BrowserConfig()

    @field_validator("html_root")
    @classmethod
    def _folder_or_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https") and not Path(value).is_dir():
            raise ValueError(f"{value!r} is neither a folder nor an http(s) URL; point it at MiniWoB++'s html folder")
        return value


class _StaticFolder:
    """A folder as the `asgi` app SiteServer serves."""

    def __init__(self, root: str):
        self.asgi = StaticFiles(directory=root)


class MiniWoBEnv(BrowserEnv):
    """One MiniWoB++ task; reward 1.0 when the page reports success, 0.0 otherwise.

    `info["utterance"]` holds the instruction after reset; `info["raw_reward"]` the
    page's raw reward once it is done. Close it to stop the static server.
    """

    def __init__(
        self, task: str, config: MiniWoBConfig, pool: BrowserPool | None = None, render_mode: str | None = None
    ):
        if not task or "/" in task or task.startswith("."):
            raise ConfigError(f"MiniWoB task name {task!r} is not a plain name such as 'click-button'")
        self.task_name = task
        self.miniwob = config
        self._server: SiteServer | None = None
        root = config.html_root
        if urlsplit(root).scheme in ("http", "https"):
            base = root.rstrip("/")
        else:
            self._server = SiteServer(_StaticFolder(root)).start()  # type: ignore[arg-type]
            base = self._server.base_url
        self.task_url = f"{base}/miniwob/{task}.html"
        parts = urlsplit(base)
        env_config = BrowserEnvConfig(
            base_url=f"{parts.scheme}://{parts.netloc}",
            start_url=self.task_url,
            max_steps=config.max_steps,
            observation=config.observation,
            browser=config.browser,
            record_page_html=False,
        )
        super().__init__(env_config, pool=pool, render_mode=render_mode)
        self.utterance = ""
        self._raw_reward = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if options:
            raise ConfigError(f"MiniWoBEnv.reset takes no options, got {sorted(options)}")
        super().reset(seed=seed, options={"start_url": self.task_url})
        episode_seed = seed if seed is not None else int(self.np_random.integers(0, SEED_RANGE))
        utterance = self.page.evaluate(_START_JS, [episode_seed, self.miniwob.episode_max_time_ms])
        if utterance is None:
            raise PageError(
                f"{self.task_url} does not speak MiniWoB++'s protocol (no Math.seedrandom "
                f"or core); is html_root MiniWoB++'s html folder?"
            )
        self.utterance = utterance
        self._raw_reward = 0.0
        self._cached = None
        self._refresh()
        from domplay.env.render import render

        assert self._page is not None  # set by _refresh
        self._obs = render(self._page, config=self.config.observation)
        return self._obs, self._info()

    def step(self, action):
        obs, _, terminated, truncated, info = super().step(action)
        raw, done = self.page.evaluate(_RESULT_JS)
        info["raw_reward"] = self._raw_reward = float(raw)
        info["success"] = done and raw > 0
        if done:
            terminated, truncated, self._done = True, False, True
        reward = 1.0 if done and raw > 0 else 0.0
        return obs, reward, terminated, truncated, info

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        info["utterance"] = self.utterance
        info["task"] = self.task_name
        return info

    def close(self) -> None:
        super().close()
        if self._server is not None:
            self._server.stop()
            self._server = None
