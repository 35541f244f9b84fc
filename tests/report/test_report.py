"""The run report: built from a small real run store, checked as HTML and in headless Chromium."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from selectolax.lexbor import LexborHTMLParser

from domplay.agent.episode import Episode
from domplay.config import RunConfig, dump_config
from domplay.data.records import YieldTable
from domplay.data.store import STORE_FILE, CheckpointRecord, DatasetRecord, RunStore
from domplay.errors import ConfigError
from domplay.report import build_report
from domplay.report.cli import report
from domplay.report.viewer import ViewerConfig
from domplay.tasks.model import Provenance, Task
from domplay.verify.base import CheckResult
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import Verdict
from tests.data.factory import make_episode

HOSTILE = "</script><script>window.__pwned = 1</script><img src=x onerror=alert(1)>"
"""Model output that would break out of the report if it were not escaped."""
LONG_OBSERVATION_CHARS = 9000
SFT_LOSSES = {1: [2.0, 1.6, 1.3, 1.1], 2: [1.2, 1.0, 0.9]}
DPO_LOSSES = {1: [0.69, 0.6, 0.52], 2: [0.55, 0.41]}
SUCCESS_BY_ROUND = {0: {"h0", "h1"}, 1: {"h0", "h1", "h2"}, 2: {"h0", "h1", "h2", "h3", "h4"}}
"""Held-out task ids each round's policy solves (of h0..h5)."""
HELDOUT = 6
TRAIN_PER_ROUND = 5


