"""Policy parsing and the rollout engine, with a scripted model on the real shop site."""

from __future__ import annotations

import re

import pytest

from domplay.agent.policy import Policy, PolicyConfig, Query, parse_completion
from domplay.agent.rollout import RolloutConfig, RolloutEngine
from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import ActionError
from domplay.llm.scripted import ScriptedModel
from domplay.sites.app import SitesApp
from domplay.tasks.model import Task
from domplay.verify.checks import UrlCheck


@pytest.mark.parametrize(
    "text,expected",
    [
        ("click(12)", A.Click(12)),
        ("Action: click(12)", A.Click(12)),
        ('```\nfill(3, "a (b)")\n```', A.Fill(3, "a (b)")),
        ('I will answer("x)") now', A.Answer("x)")),
        ("go_back()", A.Back()),
    ],
)
def test_parse_completion_finds_the_action(text, expected):
    assert parse_completion(text) == expected


def test_parse_completion_rejects_garbage():
    with pytest.raises(ActionError, match="no action found"):
        parse_completion("I think the answer is blue")


@pytest.fixture(scope="module")
def sites():
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


def clicker(prompt):
    """Clicks the cart link by name if it can see it, else stops."""
    page = prompt[-1]["content"]
    m = re.search(r'"(Cart \(\d+\))"', page)
    return f'click("{m.group(1)}")' if m and "Previous actions" not in page else "stop()"


def test_rollout_runs_episodes_batched_and_verifies(sites):
    model = ScriptedModel(clicker)
    engine = RolloutEngine(
        Policy(model, PolicyConfig()),
        lambda: DomEnv(DomEnvConfig(max_steps=5), sites=sites),
        RolloutConfig(samples_per_task=2, concurrency=3),
    )
    stored = []
    episodes = engine.run([cart_task(i) for i in range(4)], round=1, on_episode=stored.append)
    assert len(episodes) == 8 and stored == episodes
    assert len({e.id for e in episodes}) == 8
    assert all(e.success for e in episodes), [e.verdict for e in episodes]
    assert all([s.action for s in e.steps] == ['click("Cart (0)")', "stop()"] for e in episodes)
    # Batched: 8 episodes x 2 steps with 3 slots needs far fewer than 16 generate calls.
    assert len(model.params_seen) < 16
    # Constraints went along with each prompt.
    assert all(c is not None and ("Cart (0)", None) in c.targets for c in model.constraints_seen)
    step = episodes[0].steps[0]
    assert step.prompt[-1]["content"].startswith("Task: Open the shopping cart.") and step.state_key
    # The next prompt's history shows the action, which by name says what it was on.
    assert 'Previous actions:\nclick("Cart (0)")\n' in episodes[0].steps[1].prompt[-1]["content"]


def test_history_of_an_action_by_name_does_not_repeat_the_name(sites):
    model = ScriptedModel(lambda p: 'click("Cart (0)")' if "Previous actions" not in p[-1]["content"] else "stop()")
    engine = RolloutEngine(
        Policy(model, PolicyConfig(action_form="name")),
        lambda: DomEnv(DomEnvConfig(max_steps=3), sites=sites),
        RolloutConfig(),
    )
    episode = engine.run([cart_task(0)])[0]
    assert episode.success and episode.steps[0].action == 'click("Cart (0)")'
    assert 'Previous actions:\nclick("Cart (0)")\n' in episode.steps[1].prompt[-1]["content"]


def test_rollout_skips_finished_episode_ids_and_records_parse_errors(sites):
    model = ScriptedModel(lambda prompt: "I am not sure")
    engine = RolloutEngine(
        Policy(model), lambda: DomEnv(DomEnvConfig(max_steps=3), sites=sites), RolloutConfig(concurrency=2)
    )
    first = engine.run([cart_task(0), cart_task(1)])
    assert all(not e.success and e.status == "truncated" and len(e.steps) == 3 for e in first)
    assert all(s.action is None and "no action found" in s.error for s in first[0].steps)
    assert "error: no action found" in first[0].steps[1].prompt[-1]["content"]
    again = engine.run([cart_task(0), cart_task(1)], skip={first[0].id})
    assert [e.task_id for e in again] == ["open-cart-1"]


