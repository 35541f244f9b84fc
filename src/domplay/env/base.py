"""`WebEnv`: the gymnasium contract shared by DomEnv and BrowserEnv.

The base class owns everything that must behave the same in both envs: parsing actions,
resolving targets (ids or names, `domplay.env.targets`) to elements, checking that an action fits its element,
scrolling the observation window, terminating on `answer`/`stop`, truncating at
`max_steps`, the action log, the Snapshot, and the reward from a task's checks. A
backend (DomEnv: HTTP + lexbor; BrowserEnv: Chromium) implements a handful of hooks that
act on elements by their `data-dp` stamp and hand back the current page.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import gymnasium as gym
from pydantic import Field
from selectolax.lexbor import LexborHTMLParser

from domplay.env import actions as A
from domplay.env.observation import Element, Observation, ObservationConfig, Page, extract_page
from domplay.env.render import render
from domplay.env.spaces import ActionSpace, ObservationSpace
from domplay.env.targets import acts_on, resolve
from domplay.errors import ActionError, ConfigError, DomplayError, PageError
from domplay.settings import Settings
from domplay.sites.base import new_namespace
from domplay.verify.snapshot import ActionRecord, Snapshot, TargetElement

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
SCREENSHOT_INFO_KEY = "screenshot_jpeg"
"""`info` key of reset() and step() under which an env that renders pages (BrowserEnv with
`screenshots` on) returns JPEG bytes of the page; envs that render nothing never set it."""
INTENT_INFO_KEY = "intent"
"""`info` key of reset() under which an env that defines its task at reset (MiniWoB++: the page
draws the problem) states the instruction; the rollout engine prompts with it instead of
`Task.intent`. Envs whose tasks say everything beforehand never set it."""
REQUIRES_JS_ERROR = "this page needs JavaScript, which DomEnv does not run; use the browser env (--env browser) for it"


_log = logging.getLogger(__name__)
CONTENT_ERRORS: tuple[type[Exception], ...] = (ValueError, LookupError, RecursionError)
"""Exceptions that what a reply or a page says can raise deep in a parser or a library (an address
`urlsplit` refuses, an unknown charset, markup nested past the recursion limit). `WebEnv.step` shows
them to the agent as an action error; a backend adds its libraries' own (`WebEnv.content_errors`)."""
ERROR_DETAIL_CHARS = 200
"""How much of an unexpected exception's message an action error quotes."""

DEFAULT_MAX_STEPS = 12
"""Steps an episode may take unless a config says otherwise (EnvConfig and a run's EnvSettings)."""


class EnvConfig(Settings):
    """Settings shared by both envs; recorded with every run."""

    base_url: str = Field(
        DEFAULT_BASE_URL,
        pattern=r"^https?://",
        description='origin that relative start URLs (e.g. "/shop/") are resolved against',
    )
    allowed_origins: tuple[str, ...] = Field(
        (), description="origins the agent may reach; empty means only the start URL's origin"
    )
    max_steps: int = Field(DEFAULT_MAX_STEPS, ge=1, description="steps after which an episode is truncated")
    observation: ObservationConfig = ObservationConfig()
    record_page_html: bool = Field(
        True, description="keep each acted-on page's HTML in the action log (element checks need it)"
    )
    start_url: str = Field("/", description="start URL when reset() is given no task or start_url option")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def checked_url(url: str) -> str:
    """`url` when a request can be made to it; ActionError naming what is wrong otherwise (control
    characters, an address `urlsplit` refuses such as "http://[::1" or a netloc that NFKC changes)."""
    bad = next((c for c in url if ord(c) < 0x20 or ord(c) == 0x7F), None)
    if bad is not None:
        raise ActionError(f"{url!r} is not a valid URL: it contains the control character {bad!r}")
    try:
        urlsplit(url).port  # noqa: B018 - parsing the port is what validates it
    except ValueError as exc:
        raise ActionError(f"{url!r} is not a valid URL ({exc}); write a URL such as /shop/cart") from None
    return url


def content_error(exc: Exception) -> str:
    """The action error an agent sees for an exception its reply or the page caused."""
    _log.debug("content error in an env step", exc_info=exc)
    return f"the action failed on this page ({_detail(exc)}); try another action"


def _detail(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:ERROR_DETAIL_CHARS]}"


