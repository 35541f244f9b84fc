"""MiniWoB++ in the browser env, against a small page that speaks MiniWoB++'s protocol (fixtures/miniwob);
test_miniwob_pages.py runs MiniWoB++'s own pages."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from domplay.env.browser import BrowserEnvConfig
from domplay.env.miniwob import INSTALL_HINT, MiniWoBConfig, MiniWoBEnv, MiniWoBPages, page_name
from domplay.errors import ConfigError, PageError
from domplay.tasks.miniwob import miniwob_task
from tests.env.browser_support import needs_chromium

ROOT = Path(__file__).parent / "fixtures" / "miniwob"
CONFIG = MiniWoBConfig(html_root=str(ROOT))
pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def env():
    e = MiniWoBEnv(BrowserEnvConfig(), CONFIG, task="click-test")
    yield e
    e.close()


def target_of(utterance: str) -> str:
    return re.fullmatch(r'Click on the "(\w+)" button\.', utterance).group(1)


def test_success_gives_reward_one(env):
    obs, info = env.reset(seed=1)
    target = target_of(info["intent"])
    assert any(e.name == info["intent"] for e in obs.elements)  # the page shows it too
    obs, reward, terminated, truncated, info = env.step(f'click("{target}")')
    assert (reward, terminated, truncated, info["success"], info["raw_reward"]) == (1.0, True, False, True, 1.0)


def test_failure_gives_reward_zero_and_ends(env):
    obs, info = env.reset(seed=2)
    wrong = next(e for e in obs.elements if e.role == "button" and e.name != target_of(info["intent"]))
    _, reward, terminated, _, info = env.step(f"click({wrong.id})")
    assert (reward, terminated, info["success"], info["raw_reward"]) == (0.0, True, False, -1.0)


def test_seed_decides_the_episode(env):
    runs = [env.reset(seed=s)[1]["intent"] for s in (3, 3, 4, 5, 6)]
    assert runs[0] == runs[1]
    assert len(set(runs[1:])) > 1


def test_steps_before_done_give_no_reward(env):
    env.reset(seed=7)
    _, reward, terminated, _, info = env.step("noop()")
    assert (reward, terminated, info["success"]) == (0.0, False, False)


@pytest.mark.parametrize("action", ["noop()", 'scroll("down")'])
def test_the_outcome_is_read_whether_or_not_the_action_observed_the_page(env, action):
    # noop() observes the page and reads the outcome in the same round trip; a scroll with nothing to
    # scroll to does not observe, so the outcome is read on its own (the episode's time ran out meanwhile)
    env.reset(seed=1)
    env.page.evaluate("() => core.endEpisode(-1)")
    _, reward, terminated, _, info = env.step(action)
    assert (reward, terminated, info["success"], info["raw_reward"]) == (0.0, True, False, -1.0)


def test_score_display_is_hidden_from_the_observation(env):
    env.reset(seed=1)
    env.page.evaluate("() => { document.getElementById('reward-display').textContent = 'Last reward: 0.50'; }")
    obs, *_ = env.step("noop()")
    assert "Last reward" not in obs.text
    assert "START" not in obs.text


def test_a_task_is_defined_at_reset_and_verified_by_its_checks():
    """A MiniWoB++ Task through `reset(options={"task": ...})`: its page seed is the task's, the env states
    the instruction, and the verdict comes from the task's checks on the raw reward in the backend state."""
    task = miniwob_task("click-test", 11, "heldout", success_threshold=1.0)
    e = MiniWoBEnv(BrowserEnvConfig(), CONFIG)
    try:
        _, info = e.reset(seed=999, options={"task": task})
        _, again = e.reset(seed=5, options={"task": task})
        assert info["intent"] == again["intent"]  # the task's seed, not the reset seed, draws the page
        _, reward, terminated, _, info = e.step(f'click("{target_of(info["intent"])}")')
        assert (reward, terminated, info["verdict"].success) == (1.0, True, True)
        state = e.snapshot().state["miniwob"]
        assert (state["task"], state["seed"], state["raw_reward"], state["done"]) == ("click-test", 11, 1.0, True)
    finally:
        e.close()


def test_navigation_away_is_refused_and_a_reload_ends_the_episode(env):
    env.reset(seed=1)
    for action in ('goto("")', "back()"):
        obs, _, terminated, _, _ = env.step(action)
        assert not terminated and "refused" in obs.error
    env.page.evaluate("() => location.reload()")
    obs, reward, terminated, _, info = env.step("noop(100)")
    assert terminated and reward == 0.0 and "was left or reloaded" in obs.error
    assert info["raw_reward"] == -1.0


def test_other_tasks_run_as_in_the_browser_env():
    pages = MiniWoBPages(CONFIG)
    e = MiniWoBEnv(BrowserEnvConfig(base_url=pages.base_url), CONFIG, pages=pages)
    try:  # no MiniWoB++ task: a plain BrowserEnv episode (the page is not started, no instruction)
        obs, info = e.reset(options={"start_url": "/miniwob/click-test.html"})
        assert "intent" not in info and e.snapshot().state == {}
        assert any(el.name == "START" for el in obs.elements)
    finally:
        e.close()
        pages.close()


def test_missing_file_is_a_404():
    pages = MiniWoBPages(CONFIG)
    try:
        response = httpx.get(f"{pages.base_url}/miniwob/no-such-task.html")
        assert response.status_code == 404
        assert "Traceback" not in response.text
    finally:
        pages.close()


def test_page_without_the_protocol_is_refused(tmp_path):
    (tmp_path / "miniwob").mkdir()
    (tmp_path / "miniwob" / "plain.html").write_text("<title>x</title><p>no core here</p>")
    e = MiniWoBEnv(BrowserEnvConfig(), MiniWoBConfig(html_root=str(tmp_path)), task="plain")
    try:
        with pytest.raises(PageError, match="MiniWoB"):
            e.reset(seed=0)
    finally:
        e.close()


@pytest.mark.parametrize("root", ["/no/such/folder", "ftp://example.org/html"])
def test_bad_root_is_a_config_error(root):
    with pytest.raises(ConfigError, match="html_root"):
        MiniWoBConfig(html_root=root)


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", ".hidden", "click button"])
def test_bad_task_names_are_refused(name):
    with pytest.raises(ConfigError, match="plain name"):
        MiniWoBEnv(BrowserEnvConfig(), CONFIG, task=name)


def test_start_url_names_the_task():
    assert page_name("/miniwob/click-test.html") == "click-test"
    with pytest.raises(ConfigError, match=r"/miniwob/<task>\.html"):
        page_name("/shop/")


def test_install_hint_names_the_extra():
    assert "domplay[miniwob]" in INSTALL_HINT