def test_policy_prompt_shows_history_and_actions(sites):
    env = DomEnv(DomEnvConfig(start_url="/shop/"), sites=sites)
    obs, _ = env.reset()
    policy = Policy(ScriptedModel(["click(1)"]), PolicyConfig(history_steps=1))
    from domplay.agent.prompts import HistoryItem

    prompt = policy.prompt(Query("Find socks", obs, (HistoryItem("click(9)", "boom"), HistoryItem("back()"))))
    assert 'click("name")' in prompt[0]["content"] and 'answer("text")' in prompt[0]["content"]
    by_id = Policy(policy.model, PolicyConfig(action_form="id")).prompt(Query("Find socks", obs))
    assert "click(id)" in by_id[0]["content"] and 'click("name")' not in by_id[0]["content"]
    assert "back()" in prompt[-1]["content"] and "click(9)" not in prompt[-1]["content"]
    item = HistoryItem('fill(6, "socks")', "no such element", 'textbox "Search"')
    assert item.line() == 'fill(6, "socks") on textbox "Search"  -> error: no such element'
    decision = policy.act([Query("Find socks", obs)])[0]
    assert decision.action == A.Click(1) and decision.error is None


def test_reference_policy_scrolls_its_target_into_view(sites):
    from domplay.agent.policy import ReferencePolicy
    from domplay.env.observation import ObservationConfig

    env = DomEnv(DomEnvConfig(observation=ObservationConfig(max_tokens=240, ids="all")), sites=sites)
    obs, _ = env.reset(options={"start_url": "/shop/"})
    last = [e for e in obs.elements if e.interactive][-1]  # the compact rendering shows ids of these only
    assert last.id > obs.offset + obs.shown  # not shown within the budget
    task = Task(
        id="t",
        intent="x",
        site="shop",
        start_url="/shop/",
        checks=[UrlCheck(expected="/shop/")],
        difficulty="easy",
        reference=[f"click({last.id})"],
    )
    engine = RolloutEngine(
        ReferencePolicy(PolicyConfig(action_form="id")),
        lambda: DomEnv(
            DomEnvConfig(max_steps=30, observation=ObservationConfig(max_tokens=240, ids="all")), sites=sites
        ),
        RolloutConfig(),
    )
    episode = engine.run([task])[0]
    actions = [s.action for s in episode.steps]
    assert actions[-2] == f"click({last.id})" and actions[-1] == "stop()"
    assert actions[:-2] and all(a == 'scroll("down")' for a in actions[:-2])
    assert f"[{last.id}]" in episode.steps[-2].observation


def test_an_episode_repeating_itself_is_ended_early(sites):
    engine = RolloutEngine(
        Policy(ScriptedModel(lambda prompt: "click(999)")),
        lambda: DomEnv(DomEnvConfig(max_steps=12), sites=sites),
        RolloutConfig(stuck_after_repeats=3, revisit_limit=None),
    )
    episode = engine.run([cart_task(0)])[0]
    # step 1 sees a clean page, steps 2-4 the same page with the same error: stuck after 4
    assert len(episode.steps) == 4 and episode.status == "truncated" and not episode.success
    patient = RolloutEngine(
        Policy(ScriptedModel(lambda prompt: "click(999)")),
        lambda: DomEnv(DomEnvConfig(max_steps=12), sites=sites),
        RolloutConfig(stuck_after_repeats=None, steps_per_reference_step=None, revisit_limit=None),
    )
    assert len(patient.run([cart_task(0)])[0].steps) == 12


def test_an_episode_going_in_circles_is_ended_early(sites):
    """Two pages visited in turn: the third visit of the start page ends the episode (revisit_limit=3);
    without the rule it runs to max_steps."""

    def pendulum(prompt):
        """To the cart from any other page, and from the cart back to the shop's home page."""
        url = re.search(r"URL: (\S+)", prompt[-1]["content"]).group(1)
        return 'goto("/shop/")' if url.endswith("/shop/cart") else 'goto("/shop/cart")'

    task = Task(
        id="circle",
        intent="Search for socks.",
        site="shop",
        start_url="/shop/",
        checks=[UrlCheck(expected="/shop/search")],
        difficulty="easy",
    )
    circling = RolloutEngine(
        Policy(ScriptedModel(pendulum)),
        lambda: DomEnv(DomEnvConfig(max_steps=12), sites=sites),
        RolloutConfig(stuck_after_repeats=None, steps_per_reference_step=None, revisit_limit=3),
    )
    episode = circling.run([task])[0]
    assert [s.url.rsplit("/shop", 1)[1] for s in episode.steps] == ["/", "/cart", "/", "/cart"]
    assert episode.status == "truncated" and not episode.success
    patient = RolloutEngine(
        Policy(ScriptedModel(pendulum)),
        lambda: DomEnv(DomEnvConfig(max_steps=12), sites=sites),
        RolloutConfig(stuck_after_repeats=None, steps_per_reference_step=None, revisit_limit=None),
    )
    assert len(patient.run([task])[0].steps) == 12


