"""MiniWoB++ tasks in the browser env: a task is (MiniWoB++ task, page seed), defined at reset.

MiniWoB++'s public page protocol: open `miniwob/<task>.html`, call `Math.seedrandom(seed)`,
set `core.EPISODE_MAX_TIME` (ms), call `core.startEpisodeReal()`, read the instruction from
`core.getUtterance()`; the episode is over when the page global `WOB_DONE_GLOBAL` is true, with
the raw reward `WOB_RAW_REWARD_GLOBAL` in [-1, 1]. The pages come from the `miniwob` package
(`pip install 'domplay[miniwob]'`, found by `find_html_root`) or from `MiniWoBConfig.html_root`
(a folder, served on 127.0.0.1, or a URL).

`MiniWoBEnv` is a BrowserEnv that also plays MiniWoB++ tasks (`Task.site == MINIWOB_SITE`):
reset opens the task's page with the task's seed (`Task.provenance.seed`), hides MiniWoB's own
score display (last reward, ticking timer, episode count: as BrowserGym does) and states the
instruction in `info[INTENT_INFO_KEY]`; the episode ends when the page says it is done, and the
page's raw reward is the backend state `{"miniwob": {"raw_reward": r, "done": d, ...}}` that the
task's state checks read (`domplay.tasks.miniwob`), so a stored episode re-verifies offline.
Like MiniWoB++'s own env, a reset on the task page already loaded does not reload it: it ends the
episode in play (`core.endEpisode(0)`), seeds and starts the next (`MiniWoBConfig.reload_every`
reloads the page every n episodes instead; BrowserGym reloads it every time). Any other task runs
as in BrowserEnv. Bare gymnasium use binds one task name:

    env = MiniWoBEnv(BrowserEnvConfig(), task="click-button")
    obs, info = env.reset(seed=3)      # info["intent"]: 'Click on the "Submit" button.'
    obs, reward, terminated, truncated, info = env.step('click("Submit")')
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from domplay.env.base import INTENT_INFO_KEY
from domplay.env.browser import BrowserEnv, BrowserEnvConfig
from domplay.env.browser_pool import BrowserPool
from domplay.env.dom import InProcessSites
from domplay.errors import ActionError, ConfigError, PageError
from domplay.settings import Settings
from domplay.sites.server import SiteServer

MINIWOB_SITE = "miniwob"
"""`Task.site` of MiniWoB++ tasks."""
STATE_KEY = "miniwob"
"""Key of the MiniWoB++ episode in the backend state (`Snapshot.state`)."""
SEED_RANGE = 2**31 - 1
INSTALL_HINT = "pip install 'domplay[miniwob]' (MiniWoB++'s pages ship in the miniwob package) or set html_root"
HIDDEN_DISPLAY_IDS = ("reward-display", "click-canvas", "sync-task-cover")
"""MiniWoB++'s human display (scores, timer, click canvas, START cover): not part of any task."""
_START_JS = """([seed, maxTimeMs, hide]) => {
  if (typeof Math.seedrandom !== "function" || typeof core === "undefined") return null;
  if (window.__dpMiniwobEpisode === true) {  // a page reused: end the episode in play, as MiniWoB++'s env does
    core.endEpisode(0);
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  }
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = maxTimeMs;
  core.startEpisodeReal();
  window.__dpMiniwobEpisode = true;
  if (!document.getElementById("__dp-hide")) {
    const style = document.createElement("style");
    style.id = "__dp-hide";
    style.textContent = hide.map((id) => "#" + id).join(", ") + " { display: none !important; }";
    document.head.appendChild(style);
  }
  return String(core.getUtterance());
}"""
_REUSABLE_JS = (
    '() => window.__dpMiniwobEpisode === true && typeof core !== "undefined" && typeof Math.seedrandom === "function"'
)
_RESULT_JS = """() => window.__dpMiniwobEpisode !== true ? null
  : [Number(window.WOB_RAW_REWARD_GLOBAL || 0), window.WOB_DONE_GLOBAL === true]"""
LEFT_PAGE_ERROR = "the task's page was left or reloaded, which ends a MiniWoB++ episode: its problem is gone"
NO_NAVIGATION_ERROR = (
    "a MiniWoB++ task is played on its one page; {action} would leave or reload it and lose the problem, "
    "so it is refused: act on the page's elements"
)


def find_html_root() -> Path | None:
    """MiniWoB++'s `html` folder inside the installed `miniwob` package, or None when not installed."""
    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "html"
    return root if (root / "miniwob").is_dir() else None


