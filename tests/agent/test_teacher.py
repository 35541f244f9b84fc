"""Teacher-forced step accuracy: the reference drives, the model is graded by what its action does."""

from __future__ import annotations

import pytest

from domplay.agent.policy import PolicyConfig, Query
from domplay.agent.rollout import RolloutConfig
from domplay.agent.teacher import grade, order_free_block, step_accuracy
from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.env.factory import EnvSettings
from domplay.llm.scripted import ScriptedModel
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import UrlCheck


@pytest.fixture(scope="module")
def sites():
    return SitesApp(seed=0, names=("shop",))


def search_task(reference: list[str]) -> Task:
    return Task(
        id="search",
        intent="Search for socks.",
        site="shop",
        start_url="/shop/",
        checks=[UrlCheck(expected="/shop/search")],
        difficulty="easy",
        reference=reference,
    )


def test_a_run_of_fills_and_selects_may_be_done_in_any_order():
    reference = [
        'fill("Name", "Ada")',
        'select("Country", "Japan")',
        'fill("Email", "a@b.co")',
        'click("Pay")',
        'fill("Note", "hi")',
    ]
    assert order_free_block(reference, 0) == reference[:3]
    assert order_free_block(reference, 1) == reference[1:3]
    assert order_free_block(reference, 3) == ['click("Pay")']


def test_an_action_is_right_when_it_acts_on_the_same_element_with_the_same_value(sites):
    env = DomEnv(DomEnvConfig(), sites=sites)
    obs, _ = env.reset(options={"start_url": "/shop/"})
    box = next(e for e in obs.elements if e.name == "Search products")
    task = search_task([f'fill({box.id}, "socks")', 'click("Search")'])
    query = Query(intent=task.intent, observation=obs, task=task)
    wanted = f'fill({box.id}, "socks")'
    assert grade(query, wanted, A.parse_action('fill("Search products", "socks")'))  # by name = by id
    assert not grade(query, wanted, A.parse_action('fill("Search products", "shoes")'))
    assert not grade(query, wanted, A.parse_action('click("Search")'))  # the next step, not this one
    assert not grade(query, wanted, A.parse_action('fill("Nowhere", "socks")'))
    assert not grade(query, wanted, None)
    env.close()


def test_step_accuracy_grades_every_reference_step_by_kind_and_template(sites):
    model = ScriptedModel(lambda prompt: "stop()")  # right only where the reference stops
    result, grades = step_accuracy(
        model,
        [search_task(['fill("Search products", "socks")', 'click("Search")'])],
        sites,
        env=EnvSettings(),
        policy=PolicyConfig(),
        rollout=RolloutConfig(),
        seed=0,
    )
    assert [(g.kind, g.correct) for g in grades] == [("fill", False), ("click", False), ("stop", True)]
    assert result.steps == 3 and result.correct == 1
    assert result.by["kind"] == {"fill": (0, 1), "click": (0, 1), "stop": (1, 1)}
    assert result.by["template"] == {"seen": (1, 3)}


def test_a_spread_of_tasks_keeps_their_order_and_does_not_alias_with_a_cycle():
    from domplay.agent.teacher import spread

    tasks = [
        Task(
            id=f"t{i}",
            intent="x",
            site="shop",
            start_url="/shop/",
            checks=[UrlCheck(expected="/")],
            difficulty=("easy", "medium", "hard")[i % 3],
        )
        for i in range(120)
    ]
    picked = spread(tasks, 40)
    assert len(picked) == 40 and picked == sorted(picked, key=lambda t: int(t.id[1:]))
    assert {t.difficulty for t in picked} == {"easy", "medium", "hard"}  # every 3rd would be all easy
    assert spread(tasks, 40) == picked and spread(tasks, 500) == tasks
