from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.selfplay.config import CurriculumConfig, HindsightConfig
from domplay.selfplay.curriculum import CurriculumProposer
from domplay.selfplay.hindsight import url_path
from domplay.selfplay.replay import passes
from domplay.sites.app import SitesApp
from domplay.tasks.model import Provenance, Task
from domplay.verify.value_checks import UrlCheck

SITES = SitesApp(0, names=["shop"])


def two_step_task(env) -> Task:
    obs, _ = env.reset(options={"start_url": "/shop"})
    knit = next(e for e in obs.elements if e.role == "link" and e.name == "Knitwear")
    obs, *_ = env.step(f"click({knit.id})")
    product = next(e for e in obs.elements if e.role == "link" and "/shop/product/" in (e.href or ""))
    obs, *_ = env.step(f"click({product.id})")
    return Task(
        id="shop.explore.x.r1.abc",
        intent=f'Go to the page "{product.name}".',
        site="shop",
        start_url="/shop",
        difficulty="easy",
        checks=[UrlCheck(expected=obs.url.split("8000")[1])],
        reference=[f"click({knit.id})", f"click({product.id})"],
        provenance=Provenance(proposer="explore", split="train", extra={"level": 0}),
    )


def proposer(env, failed, solved, share=1.0):
    return CurriculumProposer(
        env,
        failed,
        solved,
        CurriculumConfig(easier_share=share),
        HindsightConfig(),
        seen=set(),
        round=2,
        start_of=url_path,
    )


def test_a_failed_task_becomes_the_same_goal_from_later_on_its_path():
    env = DomEnv(DomEnvConfig(max_steps=12), sites=SITES)
    parent = two_step_task(env)
    proposal = proposer(env, [parent], []).propose(1, "train", seed=0)
    (easier,) = proposal.tasks
    assert easier.intent == parent.intent and easier.checks == parent.checks
    assert easier.start_url == "/shop/category/knitwear" and len(easier.reference) == 1  # the product click
    assert easier.provenance.proposer == "curriculum"
    assert easier.provenance.extra["level"] == -1 and easier.provenance.extra["parent"] == parent.id
    assert passes(env, easier.checks, easier.start_url, easier.reference)


def test_a_solved_task_becomes_the_same_goal_from_a_page_before_its_start():
    env = DomEnv(DomEnvConfig(max_steps=12), sites=SITES)
    parent = two_step_task(env)
    child = parent.model_copy(
        update={"start_url": "/shop/category/knitwear", "reference": parent.reference[1:], "id": "shop.c.r1.x"}
    )
    (harder,) = proposer(env, [], [child], share=0.0).propose(1, "train", seed=0).tasks
    assert harder.start_url == "/shop" and len(harder.reference) == 2
    assert harder.provenance.extra["level"] == 1
    assert passes(env, harder.checks, harder.start_url, harder.reference)
