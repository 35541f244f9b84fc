"""DomEnv against a tiny in-process site: links, forms, validation, allowlist, isolation."""

from __future__ import annotations

import pytest
from gymnasium.utils.env_checker import check_env

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import ConfigError, PageError
from tests.env.formsite import FormSite

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def site() -> FormSite:
    return FormSite()


@pytest.fixture
def env(site: FormSite) -> DomEnv:
    e = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form"), sites=site)
    yield e
    e.close()


def ids(obs, role: str, name: str) -> int:
    return next(e.id for e in obs.elements if e.role == role and e.name == name)


def test_fill_select_radio_checkbox_and_submit_with_submitter(env: DomEnv) -> None:
    obs, _ = env.reset()
    for action in [
        f'fill({ids(obs, "textbox", "Full name")}, "Ada Lovelace")',
        f'fill({ids(obs, "textbox", "Email")}, "ada@example.org")',
        f'select({ids(obs, "combobox", "Shipping")}, "express")',
        f"click({ids(obs, 'radio', 'PayPal')})",
        f"click({ids(obs, 'checkbox', 'Gift wrap')})",
        f'fill({ids(obs, "textbox", "Note")}, "ring twice")',
    ]:
        obs, *_ = env.step(action)
        assert obs.error is None, (action, obs.error)
    assert obs.element(ids(obs, "combobox", "Shipping")).value == "Express"
    obs, *_ = env.step(f"click({ids(obs, 'button', 'Save for later')})")
    assert obs.error is None
    assert obs.url == f"{BASE}/done"  # 303 redirect followed
    assert "Orders: 1" in obs.text
    order = env.snapshot().state["forms"]["orders"][0]
    assert order == {
        "token": "t0k",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "qty": "1",
        "ship": "exp",
        "pay": "paypal",
        "gift": "yes",
        "note": "ring twice",
        "go": "save",
    }


def test_constraint_validation_blocks_like_a_browser(env: DomEnv) -> None:
    obs, _ = env.reset()
    obs, *_ = env.step(f"click({ids(obs, 'button', 'Buy now')})")
    assert "required" in obs.error and obs.url.endswith("/form")
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Full name")}, "A")')
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Email")}, "not-an-email")')
    obs, *_ = env.step(f'press({ids(obs, "textbox", "Email")}, "Enter")')
    assert "email" in obs.error
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Email")}, "a@b.co")')
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Quantity")}, "9")')
    obs, *_ = env.step(f'press({ids(obs, "textbox", "Full name")}, "Enter")')
    assert "at most 5" in obs.error
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Quantity")}, "2")')
    obs, *_ = env.step(f'press({ids(obs, "textbox", "Full name")}, "Enter")')  # implicit submission
    assert obs.error is None and obs.url.endswith("/done")
    order = env.snapshot().state["forms"]["orders"][0]
    assert order["go"] == "buy" and order["qty"] == "2" and "gift" not in order and "off" not in order


def test_a_bare_minlength_sets_no_limit_like_a_browser(env: DomEnv) -> None:
    obs, _ = env.reset()  # the search box has `minlength` without a value
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Search")}, "a")')
    obs, *_ = env.step(f"click({ids(obs, 'button', 'Search')})")
    assert obs.error is None and obs.url == f"{BASE}/search?q=a"


def test_get_form_links_back_and_fragment(env: DomEnv) -> None:
    obs, _ = env.reset()
    obs, *_ = env.step(f'fill({ids(obs, "textbox", "Search")}, "red shoes")')
    obs, *_ = env.step(f"click({ids(obs, 'button', 'Search')})")
    assert obs.url == f"{BASE}/search?q=red+shoes" and obs.title == "Search red shoes"
    obs, *_ = env.step(f"click({ids(obs, 'link', 'Top')})")
    assert obs.error is None and obs.url.endswith("q=red+shoes")
    obs, *_ = env.step("back()")
    assert obs.url == f"{BASE}/form"
    obs, *_ = env.step("go_back()")
    assert "no previous page" in obs.error
    obs, *_ = env.step('goto("/search?q=x")')
    assert obs.title == "Search x"


def test_allowlist_blocks_links_goto_and_redirects(env: DomEnv) -> None:
    obs, _ = env.reset()
    obs, *_ = env.step(f"click({ids(obs, 'link', 'Outside')})")
    assert "outside the allowed sites" in obs.error and obs.url.endswith("/form")
    obs, *_ = env.step('goto("https://evil.example/")')
    assert "outside the allowed sites" in obs.error
    obs, *_ = env.step('goto("file:///etc/passwd")')
    assert "outside the allowed sites" in obs.error
    obs, *_ = env.step(f"click({ids(obs, 'link', 'Bad redirect')})")
    assert "outside the allowed sites" in obs.error and obs.url.endswith("/form")
    obs, *_ = env.step(f"click({ids(obs, 'link', 'JSON')})")
    assert "not a web page" in obs.error


