"""`domplay run` without an oracle: training tasks from exploration, hindsight and the curriculum."""

from __future__ import annotations

import pytest

from domplay.config import PRESETS, load_config
from domplay.loop import Run
from tests.env.browser_support import serve
from tests.selfplay.external_site import app

SMALL = {
    "model": "random",
    "tasks": {
        "heldout_tasks": 3,
        "train_tasks_per_round": 8,
        "sources": {"curriculum": 0.25, "explore": 0.75},
        "hindsight": {"drafts_per_template": 40},
        "explore": {"max_walks": 60},
    },
    "rollout": {"samples_per_task": 1, "concurrency": 2, "first_model_round": 1},
    "env": {"max_steps": 10},
    "train": {"method": "none"},
    "stop": {"rounds": 2, "time_budget_min": None},
}


def test_the_selfplay_preset_reads_no_template_reference():
    config = load_config(preset="selfplay")
    assert "template" not in config.tasks.sources
    assert set(PRESETS["selfplay"]["tasks"]["sources"]) == {"explore", "curriculum"}


def test_a_selfplay_run_trains_on_tasks_it_found_itself(tmp_path):
    run = Run(tmp_path / "run", load_config(overrides=SMALL))
    run.execute()
    train = run.store.tasks(split="train")
    assert train and {t.provenance.proposer for t in train} <= {"explore", "curriculum", "hindsight"}
    assert all(t.reference for t in train)  # each carries the path that verified it
    heldout = {t.intent for t in run.store.tasks(split="heldout")}
    assert not heldout & {t.intent for t in train}
    metrics = {(m.round, m.name): m.value for m in run.store.metrics(stage="propose")}
    assert metrics[(1, "explore_tasks")] > 0 and (1, "explore_pages_discovered") in metrics
    # the paths were replayed through the prompts: verified episodes became SFT data
    assert run.store.datasets(round=1)
    sft = next(d for d in run.store.datasets(round=1) if d.name == "sft")
    assert sft.rows > 0
    # the yield table says what each source gave
    assert sft.yield_numbers["tasks_explore"] == metrics[(1, "explore_tasks")]
    assert "tasks_curriculum" in sft.yield_numbers


@pytest.fixture
def external():
    server = serve(app())
    yield server.base_url
    server.stop()


def test_a_run_on_an_external_site_gets_tasks_and_data_from_its_url(tmp_path, external):
    overrides = {
        **SMALL,
        "tasks": {
            **SMALL["tasks"],
            "sites": ["shop"],  # held-out tasks still come from a built-in site
            "sources": {"explore": 1.0},
            "explore": {"max_walks": 60, "start_urls": [external + "/"]},
        },
        "env": {"max_steps": 10, "allowed_origins": ["http://127.0.0.1:8000", external]},
        "stop": {"rounds": 1, "time_budget_min": None},
    }
    run = Run(tmp_path / "run", load_config(overrides=overrides))
    run.execute()
    train = run.store.tasks(split="train")
    assert train and all(t.site == external for t in train)
    episodes = [e for e in run.store.episodes(round=1) if e.policy == "reference"]
    assert episodes and all(e.success for e in episodes)
    sft = next(d for d in run.store.datasets(round=1) if d.name == "sft")
    assert sft.rows >= len(train)
