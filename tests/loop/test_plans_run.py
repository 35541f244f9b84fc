"""`domplay run` with the plans source: a planner behind an OpenAI-compatible endpoint on 127.0.0.1
(replaying written outputs) turns a high-level intent into subtasks with checks for the random learner."""

from __future__ import annotations

import pytest

from domplay.autoif.config import PlansConfig
from domplay.autoif_sources import plan_intents
from domplay.errors import ConfigError
from domplay.llm.serve import create_app
from domplay.loop import Run
from tests.autoif.plan_writer import PlanWriter
from tests.autoif.test_plans import BEST, CHECKS, DRAFTS, INTENT, PRICE_PLAN, scores
from tests.env.browser_support import serve
from tests.loop.test_autoif_run import short_run


@pytest.fixture
def planner_url():
    writer = PlanWriter(plans={INTENT: [BEST, PRICE_PLAN]}, scores=scores, drafts=DRAFTS, checks=CHECKS)
    server = serve(create_app(writer.model()))
    yield f"openai:writer@{server.base_url}/v1"
    server.stop()


def test_a_run_trains_on_the_subtasks_of_a_served_planners_plans(tmp_path, planner_url):
    intents = tmp_path / "intents.yaml"
    intents.write_text(f"- intent: {INTENT}\n  start_url: /shop/\n", encoding="utf-8")
    config = short_run(
        {
            "train_tasks_per_round": 3,
            "sources": {"plans": 1.0},
            "autoif": {"random_walks": 2},
            "plans": {"model": planner_url, "intents_file": str(intents), "walks_per_subtask": 2},
        }
    )
    run = Run(tmp_path / "run", config)
    run.execute()
    train = sorted(run.store.tasks(split="train"), key=lambda t: t.provenance.extra["subtask_index"])
    assert [t.intent for t in train] == [
        "Open the Kitchen category",
        "Open the Rustic Cast Iron French Press",
        "Read the price",
    ]
    assert all(t.checks and t.reference and t.provenance.proposer == "plans" for t in train)
    assert {t.provenance.extra["intent"] for t in train} == {INTENT}
    metrics = {m.name: m.value for m in run.store.metrics(stage="propose", round=1)}
    assert metrics["plans_tasks"] == 3 and metrics["plans_merged"] == 1 and metrics["plans_with_checks"] == 3
    assert metrics["plans_checks_dom"] == 1 and metrics["plans_replans"] == 0
    sft = next(d for d in run.store.datasets(round=1) if d.name == "sft")
    assert sft.rows > 0  # the verified paths were replayed through the prompts
    assert sft.yield_numbers["tasks_plans"] == 3 and sft.yield_numbers["plans_subtasks"] == 3
    assert "plans_with_checks" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")


def test_an_intents_file_is_read_within_limits_and_bad_items_are_named(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('[{"intent": "Open the cart", "start_url": "/shop/"}]', encoding="utf-8")
    cfg = PlansConfig(intents=({"intent": "Read a post", "start_url": "/forum/"},), intents_file=str(good))
    assert [(i.intent, i.start_url) for i in plan_intents(cfg)] == [
        ("Read a post", "/forum/"),
        ("Open the cart", "/shop/"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- intent: Open the cart\n  start_url: shop\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"item 0: .*start_url 'shop' must be a path"):
        plan_intents(PlansConfig(intents_file=str(bad)))
    bad.write_text("intent: Open the cart\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a list of"):
        plan_intents(PlansConfig(intents_file=str(bad)))


def test_a_run_with_a_bad_intents_file_fails_before_it_writes_anything(tmp_path):
    """The plans source reads its file in round 1; the run reads it at the start instead, so a
    typo does not cost round 0's evaluation and leaves no half-made run directory."""
    missing = tmp_path / "no-such-intents.yaml"
    config = short_run({"sources": {"plans": 1.0}, "plans": {"intents_file": str(missing)}})
    with pytest.raises(ConfigError, match=r"no-such-intents\.yaml"):
        Run(tmp_path / "run", config)
    assert not (tmp_path / "run").exists()
