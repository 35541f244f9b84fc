"""`domplay run` with the model-written task source: a proposer behind an OpenAI-compatible endpoint
on 127.0.0.1 (replaying written outputs) writes tasks for the random learner."""

from __future__ import annotations

import pytest

from domplay.config import RunConfig, load_config
from domplay.llm.serve import create_app
from domplay.loop import Run
from tests.autoif.writer import Writer, code_block, draft
from tests.env.browser_support import serve


def short_run(tasks: dict, rounds: int = 1) -> RunConfig:
    """`rounds` rounds of a random learner that trains nothing on the shop, with `tasks` (sources and
    their sections): what these runs test is the tasks."""
    return load_config(
        overrides={
            "model": "random",
            "tasks": {"sites": ["shop"], "heldout_tasks": 3, **tasks},
            "rollout": {"samples_per_task": 1, "concurrency": 2, "first_model_round": 1},
            "env": {"max_steps": 8},
            "train": {"method": "none"},
            "stop": {"rounds": rounds, "time_budget_min": None},
        }
    )


KITCHEN = "def check(snapshot):\n    return snapshot['url'].rstrip('/').endswith('/shop/category/kitchen')"


@pytest.fixture
def proposer_url():
    writer = Writer(
        draft=draft("Open the Kitchen category.", KITCHEN, ['click("Kitchen")'], [""]),
        checks=[code_block("def check(snapshot):\n    return '/category/kitchen' in snapshot['url']")],
        backtranslation="INTENT: Go to the kitchen category page.",
        judge="SCORE: 9",
    )
    server = serve(create_app(writer.model()))
    yield f"openai:writer@{server.base_url}/v1"
    server.stop()


def test_a_run_trains_on_tasks_a_served_proposer_wrote(tmp_path, proposer_url):
    config = short_run(
        {
            "train_tasks_per_round": 2,
            "sources": {"autoif": 1.0},
            "autoif": {"model": proposer_url, "drafts_per_page": 2, "random_walks": 2},
        }
    )
    run = Run(tmp_path / "run", config)
    run.execute()
    train = run.store.tasks(split="train")
    assert [t.intent for t in train] == ["Open the Kitchen category."]
    assert train[0].provenance.proposer == "autoif" and train[0].reference == ['click("Kitchen")']
    metrics = {m.name: m.value for m in run.store.metrics(stage="propose", round=1)}
    assert metrics["autoif_drafts"] == 2 and metrics["autoif_duplicates"] == 1
    assert metrics["autoif_feasibility_passed"] == 1 and metrics["autoif_tasks"] == 1
    sft = next(d for d in run.store.datasets(round=1) if d.name == "sft")
    assert sft.rows > 0  # the verified path was replayed through the prompts
    assert sft.yield_numbers["autoif_cross_validation_passed"] == 1  # the yield table of the report
    assert "autoif_drafts" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")


def test_the_metric_library_is_a_task_source_and_fills_the_review_queue(tmp_path):
    config = short_run(
        {
            "sites": ["shop", "forum"],
            "train_tasks_per_round": 2,
            "sources": {"metrics": 1.0},
            "metrics": {"trajectories_per_round": 2},
        },
        rounds=2,
    )
    run = Run(tmp_path / "run", config)
    run.execute()
    rounds = {r: run.store.tasks(split="train", round=r) for r in (1, 2)}
    # the hand-written examples become tasks, each once per run, their trajectories as references
    assert {t.provenance.extra["definition"] for t in rounds[1]} == {"shop-cart-kettle", "shop-price-press"}
    assert [t.provenance.extra["definition"] for t in rounds[2]] == ["forum-board-cooking"]
    metrics = {(m.round, m.name): m.value for m in run.store.metrics(stage="propose")}
    # round 2: the random model wrote definitions for round 1's verified trajectories; none was usable
    assert metrics[(2, "metrics_written")] == 2 and metrics[(2, "metrics_queued")] == 0
    assert not (tmp_path / "run" / "metrics" / "queue").exists()
