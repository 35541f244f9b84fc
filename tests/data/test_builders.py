import random

import pytest

from domplay.data.builders import build_round, build_sft
from domplay.data.config import BuildConfig
from domplay.errors import ConfigError
from tests.data.factory import by_id, make_episode, make_task, prompt_at

NO_CAPS = BuildConfig(max_examples_per_task=None, max_examples_per_template=None)


def test_sft_keeps_only_usable_steps_of_verified_successes():
    task = make_task("t1")
    ok = make_episode(
        "t1", ["click(1)", "junk", "click(2)", "click(9)", 'answer("4")'], True, errors={3: "no element 9"}
    )
    failed = make_episode("t1", ["click(5)"], False, sample=1)
    broken = make_episode("t1", ["click(6)"], True, sample=2, error_verdict=True)
    unverified = make_episode("t1", ["click(7)"], None, sample=3)
    examples, stats = build_sft([ok, failed, broken, unverified], by_id(task), NO_CAPS)
    assert [e.completion for e in examples] == ["click(1)", "click(2)", 'answer("4")']
    assert [e.step_index for e in examples] == [0, 2, 4]
    assert all(e.episode_id == ok.id for e in examples)
    # the prompt is the one the policy saw at that step
    assert examples[1].prompt == prompt_at("t1", ["click(1)", "junk"])
    assert stats.candidates == 3 and stats.duplicates == 0


def test_heldout_tasks_never_feed_data():
    train, held = make_task("t1"), make_task("h1", split="heldout")
    eps = [
        make_episode("t1", ["click(1)"], True),
        make_episode("h1", ["click(1)"], True),
        make_episode("h1", ["click(2)"], False, sample=1),
    ]
    data = build_round(eps, by_id(train, held), NO_CAPS, round=0)
    assert {e.source.task_id for e in data.sft} == {"t1"}
    assert all(p.source.task_id != "h1" for pairs in data.pairs.values() for p in pairs)
    assert data.yield_table.heldout_episodes == 2


def test_same_prompt_and_completion_kept_once():
    task = make_task("t1")
    eps = [make_episode("t1", ["click(1)", "click(2)"], True, sample=s) for s in range(3)]
    examples, stats = build_sft(eps, by_id(task), NO_CAPS)
    assert len(examples) == 2 and stats.duplicates == 4
    assert len({(e.state_key, e.completion) for e in examples}) == 2


def test_caps_per_task_and_per_template():
    tasks = [make_task(f"a{i}", template="easy") for i in range(5)] + [make_task("b0", template="hard")]
    eps = [make_episode(t.id, [f"click({j})" for j in range(6)], True) for t in tasks]
    cfg = BuildConfig(max_examples_per_task=4, max_examples_per_template=10)
    examples, stats = build_sft(eps, by_id(*tasks), cfg)
    per_task = {t.id: sum(e.source.task_id == t.id for e in examples) for t in tasks}
    assert max(per_task.values()) == 4
    assert sum(e.source.template == "easy" for e in examples) == 10
    assert per_task["b0"] == 4  # the other template is not crowded out
    assert stats.capped == 36 - len(examples) == 36 - 14


def test_selection_is_seeded_and_independent_of_input_order():
    tasks = [make_task(f"a{i}") for i in range(4)]
    eps = [make_episode(t.id, [f"click({j})" for j in range(8)], True, sample=s) for t in tasks for s in range(2)]
    cfg = BuildConfig(max_examples_per_task=3, seed=7)
    first, _ = build_sft(eps, by_id(*tasks), cfg)
    shuffled = eps[:]
    random.Random(0).shuffle(shuffled)
    again, _ = build_sft(shuffled, by_id(*tasks), cfg)
    assert [e.as_row() for e in first] == [e.as_row() for e in again]
    other, _ = build_sft(eps, by_id(*tasks), cfg.model_copy(update={"seed": 8}))
    assert [e.as_row() for e in other] != [e.as_row() for e in first]


def test_min_score_and_raw_completions_and_reference_switch():
    task = make_task("t1")
    low = make_episode("t1", ["click( 1 )"], True, score=0.5)
    ref = make_episode("t1", ["click(3)"], True, policy="reference")
    examples, stats = build_sft([low, ref], by_id(task), BuildConfig(min_score=0.8))
    assert [e.policy for e in examples] == ["reference"] and stats.below_min_score == 1
    raw, _ = build_sft([low], by_id(task), BuildConfig(completion_text="raw"))
    assert raw[0].completion == "click( 1 )"
    canonical, _ = build_sft([low], by_id(task), BuildConfig())
    assert canonical[0].completion == "click(1)"
    no_ref, _ = build_sft([ref], by_id(task), BuildConfig(include_reference=False))
    assert no_ref == []


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="t9"):
        build_sft([make_episode("t9", ["click(1)"], True)], {}, BuildConfig())


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="max_examples_per_task"):
        BuildConfig(max_examples_per_task=0)
    with pytest.raises(ValueError, match="min_scor"):
        BuildConfig(min_scor=0.5)


def test_yield_table_counts_each_stage():
    t1, t2 = make_task("t1"), make_task("t2")
    eps = [
        make_episode("t1", ["click(1)", "click(2)"], True, sample=0),
        make_episode("t1", ["click(1)", "click(2)"], True, sample=1),  # duplicate steps
        make_episode("t1", ["click(1)", "click(5)"], False, sample=2),  # diverges at step 1
        make_episode("t1", ["click(4)"], None, sample=3),  # unverified
        make_episode("t2", ["click(1)"], False, sample=0),
        make_episode("t2", ["click(2)"], True, sample=1, error_verdict=True),
    ]
    row = build_round(eps, by_id(t1, t2), NO_CAPS, round=3).yield_table.as_row()
    assert row == {
        "round": 3,
        "episodes": 6,
        "heldout_episodes": 0,
        "invalid_episodes": 2,
        "successes": 2,
        "failures": 2,
        "sft_candidates": 4,
        "sft_below_min_score": 0,
        "sft_duplicates": 2,
        "sft_capped": 0,
        "sft_examples": 2,
        "success_rate": 0.5,
        "pairs_step": 1,
        "pairs_trajectory": 1,
        "pairs_reference": 0,
        "pairs_spin": 0,
    }
