"""Step screenshots: a BrowserEnv with `screenshots` on, on the real shop site in Chromium,
and the rollout engine writing them to files that the steps name."""

from __future__ import annotations

import re

import pytest

from domplay.agent.episode import Episode
from domplay.agent.policy import Policy
from domplay.agent.rollout import (
    SCREENSHOT_KEY,
    RolloutConfig,
    RolloutEngine,
    ScreenshotFiles,
)
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.llm.scripted import ScriptedModel
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import UrlCheck
from tests.env.browser_support import needs_chromium

JPEG_START = b"\xff\xd8"
POLICY = "scripted"


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(seed=0, names=["shop"])


def cart_task(i: int) -> Task:
    return Task(
        id=f"open-cart-{i}",
        intent="Open the shopping cart.",
        site="shop",
        start_url="/shop/",
        checks=[UrlCheck(expected="/shop/cart")],
        difficulty="easy",
    )


def mumble_then_cart(prompt) -> str:
    """Step 0: a reply that does not parse (nothing runs); step 1: click the cart link; then stop."""
    page = prompt[-1]["content"]
    if "Previous actions" not in page:
        return "I am not sure"
    if re.search(r"^click\(", page.split("Page:")[0], re.MULTILINE):
        return "stop()"
    m = re.search(r'"(Cart \(\d+\))"', page)
    assert m is not None, page
    return f'click("{m.group(1)}")'


def engine_for(make_env, run_dir, concurrency: int = 2) -> RolloutEngine:
    return RolloutEngine(
        Policy(ScriptedModel(mumble_then_cart)),
        make_env,
        RolloutConfig(concurrency=concurrency),
        policy_name=POLICY,
        screenshots=ScreenshotFiles(run_dir),
    )


@pytest.mark.browser
@needs_chromium
def test_rollout_writes_one_file_per_page_and_steps_name_them(sites, tmp_path):
    stale = ScreenshotFiles(tmp_path).episode_dir(Episode.make_id("open-cart-0", POLICY, 1, 0))
    stale.mkdir(parents=True)  # a crashed attempt of the same episode left files behind
    (stale / "0.jpg").write_bytes(b"stale")
    (stale / "7.jpg").write_bytes(b"stale")
    with EnvFactory(EnvSettings(kind="browser", screenshots=True), sites) as make_env:
        engine = engine_for(make_env, tmp_path)
        try:
            episodes = engine.run([cart_task(0), cart_task(1)], round=1)
        finally:
            engine.close()
    assert len(episodes) == 2
    for ep in episodes:
        actions = [s.action for s in ep.steps]
        assert ep.success and actions[0] is None and actions[1].startswith("click(") and actions[2] == "stop()"
        refs = [s.extra[SCREENSHOT_KEY] for s in ep.steps]
        # The unparsed step 0 ran nothing: step 1 acted on the same page, so it shares step 0's file.
        assert refs == [f"screenshots/{ep.id}/0.jpg", f"screenshots/{ep.id}/0.jpg", f"screenshots/{ep.id}/2.jpg"]
        files = sorted(p.name for p in (tmp_path / "screenshots" / ep.id).iterdir())
        assert files == ["0.jpg", "2.jpg"]  # the stale 7.jpg of the crashed attempt is gone
        start, cart = ((tmp_path / r).read_bytes() for r in (refs[0], refs[2]))
        assert start.startswith(JPEG_START) and cart.startswith(JPEG_START) and start != cart


def test_dom_env_records_no_screenshots(sites, tmp_path):
    engine = engine_for(lambda: DomEnv(DomEnvConfig(), sites=sites), tmp_path, concurrency=1)
    episode = engine.run([cart_task(0)])[0]
    assert episode.success and len(episode.steps) == 3
    assert all(SCREENSHOT_KEY not in s.extra for s in episode.steps)
    assert not (tmp_path / "screenshots").exists()
