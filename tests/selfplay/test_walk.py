import random

from domplay.env import actions as A
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.selfplay.config import ExploreConfig
from domplay.selfplay.walk import RandomWalker, record_walk, replay_walk
from domplay.sites.app import SitesApp

SITES = SitesApp(0, names=["shop"])


def test_touching_a_form_field_fills_the_form_and_presses_its_button():
    env = DomEnv(DomEnvConfig(max_steps=20), sites=SITES)
    obs, _ = env.reset(options={"start_url": "/shop/product/33"})
    button = next(e for e in obs.elements if e.role == "button" and e.name == "Add to cart")
    fields = [e.id for e in obs.elements if e.role in ("textbox", "combobox") and e.id < button.id]
    for seed in range(50):
        walker = RandomWalker(
            ExploreConfig(form_probability=1.0, back_probability=0.0), random.Random(seed), env.resolve_url
        )
        first = A.parse_action(walker(obs, set()))
        if isinstance(first, (A.Fill, A.Select)) and first.target in fields:
            break
    else:
        raise AssertionError("no seed picked a field of the cart form")
    rest = [A.parse_action(walker(obs, set())) for _ in range(len(walker._queue))]
    assert isinstance(rest[-1], A.Click) and rest[-1].target == button.id
    quantity = next(e for e in obs.elements if e.name == "Quantity")
    for action in [first, *rest]:
        if isinstance(action, A.Fill) and action.target == quantity.id:
            assert action.text.isdigit()


def test_a_walk_records_a_snapshot_per_step_and_replays_the_same():
    env = DomEnv(DomEnvConfig(max_steps=20), sites=SITES)
    walker = RandomWalker(ExploreConfig(), random.Random(4), env.resolve_url)
    visited: set[str] = set()
    walk = record_walk(env, "/shop", walker, 5, visited)
    assert len(walk.snapshots) == len(walk.actions) + 1 == len(walk.errors) + 1
    assert walk.pages[0].endswith("/shop/") and set(visited) >= {p.split("#")[0] for p in walk.pages}
    again = replay_walk(env, "/shop", walk.actions)
    assert again.pages == walk.pages and again.errors == walk.errors


def test_a_login_form_gets_an_account_lent_for_its_pages_and_the_walk_signs_in():
    from domplay.selfplay.config import Account

    sites = SitesApp(0, names=["admin"])
    ((username, password),) = sites.sites["admin"].accounts()
    lent = (Account(url_prefix="/admin/", username=username, password=password),)
    config = ExploreConfig(form_probability=1.0, back_probability=0.0, login_probability=1.0, accounts=lent)
    env = DomEnv(DomEnvConfig(max_steps=20), sites=sites)
    signed_in = 0
    for seed in range(30):
        walk = record_walk(env, "/admin/", RandomWalker(config, random.Random(seed), env.resolve_url), 4, set())
        typed = [a for a in walk.actions if a.startswith("fill(")]
        if any(f'"{password}"' in a for a in typed):  # the username goes in first, whichever box was touched
            assert f'"{username}"' in typed[0] and f'"{password}"' in typed[1], walk.actions
        signed_in += walk.snapshots[-1].state["admin"]["logged_in"] is True
    assert signed_in >= 10
    # an account for other pages, or none, and the form gets words read on the page
    elsewhere = config.model_copy(update={"accounts": (lent[0].model_copy(update={"url_prefix": "/forum/"}),)})
    for seed in range(30):
        walk = record_walk(env, "/admin/", RandomWalker(elsewhere, random.Random(seed), env.resolve_url), 3, set())
        assert not any(f'"{password}"' in a for a in walk.actions)


def test_account_prefixes_match_paths_or_whole_urls():
    from domplay.selfplay.walk import _applies

    assert _applies("/admin/", "http://127.0.0.1:8000/admin/login?next=/admin/")
    assert _applies("/admin/", "http://127.0.0.1:8000/admin")
    assert not _applies("/admin/", "http://127.0.0.1:8000/administrator/")
    assert _applies("http://127.0.0.1:9000/app", "http://127.0.0.1:9000/app/login")
    assert not _applies("http://127.0.0.1:9000/app", "http://127.0.0.1:8000/app/login")
