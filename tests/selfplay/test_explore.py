import pytest

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import ConfigError
from domplay.selfplay.config import ExploreConfig, HindsightConfig
from domplay.selfplay.explore import ExplorationProposer
from domplay.selfplay.harvest import Harvester
from domplay.selfplay.hindsight import DomRelabeller, TemplateRelabeller, url_path
from domplay.selfplay.replay import passes
from domplay.sites.app import SitesApp
from domplay.tasks.templates import all_templates
from tests.env.browser_support import serve
from tests.selfplay.external_site import app


@pytest.fixture(scope="module")
def external():
    server = serve(app())
    yield server.base_url
    server.stop()


def harvester(env, relabellers, seen=None, per_family=50):
    return Harvester(
        env,
        relabellers,
        HindsightConfig(),
        site_of=lambda u: u.split("/")[0] + "//" + u.split("/")[2],
        start_of=lambda u: u,
        seen=set() if seen is None else seen,
        max_per_family=per_family,
        proposer="explore",
        round=1,
    )


def test_an_external_site_yields_verified_tasks_from_nothing_but_its_url(external):
    env = DomEnv(DomEnvConfig(max_steps=12, allowed_origins=(external,)), sites=SitesApp(0, names=[]))
    proposer = ExplorationProposer(
        env, harvester(env, [DomRelabeller(HindsightConfig())]), ExploreConfig(max_walks=60), [external + "/"]
    )
    proposal = proposer.propose(20, "train", seed=3)
    assert len(proposal.tasks) >= 5
    intents = {t.intent for t in proposal.tasks}
    assert 'Open the page "Red Gadget" and tell me its price.' in intents or any("price" in i for i in intents)
    assert any(t.provenance.extra["family"] == "dom.page" for t in proposal.tasks)
    for t in proposal.tasks:
        assert t.site == external and t.start_url.startswith(external) and t.provenance.proposer == "explore"
        # the kept path passes its checks in a fresh episode; without its last step it fails
        assert passes(env, t.checks, t.start_url, t.reference)
        assert not passes(env, t.checks, t.start_url, t.reference[:-1])
    assert proposal.stats["pages_discovered"] >= 5 and proposal.stats["walks"] >= 1
    # the same seed explores the same way
    again = ExplorationProposer(
        env, harvester(env, [DomRelabeller(HindsightConfig())]), ExploreConfig(max_walks=60), [external + "/"]
    ).propose(20, "train", seed=3)
    assert [t.id for t in again.tasks] == [t.id for t in proposal.tasks]
    proposer.close()


def test_goals_already_known_are_not_proposed_again_and_families_are_capped():
    sites = SitesApp(0, names=["shop"])
    env = DomEnv(DomEnvConfig(max_steps=12), sites=sites)
    tr = TemplateRelabeller(sites, all_templates(), HindsightConfig(drafts_per_template=60), seed=0)
    first = ExplorationProposer(
        env, harvester(env, [tr], per_family=2), ExploreConfig(max_walks=150), ["/shop"], goal_starts=tr.start_urls()
    ).propose(30, "train", seed=1)
    assert first.tasks
    families = [t.provenance.extra["family"] for t in first.tasks]
    assert max(families.count(f) for f in families) <= 2
    known = {t.intent for t in first.tasks}
    second = ExplorationProposer(
        env, harvester(env, [tr], seen=set(known)), ExploreConfig(max_walks=150), ["/shop"], goal_starts=tr.start_urls()
    ).propose(30, "train", seed=1)
    assert not known & {t.intent for t in second.tasks}
    assert all(url_path(t.start_url) for t in second.tasks)


def test_exploration_needs_a_start_and_proposes_training_tasks_only():
    env = DomEnv(DomEnvConfig(max_steps=12), sites=SitesApp(0, names=["shop"]))
    with pytest.raises(ConfigError, match="start URL"):
        ExplorationProposer(env, harvester(env, []), ExploreConfig(), [])
    with pytest.raises(ConfigError, match="training tasks only"):
        ExplorationProposer(env, harvester(env, []), ExploreConfig(), ["/shop"]).propose(3, "heldout", seed=0)


def test_tasks_are_taken_family_by_family_from_a_larger_pool():
    import random

    from domplay.selfplay.explore import by_family
    from domplay.tasks.model import Provenance, Task
    from domplay.verify.value_checks import UrlCheck

    def task(family: str, k: int) -> Task:
        return Task(
            id=f"web.explore.{family}.{k}",
            intent=f"{family} {k}",
            site="shop",
            start_url="/shop",
            difficulty="easy",
            checks=[UrlCheck(expected="/shop")],
            provenance=Provenance(proposer="explore", split="train", extra={"family": family}),
        )

    pool = [task("common", k) for k in range(20)] + [task("rare", k) for k in range(2)] + [task("odd", 0)]
    picked = by_family(pool, 9, random.Random(0))
    counts = {f: sum(t.provenance.extra["family"] == f for t in picked) for f in ("common", "rare", "odd")}
    assert counts == {"common": 6, "rare": 2, "odd": 1} and len({t.id for t in picked}) == 9
    assert len(by_family(pool, 50, random.Random(0))) == len(pool)


def test_a_round_of_exploration_reaches_the_admin_site_through_its_lent_login():
    from domplay.sources import with_site_accounts

    sites = SitesApp(0, names=["admin"])
    env = DomEnv(DomEnvConfig(max_steps=12), sites=sites)
    tr = TemplateRelabeller(sites, all_templates(), HindsightConfig(drafts_per_template=200), seed=0)
    config = ExploreConfig(max_walks=200, pool_factor=1.0)
    assert with_site_accounts(config.model_copy(update={"site_accounts": False}), sites).accounts == ()
    found = ExplorationProposer(
        env, harvester(env, [tr]), with_site_accounts(config, sites), ["/admin"], goal_starts=tr.start_urls()
    ).propose(4, "train", seed=1)
    assert found.tasks and all(t.provenance.extra["family"].startswith("admin_") for t in found.tasks)
    for t in found.tasks:  # each path signs in, and replaying it passes the task's checks
        assert any("admin-" in a for a in t.reference or []) and passes(env, t.checks, t.start_url, t.reference)