def test_reference_replays_pass_under_the_quick_preset_budget():
    """Every template's reference, replayed as the loop does (the run config's env: 512-token
    observations, scrolling to hidden targets), passes unless it needs more than env.max_steps
    steps (such tasks are rejected at proposal time, tests/loop): otherwise hard tasks would
    vanish from the training data."""
    from domplay.agent.evaluate import run_episodes
    from domplay.agent.policy import ReferencePolicy
    from domplay.config import load_config
    from domplay.tasks.propose import TemplateProposer

    config = load_config(preset="quick")
    sites = SitesApp(seed=0, names=["shop", "forum", "admin"])
    proposer = TemplateProposer(sites)
    tasks = [proposer.make_task(t, 7, "heldout") for t in proposer.eligible("heldout")]
    proposer.close()
    assert len(tasks) >= 25 and all(t is not None for t in tasks)
    episodes = run_episodes(
        ReferencePolicy(config.policy),
        tasks,
        sites,
        env=config.env,
        rollout=config.rollout,
        seed=0,
        show_progress=False,
    )
    failed = [
        (e.task_id, len(e.steps), [r.reason for r in e.verdict.results if not r.passed])
        for e in episodes
        if not e.success and len(e.steps) < config.env.max_steps
    ]
    assert not failed, failed
    assert sum(e.success for e in episodes) >= 0.8 * len(episodes)


def test_max_steps_is_a_hard_cap_for_model_and_reference_episodes(sites):
    """No episode takes more than the env's max_steps, whatever its reference's length."""
    from domplay.agent.policy import ReferencePolicy

    long_task = cart_task(0).model_copy(update={"reference": ['scroll("down")'] * 5 + ["click(3)"]})
    for policy in (Policy(ScriptedModel(lambda prompt: 'scroll("down")')), ReferencePolicy()):
        engine = RolloutEngine(
            policy, lambda: DomEnv(DomEnvConfig(max_steps=3), sites=sites), RolloutConfig(stuck_after_repeats=None)
        )
        assert len(engine.run([long_task])[0].steps) == 3


# Model replies that once crashed a whole batch (issue 21): each is now one error step of its episode.
CRASHING_REPLIES = [
    'click("²")',
    'click("①")',
    'goto("http://[::1")',
    'goto("http://ex\uff03ample.com/")',
    'goto("/\x01")',
    'answer("\ud800")',  # a lone surrogate, as the OpenAI backend can decode from a JSON escape
    'answer("\\ud800")',  # the escape written out: the parser would make the surrogate
    'fill("Search products", "\ud800")',
]


@pytest.mark.parametrize("reply", CRASHING_REPLIES, ids=range(len(CRASHING_REPLIES)))
def test_no_reply_crashes_a_batch_and_every_episode_is_stored(sites, tmp_path, reply):
    from domplay.data.store import RunStore

    store = RunStore(tmp_path)
    engine = RolloutEngine(
        Policy(ScriptedModel(lambda prompt: reply), PolicyConfig(constrained=False)),
        lambda: DomEnv(DomEnvConfig(max_steps=2), sites=sites),
        RolloutConfig(concurrency=4),
    )
    episodes = engine.run([cart_task(i) for i in range(4)], on_episode=store.add_episode)
    assert len(episodes) == 4 and len(store.episodes()) == 4
    for episode in episodes:
        step = episode.steps[0]
        step.completion.encode("utf-8")  # stored as valid text
        if "\ud800" in reply:  # the policy replaced the lone surrogate with U+FFFD: a valid action
            assert step.error is None and "\ufffd" in step.action
        else:
            assert step.action is None or step.error is not None, step
