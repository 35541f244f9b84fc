"""MiniWoB++ adapter against a small page that speaks MiniWoB++'s protocol (fixtures/miniwob)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domplay.env.miniwob import MiniWoBConfig, MiniWoBEnv
from domplay.errors import ConfigError, PageError
from tests.env.browser_support import needs_chromium

ROOT = Path(__file__).parent / "fixtures" / "miniwob"
pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def env():
    e = MiniWoBEnv("click-test", MiniWoBConfig(html_root=str(ROOT)))
    yield e
    e.close()


def target_of(utterance: str) -> str:
    return re.fullmatch(r'Click on the "(\w+)" button\.', utterance).group(1)


def test_success_gives_reward_one(env):
    obs, info = env.reset(seed=1)
    target = target_of(info["utterance"])
    assert any(e.name == info["utterance"] for e in obs.elements)  # the page shows it too
    button = next(e for e in obs.elements if e.role == "button" and e.name == target)
    obs, reward, terminated, truncated, info = env.step(f"click({button.id})")
    assert (reward, terminated, truncated, info["success"], info["raw_reward"]) == (1.0, True, False, True, 1.0)


def test_failure_gives_reward_zero_and_ends(env):
    obs, info = env.reset(seed=2)
    wrong = next(e for e in obs.elements if e.role == "button" and e.name != target_of(info["utterance"]))
    _, reward, terminated, _, info = env.step(f"click({wrong.id})")
    assert (reward, terminated, info["success"], info["raw_reward"]) == (0.0, True, False, -1.0)


def test_seed_decides_the_episode(env):
    runs = [env.reset(seed=s)[1]["utterance"] for s in (3, 3, 4, 5, 6)]
    assert runs[0] == runs[1]
    assert len(set(runs[1:])) > 1


def test_steps_before_done_give_no_reward(env):
    env.reset(seed=7)
    _, reward, terminated, _, info = env.step('scroll("up")')
    assert (reward, terminated, info["success"]) == (0.0, False, False)


def test_page_without_the_protocol_is_refused(tmp_path):
    (tmp_path / "miniwob").mkdir()
    (tmp_path / "miniwob" / "plain.html").write_text("<title>x</title><p>no core here</p>")
    e = MiniWoBEnv("plain", MiniWoBConfig(html_root=str(tmp_path)))
    try:
        with pytest.raises(PageError, match="MiniWoB"):
            e.reset(seed=0)
    finally:
        e.close()


@pytest.mark.parametrize("root", ["/no/such/folder", "ftp://example.org/html"])
def test_bad_root_is_a_config_error(root):
    with pytest.raises(ConfigError, match="html_root"):
        MiniWoBConfig(html_root=root)