class WebEnv(gym.Env[Observation, "str | A.Action"]):
    """A web page as a gymnasium env. `reset(options={"task": task})` or `{"start_url": ...}`, with
    `"setup": [actions]` (or the task's `setup`) run before the first observation.

    Observations are `Observation` values (`obs.text` is what the agent reads); actions are
    strings such as `click("Log in")` or `click(12)`, or action dataclasses. Reward is 1.0 on
    the final step when the task's checks pass, else 0.0; `info["verdict"]` carries the Verdict.
    """

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012 - gymnasium.Env declares it a plain attribute
    supports_js: bool = False
    content_errors: ClassVar[tuple[type[Exception], ...]] = CONTENT_ERRORS
    """What `step` turns into an action error besides ActionError: exceptions a reply or a page causes."""

    def __init__(self, config: EnvConfig = EnvConfig(), render_mode: str | None = None):
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode={render_mode!r}; WebEnv supports only 'ansi'")
        self.config = config
        self.render_mode = render_mode
        self.observation_space = ObservationSpace()
        self.action_space = ActionSpace()
        self.task: Any = None
        self.ns = ""
        self._start_url: str | None = None
        self._page: Page | None = None
        self._obs: Observation | None = None
        self._log: list[ActionRecord] = []
        self._answer: str | None = None
        self._steps = 0
        self._done = False
        self._offset = 0
        self._scroll_stack: list[int] = []
        self.last_step_seconds = 0.0
        """Wall time of the last step (action + observation), for benchmarks."""

    # -- backend hooks ------------------------------------------------------------------
    @abstractmethod
    def _begin(self, ns: str, url: str) -> None:
        """Start a fresh episode in namespace `ns` (cookie `dp_ns`) and open `url`.

        Raises NavigationError when the start page cannot be loaded.
        """

    @abstractmethod
    def _tree(self) -> tuple[LexborHTMLParser, str]:
        """The current page, stamped (`data-dp`) with live values reflected, and its URL."""

    @abstractmethod
    def _click(self, el: Element) -> None: ...

    @abstractmethod
    def _fill(self, el: Element, text: str) -> None: ...

    @abstractmethod
    def _select(self, el: Element, option: str) -> None: ...

    @abstractmethod
    def _press(self, el: Element, key: str) -> None: ...

    @abstractmethod
    def _goto(self, url: str) -> None:
        """Open absolute `url`; raise ActionError if it is outside the allowlist."""

    @abstractmethod
    def _back(self) -> None: ...

    @abstractmethod
    def _backend_state(self) -> dict[str, Any]:
        """Backend state of built-in sites for namespace `self.ns` ({} for external sites)."""

    def _scrolled(self, direction: str) -> None:
        """Called after the observation window moved (BrowserEnv scrolls the real page too)."""

    def _episode_over(self) -> tuple[bool, str | None]:
        """Called after every step: (True, error or None) when the page itself ended the episode
        (a MiniWoB++ page says when it is done); by default only answer() and stop() end one."""
        return False, None

    def _wait(self, ms: int) -> None:
        """Let the page run for `ms` milliseconds (BrowserGym's noop; a page without scripts has nothing
        to wait for)."""

    def _keyboard(self, key: str) -> None:
        """Press `key` on whatever has the focus (BrowserGym's keyboard_press)."""
        raise ActionError(
            f"keyboard_press({key!r}) needs a browser that tracks the focus; name the element: press(target, {key!r})"
        )

    # -- gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        self.task = options.pop("task", None)
        start = options.pop("start_url", None)
        setup = options.pop("setup", None)
        if options:
            raise ConfigError(f"unknown reset options {sorted(options)}; use 'task', 'start_url' or 'setup'")
        if start is None:
            start = self.task.start_url if self.task is not None else self.config.start_url
            if setup is None and self.task is not None:
                setup = getattr(self.task, "setup", None)
        self.ns = new_namespace()
        self._log, self._answer, self._steps, self._done, self._offset = [], None, 0, False, 0
        self._page = None
        try:
            url = self.resolve_url(start)
            self._start_url = url if urlsplit(start).scheme else None
            self._begin(self.ns, url)
            self._refresh()
        except ActionError as exc:
            raise PageError(f"cannot open start URL {start!r}: {exc}") from None
        except DomplayError:
            raise
        except self.content_errors as exc:
            raise PageError(f"cannot open start URL {start!r}: {_detail(exc)}") from exc
        assert self._page is not None
        if self._page.requires_js and not self.supports_js:
            raise PageError(f"{self._page.url}: {REQUIRES_JS_ERROR}")
        self._obs = render(self._page, config=self.config.observation)
        if setup:
            self._setup(list(setup))
        return self._obs, self._info()

    def _setup(self, actions: list[str]) -> None:
        """Run `actions` as the start of the episode (a Task's `setup`): they must all succeed and
        leave the episode open; the steps, action log and answer then start afresh."""
        task, self.task = self.task, None  # nothing is verified during setup
        try:
            for i, action in enumerate(actions):
                obs, _, terminated, truncated, _ = self.step(action)
                if obs.error is not None or terminated or truncated:
                    raise PageError(f"setup action #{i} {action!r} failed: {obs.error or 'it ended the episode'}")
        finally:
            self.task = task
        self._log, self._answer, self._steps, self._done = [], None, 0, False

    def step(self, action: str | A.Action):
        if self._obs is None or self._page is None:
            raise ConfigError("call reset() before step()")
        if self._done:
            raise ConfigError("the episode has ended; call reset() before step()")
        started = time.perf_counter()
        self._steps += 1
        text = action if isinstance(action, str) else A.format_action(action)
        error: str | None = None
        record: TargetElement | None = None
        page_html = None
        url_before = self._page.url
        parsed: A.Action | None = None
        try:
            parsed = A.parse_action(action) if isinstance(action, str) else action
            text = A.format_action(parsed)
            A.check_text(text)
            target = self._target(parsed)
            if target is not None:
                tree = self._tree()[0]
                record = _target_record(target, tree)
                page_html = tree.html if self.config.record_page_html else None
            self._execute(parsed, target)
        except ActionError as exc:
            error = str(exc)
        except DomplayError:
            raise  # infrastructure: the run must know
        except self.content_errors as exc:
            error = content_error(exc)  # what the reply or the page says: the agent sees it, the episode goes on
        if error is not None:
            text = text.encode("utf-8", "replace").decode("utf-8")  # the log is stored: no lone surrogates
        self._log.append(ActionRecord(action=text, url=url_before, error=error, page_html=page_html, target=record))
        if not isinstance(parsed, A.Scroll):
            self._refresh()
        if error is None and self._page.requires_js and not self.supports_js:
            error = REQUIRES_JS_ERROR
        over, page_error = self._episode_over()
        error = error if error is not None else page_error
        terminated = over or (error is None and isinstance(parsed, A.TERMINAL))
        truncated = not terminated and self._steps >= self.config.max_steps
        self._done = terminated or truncated
        self._obs = render(self._page, error=error, offset=self._offset, config=self.config.observation)
        info = self._info()
        reward = 0.0
        if self._done and self.task is not None:
            from domplay.verify.verdict import verify

            verdict = verify(self.task.checks, self.snapshot())
            info["verdict"] = verdict
            reward = 1.0 if verdict.success else 0.0
        self.last_step_seconds = time.perf_counter() - started
        return self._obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        return self._obs.text if self.render_mode == "ansi" and self._obs is not None else None

    # -- public helpers ------------------------------------------------------------------
    @property
    def observation(self) -> Observation | None:
        return self._obs

    def resolve_url(self, url: str) -> str:
        """Absolute URL for `url` (relative ones are resolved against the current page or base URL)."""
        base = self._page.url if self._page is not None else self.config.base_url
        if url.startswith("/") and not url.startswith("//") and self._page is None:
            base = self.config.base_url
        try:
            return checked_url(urljoin(base, checked_url(url)))
        except ActionError:
            raise
        except ValueError as exc:  # urljoin splits both
            raise ActionError(f"{url!r} is not a valid URL ({exc})") from None

    def allowed_origins(self) -> frozenset[str]:
        """Origins this episode may reach: the configured allowlist, or else the base URL's
        origin and the episode's start URL's origin."""
        origins = {o.lower().rstrip("/") for o in self.config.allowed_origins}
        if not origins:
            origins = {origin_of(self.config.base_url)}
            if self._start_url is not None:
                origins.add(origin_of(self._start_url))
        return frozenset(origins)

    def allowed(self, url: str) -> bool:
        """True if `url` is inside the origin allowlist."""
        try:
            return urlsplit(url).scheme in ("http", "https") and origin_of(url) in self.allowed_origins()
        except ValueError:
            return False  # not a URL anything may be fetched from

    def snapshot(self) -> Snapshot:
        """What verification reads now: final page, answer, action log, backend state."""
        tree, url = self._tree()
        title = self._page.title if self._page is not None else ""
        return Snapshot(
            url=url,
            html=tree.html or "",
            title=title,
            answer=self._answer,
            actions=tuple(self._log),
            state=self._backend_state(),
        )

    # -- internals ------------------------------------------------------------------------
    def _refresh(self) -> None:
        tree, url = self._tree()
        previous = self._page.url if self._page is not None else None
        self._page = extract_page(tree, url)
        if url != previous or self._offset >= len(self._page.elements):
            self._offset, self._scroll_stack = 0, []  # a new page starts at its top

    def _target(self, action: A.Action) -> Element | None:
        assert self._page is not None
        return resolve(action, self._page.elements)

    def _execute(self, action: A.Action, el: Element | None) -> None:
        if isinstance(action, A.Click):
            assert el is not None
            self._require(el, not el.disabled, "is disabled")
            self._click(el)
        elif isinstance(action, A.Fill):
            assert el is not None
            self._require(el, acts_on(A.Fill, el), "cannot be filled; fill a textbox")
            self._require(el, not el.disabled, "is disabled")
            self._require(el, not el.readonly, "is read-only")
            self._fill(el, action.text)
        elif isinstance(action, A.Select):
            assert el is not None
            self._require(el, acts_on(A.Select, el), "is not a select; use click for links and buttons")
            option = _match_option(el, action.option)
            self._select(el, option)
        elif isinstance(action, A.Press):
            assert el is not None
            self._press(el, action.key)
        elif isinstance(action, A.Scroll):
            self._scroll(action.direction)
        elif isinstance(action, A.Goto):
            url = self.resolve_url(action.url)
            if not self.allowed(url):
                allowed = sorted(self.config.allowed_origins) or [origin_of(self.config.base_url)]
                raise ActionError(f"{action.url!r} is outside the allowed sites; stay on {', '.join(allowed)}")
            self._goto(url)
        elif isinstance(action, A.Back):
            self._back()
        elif isinstance(action, A.KeyboardPress):
            self._keyboard(action.key)
        elif isinstance(action, A.Noop):
            self._wait(action.wait_ms or 0)
        elif isinstance(action, A.Answer):
            self._answer = action.text
        elif isinstance(action, A.Stop):
            pass

    def _scroll(self, direction: str) -> None:
        assert self._obs is not None and self._page is not None
        if direction == "down":
            if self._obs.cut_note is None:
                raise ActionError("the whole rest of the page is already shown; nothing to scroll to")
            self._scroll_stack.append(self._obs.offset)
            self._offset = self._obs.offset + max(1, self._obs.shown)
        else:
            if self._obs.offset == 0:
                raise ActionError("already at the top of the page")
            self._offset = self._scroll_stack.pop() if self._scroll_stack else 0
        self._scrolled(direction)

    @staticmethod
    def _require(el: Element, ok: bool, problem: str) -> None:
        if not ok:
            raise ActionError(f"element [{el.id}] ({el.role} {el.name!r}) {problem}")

    def _info(self) -> dict[str, Any]:
        return {"url": self._page.url if self._page else "", "steps": self._steps}


def _match_option(el: Element, wanted: str) -> str:
    """The option text of select `el` that `wanted` names (exact, then case-insensitive)."""
    if wanted in el.options:
        return wanted
    folded = [o for o in el.options if o.casefold() == wanted.strip().casefold()]
    if folded:
        return folded[0]
    shown = ", ".join(repr(o) for o in el.options[:15])
    raise ActionError(f"select [{el.id}] {el.name!r} has no option {wanted!r}; options: {shown}")


def _target_record(el: Element, tree: LexborHTMLParser) -> TargetElement:
    node = tree.css_first(f'[data-dp="{el.stamp}"]')
    attrs = {k: (v or "") for k, v in (node.attributes.items() if node is not None else [])}
    text = " ".join((node.text() if node is not None else "").split())
    return TargetElement(role=el.role, name=el.name, tag=el.tag, attrs=attrs, text=text[:500])
