"""Screenshots end to end: a browser-env run with `env.screenshots` on records held-out episodes
through the loop's own episode path (`run_episodes` with `stages.episode_options`, reference
solutions in Chromium),
resumes over a crashed episode's leftovers, and the report embeds the screenshots."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from domplay.agent.episode import Episode
from domplay.agent.evaluate import run_episodes
from domplay.agent.policy import ReferencePolicy
from domplay.agent.rollout import SCREENSHOT_KEY, SCREENSHOTS_FOLDER
from domplay.config import RunConfig
from domplay.loop import Run
from domplay.report import build_report
from domplay.stages import episode_options
from domplay.tasks.propose import TemplateProposer
from tests.env.browser_support import needs_chromium
from tests.report.test_report import BROWSER_ARGS, viewer_json

pytestmark = [pytest.mark.browser, needs_chromium]

POLICY = "base"
TASKS = 2


def browser_run(run_dir: Path) -> Run:
    config = RunConfig.model_validate(
        {"tasks": {"sites": ["shop"]}, "env": {"kind": "browser", "screenshots": True}, "rollout": {"concurrency": 2}}
    )
    return Run(run_dir, config, echo=lambda line: None)


def replay(run: Run, tasks) -> None:
    """The reference solutions of `tasks` as round-0 episodes of POLICY, stored as a stage stores them."""
    c = run.config
    run_episodes(
        ReferencePolicy(c.policy),
        tasks,
        run.ctx.sites,
        env=c.env,
        rollout=c.rollout,
        seed=c.seed,
        **episode_options(run.ctx, 0, POLICY, "eval"),
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, list[Episode]]:
    """Held-out episodes of a browser run: the first task, then a "resume" that also runs the second
    over the files a crashed attempt of it left behind."""
    run = browser_run(tmp_path_factory.mktemp("run"))
    proposer = TemplateProposer(run.ctx.sites)
    tasks = [proposer.make_task(t, 7, "heldout") for t in proposer.eligible("heldout", "easy")[:TASKS]]
    proposer.close()
    assert all(t is not None and t.reference for t in tasks)
    run.store.add_tasks(tasks, round=0)
    replay(run, tasks[:1])
    first = run.store.episodes(round=0)
    first_files = {p: p.read_bytes() for p in (run.dir / SCREENSHOTS_FOLDER).rglob("*.jpg")}
    crashed = run.dir / SCREENSHOTS_FOLDER / Episode.make_id(tasks[1].id, POLICY, 0, 0)
    crashed.mkdir(parents=True)
    for name in ("0.jpg", "99.jpg"):
        (crashed / name).write_bytes(b"left by a crashed attempt")
    replay(run, tasks)
    episodes = sorted(run.store.episodes(round=0), key=lambda e: e.task_id)
    assert [e.id for e in run.store.episodes(round=0) if e.id == first[0].id] == [first[0].id]  # not re-run
    assert {p: p.read_bytes() for p in first_files} == first_files  # a finished episode's files are kept
    run.store.close()
    return run.dir, episodes


def test_steps_name_jpeg_files_in_the_run_directory(recorded):
    run_dir, episodes = recorded
    assert len(episodes) == TASKS and all(e.success for e in episodes)
    for ep in episodes:
        refs = [s.extra[SCREENSHOT_KEY] for s in ep.steps]
        assert refs == [f"{SCREENSHOTS_FOLDER}/{ep.id}/{s.index}.jpg" for s in ep.steps]
        assert all((run_dir / r).read_bytes()[:2] == b"\xff\xd8" for r in refs)
        on_disk = sorted((run_dir / SCREENSHOTS_FOLDER / ep.id).iterdir())
        assert [p.relative_to(run_dir).as_posix() for p in on_disk] == sorted(refs)  # nothing stale left


def test_report_embeds_the_screenshots(recorded):
    run_dir, episodes = recorded
    html = build_report(run_dir).read_text(encoding="utf-8")
    shown = {e["id"]: e for e in viewer_json(html)["episodes"]}
    assert set(shown) == {e.id for e in episodes}
    for ep in episodes:
        for step, viewed in zip(ep.steps, shown[ep.id]["steps"], strict=True):
            prefix = "data:image/jpeg;base64,"
            assert viewed["screenshot"].startswith(prefix) and viewed["screenshot_note"] is None
            assert (
                base64.b64decode(viewed["screenshot"][len(prefix) :])
                == (run_dir / step.extra[SCREENSHOT_KEY]).read_bytes()
            )
            assert SCREENSHOT_KEY not in viewed["extra"]


def _shown_in_chromium(report: Path) -> list[tuple[int, int]]:
    """(naturalWidth, naturalHeight) of the screenshot at each step of the first episode."""
    from playwright.sync_api import sync_playwright

    sizes = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.resolve().as_uri())
            while True:
                img = page.locator("#episode .step img.shot")
                assert img.count() == 1
                sizes.append(tuple(img.evaluate("(i) => [i.naturalWidth, i.naturalHeight]")))
                if page.locator("#step-next").is_disabled():
                    return sizes
                page.click("#step-next")
        finally:
            browser.close()


def test_report_shows_the_screenshots_in_chromium(recorded):
    run_dir, episodes = recorded
    report = build_report(run_dir)
    # Its own Playwright, in its own thread: this thread already runs the shared one's loop.
    with ThreadPoolExecutor(1) as pool:
        sizes = pool.submit(_shown_in_chromium, report).result()
    assert len(sizes) in {len(e.steps) for e in episodes}
    assert set(sizes) == {(1280, 800)}
