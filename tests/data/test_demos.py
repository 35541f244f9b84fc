from domplay.data.demos import DemoConfig, DemoSet, build_demos, overlap
from tests.data.factory import by_id, make_episode, make_task


def _world():
    tasks = [
        make_task("buy1", template="buy", intent="buy a red shirt"),
        make_task("buy2", template="buy", intent="buy two blue shoes"),
        make_task("post1", template="post", intent="post a reply about red shirts"),
        make_task("held", template="buy", split="heldout", intent="buy a red hat"),
        make_task("new", template="buy", intent="buy a red shirt in size M"),
    ]
    eps = [
        make_episode("buy1", ["click(1)", "junk", "click(2)"], True),
        make_episode("buy2", ["click(4)", "click(5)"], True),
        make_episode("buy2", ["click(6)"], False, sample=1),
        make_episode("post1", ["click(7)"], True),
        make_episode("held", ["click(8)"], True),
        make_episode("post1", ["click(9)"], True, sample=2, score=0.5),
    ]
    return by_id(*tasks), eps


def test_pool_holds_only_verified_usable_training_steps():
    tasks, eps = _world()
    demos = build_demos(eps, tasks, DemoConfig())
    assert sorted((d.task_id, d.action) for d in demos.demos) == [
        ("buy1", "click(1)"),
        ("buy1", "click(2)"),
        ("buy2", "click(4)"),
        ("buy2", "click(5)"),
        ("post1", "click(7)"),
    ]
    capped = build_demos(eps, tasks, DemoConfig(max_demos_per_template=2))
    assert sum(d.template == "buy" for d in capped.demos) == 2


def test_demos_for_prefers_the_template_then_similar_intents():
    tasks, eps = _world()
    demos = build_demos(eps, tasks, DemoConfig(max_demos_per_episode=1))
    picked = demos.demos_for(tasks["new"], k=3)
    assert [d.task_id for d in picked] == ["buy1", "buy2", "post1"]  # one per episode, same template first
    by_similarity = demos.model_copy(update={"config": DemoConfig(selection="similarity")}).demos_for(tasks["new"], 2)
    assert by_similarity[0].task_id == "buy1" and overlap(tasks["new"].intent, "buy a red shirt") > 0.5
    assert all(d.task_id != "buy1" for d in demos.demos_for(tasks["buy1"], k=5))  # never its own solution
    msgs = picked[0].as_messages()
    assert [m["role"] for m in msgs] == ["user", "assistant"] and "buy a red shirt" in msgs[0]["content"]


def test_demo_sets_are_deterministic_and_round_trip_as_json(tmp_path):
    tasks, eps = _world()
    a = build_demos(eps, tasks, DemoConfig(seed=3, max_demos_per_template=1))
    b = build_demos(list(reversed(eps)), tasks, DemoConfig(seed=3, max_demos_per_template=1))
    assert a == b
    loaded = DemoSet.load(a.save(tmp_path / "demos.json"))
    assert loaded == a and loaded.demos_for(tasks["new"], 2) == a.demos_for(tasks["new"], 2)
