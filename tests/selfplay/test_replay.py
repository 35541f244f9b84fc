from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.selfplay.replay import PathCheck, passes, verified_path
from domplay.sites.app import SitesApp
from domplay.verify.checks import AnswerCheck, StateCheck, UrlCheck


def env():
    return DomEnv(DomEnvConfig(max_steps=20), sites=SitesApp(0, names=["shop"]))


def link(e, start, name):
    obs, _ = e.reset(options={"start_url": start})
    return next(x.id for x in obs.elements if x.role == "link" and x.name == name)


def test_a_detour_is_dropped_and_the_path_still_passes():
    e = env()
    knit = link(e, "/shop", "Knitwear")
    home = link(e, "/shop", "All products")
    # detour: All products, back, then Knitwear
    path = [f"click({home})", "back()", f"click({knit})"]
    checks = [UrlCheck(expected="/shop/category/knitwear")]
    log = PathCheck()
    found = verified_path(e, checks, "/shop", path, 40, log)
    assert found == ['click("Knitwear")']  # shortened in name form
    assert log.reason is None and log.replays > 2


def test_a_goal_true_at_the_start_is_refused():
    e = env()
    log = PathCheck()
    assert verified_path(e, [UrlCheck(expected="/shop")], "/shop", ["click(1)"], 40, log) is None
    assert log.reason == "trivially true"


def test_a_path_that_does_not_replay_is_refused():
    e = env()
    log = PathCheck()
    assert verified_path(e, [UrlCheck(expected="/shop/cart")], "/shop", ["click(9999)"], 40, log) is None
    assert log.reason == "replay fails"


def test_an_answer_that_any_value_passes_is_refused():
    """An altered answer must fail: a check that accepts anything is not a goal."""
    e = env()
    knit = link(e, "/shop", "Knitwear")
    checks = [UrlCheck(expected="/shop/category/knitwear"), AnswerCheck(expected="_", mode="contains")]
    log = PathCheck()
    path = [f"click({knit})", 'answer("_")']
    assert verified_path(e, checks, "/shop", path, 40, log) is None
    assert log.reason == "an altered path passes too"


def test_state_goals_replay_in_fresh_namespaces():
    e = env()
    assert not passes(e, [StateCheck(path="shop.cart", op="length_eq", expected=1)], "/shop", [])


def test_a_detour_that_shifts_ids_is_dropped_in_name_form():
    """A premature submit puts an error above the form, so the form's later ids differ from the
    first page's: dropped by id, the detour would leave click(5) on another element. Shortened
    by name, it goes, and the kept path names its elements."""
    e = DomEnv(DomEnvConfig(max_steps=20), sites=SitesApp(0, names=["admin"]))
    first, _ = e.reset(options={"start_url": "/admin"})
    submit = next(x.id for x in first.elements if x.name == "Log in")
    after, *_ = e.step(f"click({submit})")
    ids = {x.name: x.id for x in after.elements}
    assert ids["Log in"] != submit  # the error message shifted the ids
    path = [
        f"click({submit})",
        f'fill({ids["Username"]}, "admin")',
        f'fill({ids["Password"]}, "admin-7311")',
        f"click({ids['Log in']})",
    ]
    log = PathCheck()
    found = verified_path(e, [UrlCheck(expected="/admin")], "/admin", path, 40, log)
    assert found == ['fill("Username", "admin")', 'fill("Password", "admin-7311")', 'click("Log in")']
