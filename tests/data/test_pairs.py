import pytest

from domplay.agent.episode import state_key
from domplay.data.builders import build_sft
from domplay.data.config import BuildConfig
from domplay.data.pairs import reference_pairs, spin_pairs, step_pairs, trajectory_pairs
from domplay.data.records import PreferencePair, Source
from domplay.errors import ModelError, StoreError
from tests.data.factory import by_id, make_episode, make_task, prompt_at

CFG = BuildConfig()


def _step_of(episodes, episode_id, key):
    ep = next(e for e in episodes if e.id == episode_id)
    return next(s for s in ep.steps if s.state_key == key)


def assert_same_state(pairs, episodes):
    """Every pair's prompt is the prompt both of its source steps saw."""
    for p in pairs:
        assert p.chosen != p.rejected
        assert state_key(p.prompt) == p.state_key
        for eid in (p.chosen_episode_id, p.rejected_episode_id):
            if eid is not None:
                assert _step_of(episodes, eid, p.state_key).prompt == p.prompt


def test_step_pairs_come_only_from_identical_states():
    task = make_task("t1")
    win = make_episode("t1", ["click(1)", "click(2)", "click(3)"], True, sample=0)
    lose = make_episode("t1", ["click(1)", "click(7)", "click(3)"], False, sample=1)
    other = make_episode("t1", ["click(8)", "click(2)"], False, sample=2)  # different state at step 1
    eps = [win, lose, other]
    pairs = step_pairs(eps, by_id(task), CFG)
    got = {(p.step_index, p.chosen[0]["content"], p.rejected[0]["content"]) for p in pairs}
    # step 0: click(1) vs click(8); step 1: click(2) vs click(7); never step 2 (states differ by history)
    assert got == {(0, "click(1)", "click(8)"), (1, "click(2)", "click(7)")}
    assert pairs[0].prompt == prompt_at("t1", []) or pairs[1].prompt == prompt_at("t1", [])
    assert_same_state(pairs, eps)


def test_unparsed_completion_can_be_rejected():
    task = make_task("t1")
    eps = [make_episode("t1", ["click(1)"], True), make_episode("t1", ["I will click"], False, sample=1)]
    pairs = step_pairs(eps, by_id(task), CFG)
    assert [(p.chosen[0]["content"], p.rejected[0]["content"]) for p in pairs] == [("click(1)", "I will click")]
    assert step_pairs(eps, by_id(task), BuildConfig(pair_unparsed_rejected=False)) == []


def test_same_action_in_a_failed_episode_makes_no_pair():
    task = make_task("t1")
    eps = [make_episode("t1", ["click(1)"], True), make_episode("t1", ["click( 1 )"], False, sample=1)]
    assert step_pairs(eps, by_id(task), CFG) == []


def test_pairs_per_state_are_capped_and_deduped():
    task = make_task("t1")
    wins = [make_episode("t1", [f"click({i})"], True, sample=i) for i in range(3)]
    loses = [make_episode("t1", [f"click({10 + i})"], False, sample=10 + i) for i in range(3)]
    dup = make_episode("t1", ["click(10)"], False, sample=20)
    all_pairs = step_pairs(wins + loses + [dup], by_id(task), BuildConfig(max_pairs_per_state=None))
    assert len(all_pairs) == 9  # 3 x 3; the duplicate failure adds nothing new
    capped = step_pairs(wins + loses, by_id(task), BuildConfig(max_pairs_per_state=4))
    assert len(capped) == 4 and {p.state_key for p in capped} == {all_pairs[0].state_key}


def test_inconsistent_state_keys_are_refused():
    task = make_task("t1")
    win = make_episode("t1", ["click(1)"], True)
    lose = make_episode("t1", ["click(2)"], False, sample=1)
    forged = lose.steps[0].model_copy(update={"prompt": [{"role": "user", "content": "another page"}]})
    lose = lose.model_copy(update={"steps": [forged]})
    with pytest.raises(StoreError, match="prompts differ"):
        step_pairs([win, lose], by_id(task), CFG)