def task_names(html_root: str | Path) -> list[str]:
    """Every MiniWoB++ task under a local `html` folder, sorted."""
    return sorted(p.stem for p in (Path(html_root) / "miniwob").glob("*.html"))


class MiniWoBConfig(Settings):
    """Where MiniWoB++ lives and how its episodes run; recorded with every run (`env.miniwob`)."""

    html_root: str | None = Field(
        None,
        description="MiniWoB++'s `html` folder (served on 127.0.0.1) or its URL; None: the installed miniwob package's",
    )
    episode_max_time_ms: int = Field(
        1_000_000,
        gt=0,
        description="`core.EPISODE_MAX_TIME`: the page ends the episode (raw reward -1) after this long; "
        "BrowserGym's default, so a slow model is not timed out by the page",
    )
    reload_every: int = Field(
        0,
        ge=0,
        description="reload the task page every n episodes (1: every reset, as BrowserGym does); 0: only when "
        "another task's page is needed or the page was left (MiniWoB++'s own env: its refresh_freq default)",
    )
    success_threshold: float = Field(
        1.0,
        ge=-1,
        le=1,
        description="an episode succeeds when the raw reward is >= this (partial credit, e.g. 0.2 for a "
        "do-nothing submit on click-checkboxes, is not success)",
    )

    @field_validator("html_root")
    @classmethod
    def _folder_or_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if urlsplit(value).scheme not in ("http", "https") and not Path(value).is_dir():
            raise ValueError(f"{value!r} is neither a folder nor an http(s) URL; point it at MiniWoB++'s html folder")
        return value


class MiniWoBPages:
    """The base URL of MiniWoB++'s `html`: the configured URL, or a folder served on 127.0.0.1 by a
    static server started on first use (one per env factory, shared by its envs)."""

    def __init__(self, config: MiniWoBConfig):
        self.config = config
        self._server: SiteServer | None = None

    @property
    def root(self) -> str:
        root = self.config.html_root
        if root is None:
            found = find_html_root()
            if found is None:
                raise ConfigError(f"MiniWoB++ is not installed: {INSTALL_HINT}")
            root = str(found)
        return root

    @property
    def base_url(self) -> str:
        root = self.root
        if urlsplit(root).scheme in ("http", "https"):
            return root.rstrip("/")
        if self._server is None:
            self._server = SiteServer(_StaticFolder(root)).start()  # type: ignore[arg-type]
        return self._server.base_url

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class _StaticFolder:
    """A folder as the `asgi` app SiteServer serves; a missing file is a 404, not an ASGI error."""

    def __init__(self, root: str):
        self.asgi = Starlette(routes=[Mount("/", app=StaticFiles(directory=root))])