@pytest.mark.parametrize(
    "action,fragment",
    [
        ("click(", "cannot parse"),
        ("explode(3)", "unknown action"),
        ("click(999)", "no element [999]"),
        ('fill(1, "x")', "cannot be filled"),
        ('select(1, "x")', "not a select"),
        ("", "empty action"),
        ('select_option("12", "Overnight")', "has no option 'Overnight'"),
        ('scroll("sideways")', "direction"),
    ],
)
def test_malformed_and_impossible_actions_become_errors(env: DomEnv, action: str, fragment: str) -> None:
    env.reset()
    obs, reward, terminated, _, _ = env.step(action)
    assert fragment in obs.error and f"Error: {obs.error}" in obs.text
    assert not terminated and reward == 0.0


def test_answer_terminates_and_max_steps_truncates(site: FormSite) -> None:
    env = DomEnv(DomEnvConfig(base_url=BASE, start_url="/", max_steps=2), sites=site)
    env.reset()
    *_, terminated, truncated, _ = env.step('send_msg_to_user("42")')
    assert terminated and not truncated and env.snapshot().answer == "42"
    env.reset()
    env.step("click(999)")
    *_, terminated, truncated, _ = env.step("click(998)")
    assert truncated and not terminated
    with pytest.raises(ConfigError):
        env.step("stop()")


def test_two_episodes_are_isolated(site: FormSite) -> None:
    a = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form"), sites=site)
    b = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form"), sites=site)
    oa, _ = a.reset()
    b.reset()
    a.step(f'fill({ids(oa, "textbox", "Full name")}, "Only A")')
    obs, *_ = a.step(f"click({ids(oa, 'button', 'Buy now')})")
    assert "Orders: 1" in obs.text
    assert a.snapshot().state["forms"]["orders"][0]["name"] == "Only A"
    assert b.snapshot().state["forms"]["orders"] == []
    assert a.ns != b.ns


def test_refuses_pages_that_need_javascript(env: DomEnv) -> None:
    with pytest.raises(PageError, match="needs JavaScript"):
        env.reset(options={"start_url": "/js"})
    env.reset()
    obs, *_ = env.step('goto("/js")')
    assert "needs JavaScript" in obs.error


def test_action_log_records_target_element(env: DomEnv) -> None:
    obs, _ = env.reset()
    env.step(f"click({ids(obs, 'checkbox', 'Gift wrap')})")
    record = env.snapshot().actions[0]
    assert record.target.role == "checkbox" and record.target.attrs["name"] == "gift"
    assert record.url.endswith("/form") and 'name="gift"' in record.page_html


def test_scroll_moves_the_window_and_says_what_was_cut(site: FormSite) -> None:
    from domplay.env.observation import ObservationConfig

    env = DomEnv(
        DomEnvConfig(base_url=BASE, start_url="/form", observation=ObservationConfig(max_tokens=100)), sites=site
    )
    obs, _ = env.reset()
    assert obs.cut_note is not None and 'scroll("down")' in obs.text
    first_shown = obs.shown
    obs, *_ = env.step('scroll("down")')
    assert obs.offset == first_shown and "[above:" in obs.text
    obs, *_ = env.step('scroll("up")')
    assert obs.offset == 0


def test_gymnasium_check_env(site: FormSite) -> None:
    env = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form"), sites=site)
    check_env(env, skip_render_check=True)


def test_in_process_sites_work_inside_a_running_event_loop(site: FormSite) -> None:
    """Playwright's sync API leaves an event loop running in its thread; DomEnv must still work."""
    import asyncio

    async def inside() -> str:
        env = DomEnv(DomEnvConfig(base_url=BASE, start_url="/form"), sites=site)
        obs, _ = env.reset()
        obs, *_ = env.step(f"click({ids(obs, 'link', 'Home')})")
        env.close()
        return obs.title

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a fresh thread: this one may already run Playwright's loop
        assert pool.submit(asyncio.run, inside()).result() == "Home"


def test_read_only_fields_cannot_be_filled(site: FormSite) -> None:
    from selectolax.lexbor import LexborHTMLParser

    from domplay.env.observation import extract_page, stamp_tree

    tree = LexborHTMLParser('<html><body><input id=a readonly value="x"><input id=b></body></html>')
    stamp_tree(tree)
    page = extract_page(tree, "http://x/")
    assert page.elements[0].readonly and not page.elements[1].readonly