def test_pair_refuses_equal_answers():
    src = Source(task_id="t1", template=None, seed=None, round=0, verifier_version=1)
    with pytest.raises(StoreError, match="chosen == rejected"):
        PreferencePair(
            kind="step",
            prompt=prompt_at("t1", []),
            chosen=[{"role": "assistant", "content": "x"}],
            rejected=[{"role": "assistant", "content": "x"}],
            source=src,
            state_key="k",
            step_index=0,
            chosen_episode_id=None,
            rejected_episode_id=None,
            chosen_policy="a",
            rejected_policy="b",
            chosen_score=None,
            rejected_score=None,
        )


def _ref_case(model_steps, model_success, ref_steps=("click(1)", "click(2)"), ref_success=True, model_score=None):
    task = make_task("t1")
    ref = make_episode("t1", list(ref_steps), ref_success, policy="reference")
    model = make_episode("t1", list(model_steps), model_success, policy="m1", score=model_score)
    pairs = reference_pairs([ref, model], by_id(task), CFG)
    assert_same_state(pairs, [ref, model])
    return [(p.chosen_policy, p.step_index, p.chosen[0]["content"], p.rejected[0]["content"]) for p in pairs]


def test_reference_wins_when_the_model_failed():
    assert _ref_case(["click(1)", "click(5)"], False) == [("reference", 1, "click(2)", "click(5)")]


def test_reference_wins_over_a_longer_success_and_loses_to_a_shorter_one():
    assert _ref_case(["click(3)", "click(4)", "click(5)"], True) == [("reference", 0, "click(1)", "click(3)")]
    assert _ref_case(["click(3)"], True) == [("m1", 0, "click(3)", "click(1)")]


def test_reference_pairs_need_a_verified_winner_and_a_difference():
    assert _ref_case(["click(3)", "click(4)"], True) == []  # same rank: no preference
    assert _ref_case(["click(3)"], False, ref_success=False) == []  # nobody succeeded
    assert _ref_case(["click(3)"], True, ref_success=False) == [("m1", 0, "click(3)", "click(1)")]
    assert _ref_case(["click(3)", "click(4)"], True, model_score=0.5) == [("reference", 0, "click(1)", "click(3)")]


def test_trajectory_pairs_are_multi_turn_from_the_first_prompt():
    task = make_task("t1")
    win = make_episode("t1", ["click(1)", "click(2)"], True)
    lose = make_episode("t1", ["click(1)", "click(9)", "stop()"], False, sample=1)
    (pair,) = trajectory_pairs([win, lose], by_id(task), CFG)
    assert pair.prompt == prompt_at("t1", [])
    assert [m["role"] for m in pair.chosen] == ["assistant", "user", "assistant"]
    assert [m["content"] for m in pair.rejected][::2] == ["click(1)", "click(9)", "stop()"]
    assert pair.rejected[1]["content"] == win.steps[1].observation  # the observation after click(1)
    assert trajectory_pairs([win, lose], by_id(task), BuildConfig(max_trajectory_steps=2)) == []


def test_spin_pairs_use_the_generated_answer_as_rejected():
    task = make_task("t1")
    eps = [make_episode("t1", ["click(1)", "click(2)", "click(3)"], True)]
    examples, _ = build_sft(eps, by_id(task), CFG)
    histories = [[], ["click(1)"], ["click(1)", "click(2)"]]
    answers = ["click( 1 )", "click(7)", "go home"]  # the first agrees with the target once canonicalized
    scripted = {prompt_at("t1", h)[-1]["content"]: a for h, a in zip(histories, answers, strict=True)}
    calls = []

    def generate(prompts):
        calls.append(len(prompts))
        return [scripted[p[-1]["content"]] for p in prompts]

    pairs, stats = spin_pairs(examples, generate, policy="m1", batch_size=2)
    assert calls == [2, 1]
    assert sorted((p.chosen[0]["content"], p.rejected[0]["content"]) for p in pairs) == [
        ("click(2)", "click(7)"),
        ("click(3)", "go home"),
    ]
    assert stats.agreements == 1 and stats.pairs == 2 and all(p.rejected_policy == "m1" for p in pairs)
    assert_same_state(pairs, eps)
    with pytest.raises(ModelError, match="one per prompt"):
        spin_pairs(examples, lambda prompts: [], policy="m1")