class MiniWoBEnv(BrowserEnv):
    """A BrowserEnv that plays MiniWoB++ tasks (see the module docstring).

    `pages` shares one static server among envs (EnvFactory passes its own); without it the env
    starts one when it first needs it and stops it on close. `task` binds a MiniWoB++ task name for
    bare gymnasium use (`reset(seed=...)` with no options); its reward is then 1.0 when the raw
    reward reaches `success_threshold`. `info["raw_reward"]` and `info["success"]` hold the page's
    outcome after every step of a MiniWoB++ episode.
    """

    def __init__(
        self,
        config: BrowserEnvConfig = BrowserEnvConfig(),
        miniwob: MiniWoBConfig = MiniWoBConfig(),
        *,
        task: str | None = None,
        pages: MiniWoBPages | None = None,
        sites: InProcessSites | None = None,
        pool: BrowserPool | None = None,
        render_mode: str | None = None,
    ):
        if task is not None:
            check_task_name(task)
        super().__init__(config, sites=sites, pool=pool, render_mode=render_mode)
        self.miniwob = miniwob
        self.task_name = task
        self._pages = pages if pages is not None else MiniWoBPages(miniwob)
        self._own_pages = pages is None
        self._episode: dict[str, Any] | None = None
        """The MiniWoB++ episode in play (task, seed, utterance, raw reward, done), None for other tasks."""
        self.utterance = ""
        self._starting: tuple[str, int | None] | None = None
        """(task name, page seed or None) while a reset starts a MiniWoB++ episode."""
        self._page_episodes = 0
        """Episodes started on the page now loaded (`reload_every`)."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        options = dict(options or {})
        task = options.get("task")
        name = page_name(task.start_url) if task is not None and task.site == MINIWOB_SITE else None
        if task is None and not options and self.task_name is not None:
            name = self.task_name
        if name is None:
            self._episode = None
            return super().reset(seed=seed, options=options)
        check_task_name(name)
        url = f"{self._pages.base_url}/miniwob/{name}.html"
        self._episode = None
        page_seed = task.provenance.seed if task is not None else None
        self._starting = (name, page_seed if page_seed is not None else seed)
        try:  # WebEnv.reset opens the page through _begin, which starts the episode
            return super().reset(seed=seed, options={**options, "start_url": url})
        finally:
            self._starting = None

    def _begin(self, ns: str, url: str) -> None:
        if self._starting is None:
            return super()._begin(ns, url)
        name, page_seed = self._starting
        if self._reusable(url):
            self._switch_namespace(ns)
            self._forget_page_events()
            self._page_episodes += 1
        else:
            super()._begin(ns, url)
            self._page_episodes = 1
        if page_seed is None:
            page_seed = int(self.np_random.integers(0, SEED_RANGE))
        hide = list(HIDDEN_DISPLAY_IDS)
        utterance = self.page.evaluate(_START_JS, [page_seed, self.miniwob.episode_max_time_ms, hide])
        if utterance is None:
            raise PageError(
                f"{url} does not speak MiniWoB++'s protocol (no Math.seedrandom or core); "
                f"is html_root MiniWoB++'s html folder?"
            )
        self.utterance = utterance
        self._episode = {"task": name, "seed": page_seed, "utterance": utterance, "raw_reward": 0.0, "done": False}
        self._cached = None  # WebEnv.reset observes the started episode

    def _reusable(self, url: str) -> bool:
        """Whether the page loaded is `url`'s MiniWoB++ page, in the context this reset would use,
        and may start another episode without a reload (`reload_every`)."""
        every = self.miniwob.reload_every
        if self._page_obj is None or self._guard is None or (every and self._page_episodes >= every):
            return False
        if self._guard.origins != self.allowed_origins() or self.page.url.split("#")[0] != url:
            return False
        return bool(self.page.evaluate(_REUSABLE_JS))

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        if self._episode is not None:
            raw = self._episode["raw_reward"]
            info["raw_reward"] = raw
            info["success"] = self._episode["done"] and raw >= self.miniwob.success_threshold
            if self.task is None:  # bare gymnasium use: no checks, the page's outcome is the reward
                reward = 1.0 if info["success"] else 0.0
        return obs, reward, terminated, truncated, info

    # -- WebEnv hooks -----------------------------------------------------------------------
    def _observe_probe(self) -> str | None:
        return _RESULT_JS if self._episode is not None else None

    def _episode_over(self) -> tuple[bool, str | None]:
        if self._episode is None:
            return super()._episode_over()
        read, result = self._probed()  # the step's observation read the outcome with the page
        if not read:
            result = self.page.evaluate(_RESULT_JS)
        if result is None:
            self._episode.update(done=True, raw_reward=-1.0, left_page=True)
            return True, LEFT_PAGE_ERROR
        raw, done = result
        self._episode.update(raw_reward=float(raw), done=bool(done))
        return bool(done), None

    def _goto(self, url: str) -> None:
        if self._episode is not None:
            raise ActionError(NO_NAVIGATION_ERROR.format(action="goto()"))
        super()._goto(url)

    def _back(self) -> None:
        if self._episode is not None:
            raise ActionError(NO_NAVIGATION_ERROR.format(action="back()"))
        super()._back()

    def _backend_state(self) -> dict[str, Any]:
        state = super()._backend_state()
        if self._episode is not None:
            state = {**state, STATE_KEY: dict(self._episode)}
        return state

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self._episode is not None:
            info[INTENT_INFO_KEY] = self._episode["utterance"]
            info["utterance"] = self._episode["utterance"]
            info["task"] = self._episode["task"]
        return info

    def close(self) -> None:
        super().close()
        if self._own_pages:
            self._pages.close()


def check_task_name(name: str) -> None:
    """Raise ConfigError unless `name` is a plain MiniWoB++ task name such as 'click-button'."""
    if not name or "/" in name or name.startswith(".") or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"MiniWoB task name {name!r} is not a plain name such as 'click-button'")


def page_path(name: str) -> str:
    """A MiniWoB++ task's `Task.start_url`: its page under the html root."""
    check_task_name(name)
    return f"/miniwob/{name}.html"


def page_name(start_url: str) -> str:
    """The MiniWoB++ task name of a `Task.start_url` written by `page_path`."""
    path = urlsplit(start_url).path
    if not (path.startswith("/miniwob/") and path.endswith(".html")):
        raise ConfigError(
            f"MiniWoB++ task start_url {start_url!r} must be /miniwob/<task>.html (tasks.miniwob writes them)"
        )
    return path.removeprefix("/miniwob/").removesuffix(".html")
