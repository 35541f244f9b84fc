"""The `widgets` site: its JSON API and rules over HTTP, and every widget in real Chromium."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from starlette.testclient import TestClient

from domplay.env.browser import BrowserEnv, BrowserEnvConfig
from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.errors import PageError
from domplay.sites.app import SitesApp
from domplay.sites.server import SiteServer
from domplay.sites.widgets import WidgetsSite
from domplay.sites.widgets import data as D
from tests.env.browser_support import needs_chromium

PAGES = [
    "/widgets/",
    "/widgets/tabs",
    "/widgets/modal",
    "/widgets/autocomplete",
    "/widgets/list",
    "/widgets/datepicker",
]


@pytest.fixture(scope="module")
def app() -> SitesApp:
    return SitesApp(seed=5, names=["widgets"])


@pytest.fixture(scope="module")
def server(app):
    with SiteServer(app) as s:
        yield s


def client(app: SitesApp) -> TestClient:
    return TestClient(app.asgi, base_url="http://127.0.0.1")


# -- HTTP ---------------------------------------------------------------------------------
def test_every_page_says_it_needs_javascript(app):
    c = client(app)
    for path in PAGES:
        r = c.get(path)
        assert r.status_code == 200
        assert '<meta name="domplay:requires" content="javascript">' in r.text
        assert re.search(r'(src|href)="(https?:)?//', r.text) is None  # no external resources


def test_domenv_refuses_widget_pages(server):
    # Over HTTP: DomEnv's in-process transport cannot run beside Playwright's event loop,
    # which the browser tests of the same session leave running in this thread.
    env = DomEnv(DomEnvConfig(base_url=server.base_url))
    with pytest.raises(PageError, match="needs JavaScript"):
        env.reset(options={"start_url": "/widgets/tabs"})


def test_seeded_data_is_deterministic():
    a, b, other = WidgetsSite(1).data, WidgetsSite(1).data, WidgetsSite(2).data
    assert a == b
    assert a != other
    assert len(a.items) == D.ITEM_COUNT and list(a.cities) == sorted(a.cities)
    assert a.max_date - a.min_date == timedelta(days=D.BOOKING_WINDOW_DAYS)


def test_rules():
    cities = ("Berlin", "Bern", "Dublin", "Lisbon", "Oslo")
    assert D.suggest_cities(cities, "BER") == ["Berlin", "Bern"]
    assert D.suggest_cities(cities, "lin") == ["Berlin", "Dublin"]
    assert D.suggest_cities(cities, " ") == []
    data = WidgetsSite(0).data
    first_page, more = D.items_page(data.items, 1)
    assert [i.id for i in first_page] == list(range(1, 11)) and more
    last_page, more = D.items_page(data.items, 3)
    assert [i.id for i in last_page] == list(range(21, 26)) and not more
    saturday = next(
        data.min_date + timedelta(days=k) for k in range(7) if (data.min_date + timedelta(days=k)).weekday() == 5
    )
    assert not D.date_allowed(saturday, data)
    assert not D.date_allowed(data.min_date - timedelta(days=1), data)
    assert D.validate_contact("Ada", "ada@example.org", "Billing", "Hello there") == {}
    assert set(D.validate_contact("", "nope", "Other", "hi")) == {"name", "email", "topic", "message"}


def test_api_records_outcomes_per_namespace(app):
    c, other = client(app), client(app)
    data = app.sites["widgets"].data
    assert c.post("/widgets/api/tab", json={"tab": "reviews"}).status_code == 200
    assert c.post("/widgets/api/tab", json={"tab": "nope"}).status_code == 422
    bad = c.post("/widgets/api/contact", json={"name": "", "email": "x", "topic": "Billing", "message": "hello"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"name", "email"}
    ok = c.post(
        "/widgets/api/contact", json={"name": "Ada", "email": "a@b.org", "topic": "Returns", "message": "Broken lid"}
    )
    assert ok.json() == {"ok": True, "ticket": 1}
    assert c.post("/widgets/api/city", json={"city": data.cities[0].upper()}).json()["city"] == data.cities[0]
    assert c.post("/widgets/api/city", json={"city": "Atlantis"}).status_code == 422
    assert c.post("/widgets/api/star", json={"id": 7}).json()["starred"] is True
    assert c.get("/widgets/api/items?page=1").json()["items"][6]["starred"] is True
    good = next(
        data.min_date + timedelta(days=k) for k in range(7) if D.date_allowed(data.min_date + timedelta(days=k), data)
    )
    assert c.post("/widgets/api/date", json={"date": good.isoformat()}).status_code == 200
    assert c.post("/widgets/api/date", json={"date": "2020-01-01"}).status_code == 422
    ns = c.cookies["dp_ns"]
    state = app.state_json(ns)["widgets"]
    assert state == {
        "active_tab": "reviews",
        "tabs_opened": ["reviews"],
        "contacts": [{"id": 1, "name": "Ada", "email": "a@b.org", "topic": "Returns", "message": "Broken lid"}],
        "city": data.cities[0],
        "starred": [7],
        "date": good.isoformat(),
    }
    other.get("/widgets/")
    assert app.state_json(other.cookies["dp_ns"])["widgets"]["starred"] == []


# -- in the browser -----------------------------------------------------------------------
@pytest.fixture
def env(server):
    e = BrowserEnv(BrowserEnvConfig(base_url=server.base_url, max_steps=40), sites=server.sites)
    yield e
    e.close()


def el(obs, role, name):
    found = [e.id for e in obs.elements if e.role == role and e.name == name]
    assert len(found) == 1, (role, name, obs.text)
    return found[0]


def state(env):
    return env.snapshot().state["widgets"]


@pytest.mark.browser
@needs_chromium
def test_tabs(env, app):
    data = app.sites["widgets"].data
    obs, _ = env.reset(options={"start_url": "/widgets/tabs"})
    assert data.tabs[0].body in obs.text and data.tabs[2].body not in obs.text
    obs, *_ = env.step(f"click({el(obs, 'button', 'Shipping')})")
    assert data.tabs[2].body in obs.text and data.tabs[0].body not in obs.text
    assert state(env)["active_tab"] == "shipping"


@pytest.mark.browser
@needs_chromium
def test_modal_dialog_form(env):
    obs, _ = env.reset(options={"start_url": "/widgets/modal"})
    assert not any(e.name == "Send message" for e in obs.elements)  # the closed dialog is not rendered
    obs, *_ = env.step(f"click({el(obs, 'button', 'Contact support')})")
    obs, *_ = env.step(f"click({el(obs, 'button', 'Send message')})")
    assert "Name is required." in obs.text and state(env)["contacts"] == []
    obs, *_ = env.step(f'fill({el(obs, "textbox", "Name")}, "Ada Lovelace")')
    obs, *_ = env.step(f'fill({el(obs, "textbox", "Email")}, "ada@example.org")')
    obs, *_ = env.step(f'select({el(obs, "combobox", "Topic")}, "Shipping")')
    obs, *_ = env.step(f'fill({el(obs, "textbox", "Message")}, "Where is my parcel?")')
    obs, *_ = env.step(f"click({el(obs, 'button', 'Send message')})")
    assert "Ticket #1 was created" in obs.text and "Send message" not in obs.text
    assert state(env)["contacts"] == [
        {
            "id": 1,
            "name": "Ada Lovelace",
            "email": "ada@example.org",
            "topic": "Shipping",
            "message": "Where is my parcel?",
        }
    ]


@pytest.mark.browser
@needs_chromium
def test_autocomplete(env, app):
    data = app.sites["widgets"].data
    target = data.cities[3]
    obs, _ = env.reset(options={"start_url": "/widgets/autocomplete"})
    obs, *_ = env.step(f'fill({el(obs, "textbox", "City")}, "{target[:3].lower()}")')
    shown = [e.name for e in obs.elements if e.role == "option"]
    assert shown == D.suggest_cities(data.cities, target[:3]) and target in shown
    obs, *_ = env.step(f"click({el(obs, 'option', target)})")
    assert obs.element(el(obs, "textbox", "City")).value == target
    obs, *_ = env.step(f"click({el(obs, 'button', 'Save city')})")
    assert f"Saved city: {target}" in obs.text and state(env)["city"] == target


@pytest.mark.browser
@needs_chromium
def test_list_loaded_by_fetch(env, app):
    items = app.sites["widgets"].data.items
    obs, _ = env.reset(options={"start_url": "/widgets/list"})
    assert "Loading tasks" not in obs.text and f"#1 {items[0].title}" in obs.text
    assert f"#11 {items[10].title}" not in obs.text
    obs, *_ = env.step(f"click({el(obs, 'button', 'Load more')})")
    assert f"#11 {items[10].title}" in obs.text
    obs, *_ = env.step(f"click({el(obs, 'button', 'Star task #11')})")
    assert el(obs, "button", "Unstar task #11") and "Starred tasks: 1" in obs.text
    assert state(env)["starred"] == [11]


@pytest.mark.browser
@needs_chromium
def test_date_picker(env, app):
    data = app.sites["widgets"].data
    obs, _ = env.reset(options={"start_url": "/widgets/datepicker"})
    obs, *_ = env.step(f'fill({el(obs, "textbox", "Delivery date")}, "2024-01-01")')
    assert obs.error is not None  # read-only: the calendar is the way in
    obs, *_ = env.step(f"click({el(obs, 'button', 'Open calendar')})")
    # A date in the next month: navigate the calendar, then pick it.
    wanted = next(
        d
        for d in (data.min_date + timedelta(days=k) for k in range(25, 45))
        if D.date_allowed(d, data) and d.month != data.min_date.month
    )
    obs, *_ = env.step(f"click({el(obs, 'button', 'Next month')})")
    weekend = next(d for d in (wanted + timedelta(days=k) for k in range(7)) if d.weekday() == 6)
    if weekend.month == wanted.month:
        assert obs.element(el(obs, "button", weekend.isoformat())).disabled
    obs, *_ = env.step(f"click({el(obs, 'button', wanted.isoformat())})")
    assert obs.element(el(obs, "textbox", "Delivery date")).value == wanted.isoformat()
    obs, *_ = env.step(f"click({el(obs, 'button', 'Confirm date')})")
    assert f"Delivery booked for {wanted.isoformat()}" in obs.text
    assert state(env)["date"] == wanted.isoformat()
    assert isinstance(date.fromisoformat(state(env)["date"]), date)
