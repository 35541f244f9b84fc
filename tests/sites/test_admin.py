"""The admin site through HTTP: the login gate, lists that follow `rules.py`, edit forms
with validation, bulk actions, settings, and isolated namespaces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser
from starlette.testclient import TestClient

from domplay.sites.admin import AdminSite, rules
from domplay.sites.admin.data import BASE_DATE, CUSTOMER_STATUSES, PRIORITIES, TICKET_STATUSES, generate_admin
from domplay.sites.app import SitesApp


@pytest.fixture(scope="module")
def app() -> SitesApp:
    return SitesApp(seed=0, names=["admin"])


@pytest.fixture
def site(app: SitesApp) -> AdminSite:
    return app.sites["admin"]


@pytest.fixture
def client(app: SitesApp, site: AdminSite) -> TestClient:
    """A client logged in to a fresh namespace."""
    c = TestClient(app.asgi)
    r = c.post(
        "/admin/login",
        data={"username": site.data.admin.username, "password": site.data.admin.password, "next": "/admin/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return c


def html(resp) -> LexborHTMLParser:
    return LexborHTMLParser(resp.text)


def row_ids(resp, kind: str) -> list[int]:
    return [int(n.attributes[f"data-{kind}-id"]) for n in html(resp).css(f"tr.{kind}-row")]


def state(app: SitesApp, client: TestClient) -> dict:
    return app.state_json(client.cookies["dp_ns"])["admin"]


def error_ids(resp) -> set[str]:
    return {n.attributes.get("id") for n in html(resp).css(".error")}


# -- data ----------------------------------------------------------------------------------
def test_generation_is_deterministic_and_varied():
    a, b, c = generate_admin(0), generate_admin(0), generate_admin(1)
    assert a == b and a != c
    assert len(a.customers) == 300 and len(a.tickets) == 500
    assert len({x.name for x in a.customers}) == 300 and len({x.email for x in a.customers}) == 300
    assert {x.status for x in a.customers} == set(CUSTOMER_STATUSES)
    assert {t.status for t in a.tickets} == set(TICKET_STATUSES)
    assert {t.priority for t in a.tickets} == set(PRIORITIES)
    assert None in {t.assignee for t in a.tickets} and len({x.city for x in a.customers}) > 10
    assert all(x.signup_date <= BASE_DATE for x in a.customers) and all(t.created <= BASE_DATE for t in a.tickets)
    assert a.admin.password and a.admin.password != c.admin.password


# -- login gate ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/customers?status=active",
        "/admin/customers/1",
        "/admin/customers/1/edit",
        "/admin/tickets",
        "/admin/tickets/1",
        "/admin/tickets/1/edit",
        "/admin/settings",
    ],
)
def test_every_page_redirects_to_login(app, path):
    r = TestClient(app.asgi).get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/admin/login?next=/admin/")


def test_login_failure_then_success_goes_to_next(app, site):
    c = TestClient(app.asgi)
    bad = c.post("/admin/login", data={"username": "admin", "password": "nope", "next": "/admin/tickets"})
    assert bad.status_code == 422 and "login-error" in error_ids(bad)
    assert state(app, c)["logged_in"] is False
    post = c.post("/admin/tickets/bulk", data={"action": "close", "ids": "1"}, follow_redirects=False)
    assert post.headers["location"] == "/admin/login?next=/admin/tickets"
    assert state(app, c)["tickets"] == {}
    ok = c.post(
        "/admin/login",
        data={"username": "admin", "password": site.data.admin.password, "next": "/admin/tickets"},
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/admin/tickets" and state(app, c)["logged_in"] is True
    c.post("/admin/logout")
    assert c.get("/admin/", follow_redirects=False).status_code == 303


# -- lists ---------------------------------------------------------------------------------
def test_customer_filter_sort_and_pagination_follow_rules(client, site):
    lo = BASE_DATE - timedelta(days=700)
    flt = rules.CustomerFilter(status="active", plan="pro", date_from=lo)
    expected = rules.sort_customers(site.data, rules.filter_customers(site.data, flt), "name", "desc")
    params = {"status": "active", "plan": "pro", "date_from": lo.isoformat(), "sort": "name", "dir": "desc"}
    r = client.get("/admin/customers", params=params)
    assert row_ids(r, "customer") == [c.id for c in expected[: rules.DEFAULT_PER_PAGE]]
    everything = rules.sort_customers(site.data, site.data.customers, "signup_date", "asc")
    r2 = client.get("/admin/customers", params={"sort": "signup_date", "page": "3"})
    assert row_ids(r2, "customer") == [c.id for c in everything[40:60]]


def test_customer_text_search(client, site):
    target = site.data.customers[10]
    r = client.get("/admin/customers", params={"q": target.email.upper()})
    assert row_ids(r, "customer") == [target.id]


def test_sort_header_links_toggle_direction(client):
    doc = html(client.get("/admin/tickets", params={"status": "open", "sort": "priority"}))
    link = doc.css_first('th[data-column="priority"] a').attributes["href"]
    assert "dir=desc" in link and "status=open" in link
    assert doc.css_first('th[data-column="priority"]').attributes["aria-sort"] == "ascending"
    assert "dir=asc" in doc.css_first('th[data-column="created"] a').attributes["href"]


def test_ticket_filters_follow_rules(client, site):
    for params, flt in [
        ({"assignee": rules.UNASSIGNED}, rules.TicketFilter(assignee=rules.UNASSIGNED)),
        ({"q": "refund", "status": "open"}, rules.TicketFilter(q="refund", status="open")),
        ({"priority": "urgent", "assignee": "bob"}, rules.TicketFilter(priority="urgent", assignee="bob")),
    ]:
        expected = [t.id for t in rules.filter_tickets(site.data, flt)]
        assert expected, params
        r = client.get("/admin/tickets", params={**params, "sort": "id"})
        assert row_ids(r, "ticket") == expected[: rules.DEFAULT_PER_PAGE]


def test_bad_filter_dates_are_reported(client):
    r = client.get("/admin/tickets", params={"date_from": "yesterday", "date_to": "2024-01-01"})
    assert r.status_code == 422 and "date_from-error" in error_ids(r)
    r = client.get("/admin/customers", params={"date_from": "2024-02-01", "date_to": "2024-01-01"})
    assert r.status_code == 422 and "date_to-error" in error_ids(r)


# -- edit forms ----------------------------------------------------------------------------
def test_customer_edit_validation_and_save(app, client, site):
    c = next(c for c in site.data.customers if c.status != "suspended")
    form = {
        "name": "",
        "email": "not-an-email",
        "phone": c.phone,
        "city": c.city,
        "plan": c.plan,
        "status": c.status,
        "signup_date": (BASE_DATE + timedelta(days=1)).isoformat(),
    }
    bad = client.post(f"/admin/customers/{c.id}/edit", data=form)
    assert bad.status_code == 422
    assert error_ids(bad) == {"name-error", "email-error", "signup_date-error"}
    assert html(bad).css_first("#email").attributes["value"] == "not-an-email"
    assert state(app, client)["customers"] == {}
    form.update(name=c.name, email="new.address@example.com", signup_date=c.signup_date.isoformat(), status="suspended")
    if not c.newsletter:  # toggle the checkbox: an unchecked box is simply absent from the form
        form["newsletter"] = "yes"
    ok = client.post(f"/admin/customers/{c.id}/edit", data=form, follow_redirects=False)
    assert ok.headers["location"] == f"/admin/customers/{c.id}?notice=saved"
    assert state(app, client)["customers"] == {
        str(c.id): {"email": "new.address@example.com", "status": "suspended", "newsletter": not c.newsletter}
    }
    doc = html(client.get(ok.headers["location"]))
    assert doc.css_first("dd.email").text() == "new.address@example.com"
    assert doc.css_first("#notice") is not None
    assert site.data.customer(c.id).email == c.email  # seeded data untouched


def test_editing_back_to_seeded_values_clears_the_overlay(app, client, site):
    c = site.data.customers[1]
    base = {
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "city": c.city,
        "plan": c.plan,
        "status": c.status,
        "signup_date": c.signup_date.isoformat(),
    }
    if c.newsletter:
        base["newsletter"] = "yes"
    client.post(f"/admin/customers/{c.id}/edit", data={**base, "city": "Reykjavik"})
    assert state(app, client)["customers"] == {str(c.id): {"city": "Reykjavik"}}
    client.post(f"/admin/customers/{c.id}/edit", data=base)
    assert state(app, client)["customers"] == {}


def test_ticket_edit_priority_radio_and_due_date_rule(app, client, site):
    t = next(t for t in site.data.tickets if t.priority != "urgent" and t.created > BASE_DATE - timedelta(days=90))
    form = {
        "subject": t.subject,
        "status": t.status,
        "category": t.category,
        "priority": "urgent",
        "assignee": "carmen",
        "due_date": (t.created - timedelta(days=1)).isoformat(),
    }
    bad = client.post(f"/admin/tickets/{t.id}/edit", data=form)
    assert bad.status_code == 422 and error_ids(bad) == {"due_date-error"}
    assert "checked" in html(bad).css_first("#priority-urgent").attributes
    missing = client.post(f"/admin/tickets/{t.id}/edit", data={**form, "priority": "", "due_date": ""})
    assert "priority-error" in error_ids(missing)
    client.post(f"/admin/tickets/{t.id}/edit", data={**form, "due_date": t.created.isoformat()})
    edits = state(app, client)["tickets"][str(t.id)]
    assert edits["priority"] == "urgent" and edits["due_date"] == t.created.isoformat()
    doc = html(client.get(f"/admin/tickets/{t.id}"))
    assert doc.css_first("dd.priority").text() == "urgent"
    assert doc.css_first("dd.assignee").attributes["data-assignee"] == "carmen"


# -- bulk and settings ---------------------------------------------------------------------
def test_bulk_close_and_assign(app, client, site):
    open_ids = [t.id for t in rules.filter_tickets(site.data, rules.TicketFilter(status="open"))][:3]
    back = "/admin/tickets?status=open&page=1"
    r = client.post(
        "/admin/tickets/bulk",
        data={"action": "close", "ids": [str(i) for i in open_ids], "back": back},
        follow_redirects=False,
    )
    assert r.headers["location"] == back + "&notice=bulk-close"
    st = state(app, client)
    assert st["bulk_actions"] == [{"action": "close", "ticket_ids": open_ids, "assignee": None}]
    assert all(st["tickets"][str(i)] == {"status": "closed"} for i in open_ids)
    assert not set(open_ids) & set(row_ids(client.get("/admin/tickets", params={"status": "open"}), "ticket"))
    client.post(
        "/admin/tickets/bulk", data={"action": "assign", "ids": [str(open_ids[0])], "assignee": "farah", "back": back}
    )
    target = site.data.ticket(open_ids[0])
    expected = {"status": "closed"} | ({} if target.assignee == "farah" else {"assignee": "farah"})
    assert state(app, client)["tickets"][str(target.id)] == expected
    assert len(state(app, client)["bulk_actions"]) == 2


def test_bulk_errors(app, client):
    none = client.post("/admin/tickets/bulk", data={"action": "close", "back": "/admin/tickets?"})
    assert none.status_code == 422 and "ids-error" in error_ids(none)
    no_staff = client.post("/admin/tickets/bulk", data={"action": "assign", "ids": ["4"], "assignee": ""})
    assert no_staff.status_code == 422 and "assignee-error" in error_ids(no_staff)
    assert "checked" in html(no_staff).css_first("#select-4").attributes  # selection kept
    assert state(app, client)["bulk_actions"] == []


def test_settings_change_page_size_and_validate(app, client):
    assert state(app, client)["settings"] == rules.DEFAULT_SETTINGS
    bad = client.post("/admin/settings", data={"timezone": "Mars/Olympus", "items_per_page": "7"})
    assert bad.status_code == 422 and error_ids(bad) == {"timezone-error", "items_per_page-error"}
    client.post(
        "/admin/settings",
        data={"timezone": "Asia/Tokyo", "items_per_page": "50", "notifications": ["new_ticket", "daily_digest"]},
    )
    assert state(app, client)["settings"] == {
        "timezone": "Asia/Tokyo",
        "items_per_page": 50,
        "notifications": ["new_ticket", "daily_digest"],
    }
    assert len(row_ids(client.get("/admin/customers"), "customer")) == 50
    doc = html(client.get("/admin/settings"))
    assert "checked" not in doc.css_first("#notify-assignment").attributes
    assert "checked" in doc.css_first("#notify-daily_digest").attributes


def test_namespaces_are_isolated(app, site):
    a, b = TestClient(app.asgi), TestClient(app.asgi)
    for c in (a, b):
        c.post("/admin/login", data={"username": "admin", "password": site.data.admin.password})
    a.post("/admin/tickets/bulk", data={"action": "close", "ids": ["1", "2"]})
    assert state(app, a)["bulk_actions"] and not state(app, b)["bulk_actions"]
    assert state(app, b)["tickets"] == {}
    b.post("/admin/logout")
    assert state(app, a)["logged_in"] is True and state(app, b)["logged_in"] is False