def tiny_png() -> bytes:
    """A valid 2x2 PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def heldout_task(i: int) -> Task:
    site = "shop" if i % 2 == 0 else "forum"
    return Task(
        id=f"h{i}",
        intent=f"held-out task {i} on the {site}",
        site=site,
        start_url=f"/{site}/",
        difficulty=("easy", "medium", "hard")[i % 3],
        checks=[{"kind": "url", "expected": f"/{site}/done"}, {"kind": "answer", "expected": "42"}],
        provenance=Provenance(
            proposer="template",
            template=f"tpl{i % 3}",
            seed=1000 + i,
            split="heldout",
            extra={"heldout_template": i == 5},
        ),
    )


def train_task(r: int, i: int) -> Task:
    return Task(
        id=f"r{r}t{i}",
        intent=f"train task {i} of round {r}",
        site="shop",
        start_url="/shop/",
        difficulty="easy",
        checks=[{"kind": "url", "expected": "/shop/orders"}],
        provenance=Provenance(proposer="template", template="buy", seed=r * 100 + i, split="train"),
    )


def two_check_verdict(success: bool) -> Verdict:
    return Verdict(
        success=success,
        score=1.0 if success else 0.5,
        results=(
            CheckResult(kind="url", score=1.0, passed=True, reason="URL path /shop/done matches"),
            CheckResult(
                kind="answer",
                score=1.0 if success else 0.0,
                passed=success,
                reason="answer '42' matches" if success else "expected '42', got '41'",
            ),
        ),
    )


def eval_episode(r: int, task: Task, success: bool, run_dir: Path) -> Episode:
    ep = make_episode(
        task.id,
        ["click(3)", 'fill(5, "socks")', 'answer("42")'],
        success,
        policy="base" if r == 0 else f"round{r}",
        round=r,
    )
    steps = list(ep.steps)
    update: dict = {
        "verdict": two_check_verdict(success),
        "seconds": 1.5,
        "snapshot": Snapshot(
            url=f"http://127.0.0.1/{task.site}/done", html="<p>done</p>", answer="42" if success else "41"
        ),
    }
    if task.id == "h0":
        shot = Path(f"round{r}") / "shots" / "h0-0.png"
        (run_dir / shot).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / shot).write_bytes(tiny_png())
        steps[0] = steps[0].model_copy(
            update={"extra": {"screenshot": str(shot)}, "observation": "x" * LONG_OBSERVATION_CHARS}
        )
        steps[1] = steps[1].model_copy(update={"completion": HOSTILE})
    if task.id == "h1":
        update["plan"] = {
            "subtasks": ["Open the shop", "Answer with the price"],
            "subtasks_done": 1,
            "completed": False,
            "replans": [],
            "attempts": [
                {
                    "step": 0,
                    "reason": "initial",
                    "chosen": 0,
                    "subtasks": ["Open the shop"],
                    "model_seconds": 0.1,
                    "candidates": [
                        {
                            "text": "1. Open the shop",
                            "subtasks": ["Open the shop", "Answer with the price"],
                            "scores": {"relevance": 5, "feasibility": 4, "efficiency": 5, "coverage": 3},
                            "source": "model",
                            "total": 4.25,
                            "score_reply": "",
                        }
                    ],
                }
            ],
        }
    return ep.model_copy(update={"steps": steps, **update})


def finish(store: RunStore, r: int, stages: tuple[str, ...], seconds: float) -> None:
    for stage in stages:
        store.record_metrics(r, stage, {"seconds": seconds})
        store.mark_stage(r, stage, "done")


def make_run(run_dir: Path, rounds: int = 2) -> Path:
    """A run store written by hand: round 0 eval, then `rounds` full improvement rounds."""
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(RunConfig(), run_dir / "config.yaml")
    heldout = [heldout_task(i) for i in range(HELDOUT)]
    with RunStore(run_dir) as store:
        store.add_tasks(heldout, round=0)
        for t in heldout:
            store.add_episode(eval_episode(0, t, t.id in SUCCESS_BY_ROUND[0], run_dir))
        finish(store, 0, ("heldout", "eval"), 12.0)
        for r in range(1, rounds + 1):
            add_training_round(store, r)
            for t in heldout:
                store.add_episode(eval_episode(r, t, t.id in SUCCESS_BY_ROUND[r], run_dir))
            finish(store, r, ("propose", "rollout", "build", "train", "eval"), 30.0 * r)
    return run_dir


def add_training_round(store: RunStore, r: int) -> None:
    tasks = [train_task(r, i) for i in range(TRAIN_PER_ROUND)]
    store.add_tasks(tasks, round=r)
    for i, t in enumerate(tasks):
        for sample in range(2):
            store.add_episode(
                make_episode(
                    t.id,
                    ["click(1)", "click(2)"],
                    (i + sample) % 2 == 0,
                    policy=f"round{r - 1}" if r > 1 else "base",
                    sample=sample,
                    round=r,
                )
            )
    row = YieldTable(
        round=r,
        episodes=10,
        successes=5,
        failures=5,
        sft_candidates=10,
        sft_duplicates=2,
        sft_examples=8,
        pairs={"step": 3 + r, "reference": 2},
    ).as_row()
    for name, kind, rows in (("sft", "sft", 8), ("pairs", "preference", 5 + r), ("pairs_step", "step", 3 + r)):
        store.record_dataset(
            DatasetRecord(round=r, name=name, kind=kind, path=None, rows=rows, config={}, yield_numbers=row)
        )
    for name, losses in (("sft", SFT_LOSSES[r]), ("dpo", DPO_LOSSES[r])):
        store.record_checkpoint(
            CheckpointRecord(
                round=r,
                name=name,
                path=f"/runs/x/round{r}/{name}",
                config={},
                git_revision="abc123",
                metrics={"final_loss": losses[-1], "seconds": 40.0, "rows": 8, "losses": losses},
            )
        )


def viewer_json(html: str) -> dict:
    node = LexborHTMLParser(html).css_first("script#viewer-data")
    return json.loads(node.text())


def chart(doc: LexborHTMLParser, title_start: str):
    for fig in doc.css("figure.chart"):
        if fig.css_first("figcaption").text().startswith(title_start):
            return fig
    raise AssertionError(f"no chart titled {title_start!r}")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    run_dir = make_run(tmp_path_factory.mktemp("run"), rounds=2)
    path = build_report(run_dir, config=ViewerConfig(train_episodes_per_round=4, observation_chars=1000))
    return path, path.read_text(encoding="utf-8")


def test_report_is_self_contained(built):
    path, html = built
    assert path.name == "report.html"
    doc = LexborHTMLParser(html)
    for node in doc.css("[src], [href]"):
        ref = node.attributes.get("src") or node.attributes.get("href") or ""
        assert ref.startswith("#"), f"external reference {ref!r} in {node.tag}"
    assert doc.css("link") == [] and "@import" not in html
    csp = doc.css_first('meta[http-equiv="Content-Security-Policy"]').attributes["content"]
    assert "default-src 'none'" in csp
    assert HOSTILE not in html and "</script><script>window" not in html  # escaped in the embedded JSON


def test_charts_show_the_stored_numbers(built):
    doc = LexborHTMLParser(built[1])
    success = chart(doc, "Held-out success: overall")
    overall = {
        c.attributes["data-x"]: float(c.attributes["data-value"])
        for c in success.css('circle.pt[data-series="overall"]')
    }
    assert overall == pytest.approx({str(r): len(ok) / HELDOUT for r, ok in SUCCESS_BY_ROUND.items()}, abs=1e-4)
    assert {c.attributes["data-series"] for c in success.css("circle.pt")} == {"overall", "easy", "medium", "hard"}
    assert {c.attributes["data-series"] for c in chart(doc, "Held-out success by site").css("circle.pt")} == {
        "shop",
        "forum",
    }
    kinds = chart(doc, "Held-out templates vs").css("circle.pt")
    assert {c.attributes["data-series"] for c in kinds} == {"heldout template", "seen template, new seed"}
    sft = chart(doc, "SFT training loss").css('circle.pt[data-series="round 1"]')
    assert [float(c.attributes["data-value"]) for c in sft] == SFT_LOSSES[1]
    assert len(chart(doc, "DPO training loss").css("circle.pt")) == len(DPO_LOSSES[1]) + len(DPO_LOSSES[2])
    yields = chart(doc, "Data yield").css('rect.bar[data-x="round 2"]')
    assert {b.attributes["data-series"]: float(b.attributes["data-value"]) for b in yields}["step pairs"] == 5
    times = chart(doc, "Time per stage").css('rect.bar[data-x="round 1"]')
    assert sorted(b.attributes["data-series"] for b in times) == sorted(
        ["propose", "rollout", "build", "train", "eval"]
    )


def test_yield_table_and_config(built):
    doc = LexborHTMLParser(built[1])
    table = doc.css_first("table.yield")
    header = [th.text() for th in table.css("th")]
    rows = [[td.text() for td in tr.css("td")] for tr in table.css("tbody tr")]
    assert [r[0] for r in rows] == ["1", "2"]
    assert rows[1][header.index("SFT examples")] == "8" and rows[1][header.index("step pairs")] == "5"
    assert rows[0][header.index("success rate")] == "50.0%"
    assert "heldout_tasks: 120" in doc.css_first("pre.config").text()


def test_viewer_data_is_bounded_and_says_what_is_left_out(built):
    data = viewer_json(built[1])
    evals = [e for e in data["episodes"] if e["kind"] == "held-out eval"]
    assert sorted({e["round"] for e in evals}) == [0, 2] and len(evals) == 2 * HELDOUT
    train = [e for e in data["episodes"] if e["kind"] == "training"]
    assert {r: sum(e["round"] == r for e in train) for r in (1, 2)} == {1: 4, 2: 4}
    assert any("round 1: its held-out eval episodes" in line for line in data["left_out"])
    assert any("6 of 10 training episodes" in line for line in data["left_out"])
    h0 = next(e for e in evals if e["task_id"] == "h0")
    assert len(h0["steps"][0]["observation"]) < LONG_OBSERVATION_CHARS and "left out" in h0["steps"][0]["observation"]
    assert h0["steps"][0]["screenshot"].startswith("data:image/png;base64,")
    assert h0["verdict"]["results"][1] == {
        "kind": "answer",
        "score": 1.0,
        "passed": True,
        "reason": "answer '42' matches",
        "error": None,
    }
    assert data["tasks"]["h0"]["checks"][0]["kind"] == "url"


def test_partial_run_round0_and_an_unfinished_round(tmp_path):
    make_run(tmp_path, rounds=0)
    with RunStore(tmp_path) as store:
        store.add_tasks([train_task(1, 0)], round=1)
        finish(store, 1, ("propose",), 3.0)
        store.mark_stage(1, "rollout", "running")
        store.add_episode(make_episode("r1t0", ["click(1)"], True, policy="base", round=1))
    html = build_report(tmp_path).read_text(encoding="utf-8")
    doc = LexborHTMLParser(html)
    assert "Round 1 is unfinished (stages not done: rollout, build, train, eval)" in doc.css_first(".status").text()
    assert len(chart(doc, "Held-out success: overall").css('circle.pt[data-series="overall"]')) == 1
    assert "no SFT checkpoint" in chart(doc, "SFT training loss").text()
    assert "no datasets built yet" in chart(doc, "Data yield").text()
    assert [e["round"] for e in viewer_json(html)["episodes"] if e["kind"] == "training"] == [1]


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_not_a_run_directory_is_a_clear_error(tmp_path, make):
    target = make(tmp_path)
    with pytest.raises(ConfigError, match="is not a run directory"):
        build_report(target)
    assert not (tmp_path / STORE_FILE).exists()  # nothing was created
    result = CliRunner().invoke(report, [str(target)])
    assert result.exit_code == 3 and "is not a run directory" in result.output


def test_viewer_config_rejects_bad_bounds():
    with pytest.raises(ConfigError, match="observation_chars=0"):
        ViewerConfig(observation_chars=0)
    with pytest.raises(ConfigError, match="train_episodes_per_round=-1"):
        ViewerConfig(train_episodes_per_round=-1)


def test_cli_writes_the_report(tmp_path):
    make_run(tmp_path / "run", rounds=1)
    out = tmp_path / "new" / "r.html"
    result = CliRunner().invoke(report, [str(tmp_path / "run"), "--out", str(out), "--train-episodes", "1"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    assert len([e for e in viewer_json(out.read_text())["episodes"] if e["kind"] == "training"]) == 1


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _test_report_renders_in_chromium_body(built, tmp_path):
    from playwright.sync_api import sync_playwright

    path, _ = built
    problems, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (problems.append(f"dialog {d.message}"), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri())
            assert page.locator("figure.chart svg circle.pt").count() > 20
            assert page.locator("figure.chart svg rect.bar").count() > 10
            counter = page.locator("#step-counter")
            assert counter.inner_text() == "step 1 of 3"
            assert page.locator("#episode .step").get_attribute("data-step") == "0"
            assert page.locator("#episode img.shot").count() == 1  # h0 of round 0 has a screenshot
            page.click("#step-next")
            assert counter.inner_text() == "step 2 of 3"
            assert HOSTILE in page.locator("#episode .step pre").first.inner_text()  # shown as text, not run
            page.click("#step-next")
            assert page.locator("#step-next").is_disabled()
            assert "Final verdict" in page.locator("#episode .verdict").inner_text()
            assert page.locator("#episode .verdict td .badge.ok").count() == 2
            page.select_option("#sel-task", "h1")
            assert counter.inner_text() == "step 1 of 3"
            assert "plan mode: 2 subtasks, 1 done" in page.locator("#episode").inner_text()
            assert "No screenshots" in page.locator("#episode").inner_text()
            page.select_option("#sel-round", "2")
            page.select_option("#sel-kind", "training")
            assert page.locator("#sel-episode option").count() >= 1
            assert page.locator("#episode .verdict").count() == 1
            page.select_option("#sel-kind", "held-out eval")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert page.evaluate("window.__pwned === undefined")
        finally:
            browser.close()
    assert problems == []
    assert requests and all(u.startswith(("file://", "data:")) for u in requests), requests


@pytest.mark.browser
def test_report_renders_in_chromium(built, tmp_path):
    # Its own Playwright, in its own thread: this thread may already run the shared one's loop.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(_test_report_renders_in_chromium_body, built, tmp_path).result()


def test_the_viewer_shows_the_intent_an_env_stated_at_reset(tmp_path):
    make_run(tmp_path, rounds=0)
    with RunStore(tmp_path) as store:
        store.add_tasks([train_task(1, 0)], round=1)
        stated = make_episode("r1t0", ["click(1)"], True, policy="base", round=1).model_copy(
            update={"intent": 'Click on the "Submit" button.'}
        )
        store.add_episode(stated)
    episodes = viewer_json(build_report(tmp_path).read_text(encoding="utf-8"))["episodes"]
    shown = next(e for e in episodes if e["task_id"] == "r1t0")
    assert shown["intent"] == 'Click on the "Submit" button.'
    assert all(e["intent"] is None for e in episodes if e["task_id"] != "r1t0")
