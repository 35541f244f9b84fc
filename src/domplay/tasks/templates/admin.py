"""Task templates of the built-in `admin` console.

Every admin page redirects to the login form, so every plan starts by logging in with the
credentials the intent gives. Ground truth comes from `site.data` through the console's
own rule functions (`domplay.sites.admin.rules`). Information tasks are checked by the
answer plus an element showing that the final page is the list or record the intent asks
for; edits are checked on the backend state (`snapshot.state["admin"]`, schema in
`domplay.sites.admin.state`), exactly, so that changing anything else fails.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from domplay.sites.admin import rules
from domplay.sites.admin.data import (
    BASE_DATE,
    CUSTOMER_STATUSES,
    PLANS,
    PRIORITIES,
    TICKET_STATUSES,
    AdminData,
    Customer,
    Ticket,
)
from domplay.sites.base import Site
from domplay.tasks.templates.base import Draft, Step, Template
from domplay.verify.checks import AnswerCheck, Check, ContentCheck, ElementPresentCheck, StateCheck

START_URL = "/admin/"
"""The console's root; it redirects to the login form."""
MAX_BULK_TICKETS = 6
"""Bulk tasks select at most this many tickets one by one."""
DUE_DATE_MAX_OFFSET_DAYS = 30
_CITIES = ("Lisbon", "Berlin", "Paris", "Madrid", "Rome", "Vienna", "Oslo", "Dublin", "Toronto", "Osaka")
_CUSTOMER_FIELDS = ("plan", "status", "newsletter", "phone", "city", "signup_date")
_SORT_COLUMNS = {
    "name": ("Name", "alphabetically by name"),
    "signup_date": ("Signed up", "by signup date"),
    "email": ("Email", "by email address"),
}
"""Customer columns a sort task may use: (header link text, how the intent says it)."""
_STAT_LABELS = {
    "customers": "customers in total",
    "open_tickets": "open tickets",
    "urgent_open_tickets": "urgent open tickets",
    "unassigned_tickets": "unassigned tickets",
    "active_customers": "active customers",
}


# -- shared pieces -----------------------------------------------------------------------
def _data(site: Site) -> AdminData:
    return site.data


def _login(data: AdminData) -> list[Step]:
    return [
        Step.fill("Username", data.admin.username),
        Step.fill("Password", data.admin.password),
        Step.button("Log in"),
    ]


def _creds(data: AdminData) -> dict[str, str]:
    return {"u": data.admin.username, "p": data.admin.password}


def _logged_in() -> StateCheck:
    return StateCheck(path="admin.logged_in", op="equals", expected=True)


def _records(n: int) -> ContentCheck:
    """The final page is a list whose pager reports `n` records."""
    return ContentCheck(css="nav.pager span.page-info", expected=f"({n} records)", mode="contains")


def _staff_name(data: AdminData, username: str) -> str:
    member = data.staff_member(username)
    assert member is not None
    return member.name


def _find_customer(customer: Customer) -> list[Step]:
    """From any page after login: the customer list, a search by full name, the filter button."""
    return [Step.click("Customers"), Step.fill("Search", customer.name), Step.button("Filter")]


# -- easy --------------------------------------------------------------------------------
class DashboardStat(Template):
    """Log in and read one figure from the dashboard."""

    name = "admin_dashboard_stat"
    site = "admin"
    difficulty = "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        stat = rng.choice(sorted(_STAT_LABELS))
        open_ = rules.filter_tickets(data, rules.TicketFilter(status="open"))
        value = {
            "customers": len(data.customers),
            "open_tickets": len(open_),
            "urgent_open_tickets": sum(t.priority == "urgent" for t in open_),
            "unassigned_tickets": len(rules.filter_tickets(data, rules.TicketFilter(assignee=rules.UNASSIGNED))),
            "active_customers": len(rules.filter_customers(data, rules.CustomerFilter(status="active"))),
        }[stat]
        intent = self.phrase(
            rng,
            "Log in to the admin console (username {u}, password {p}) and tell me how many {s} there are.",
            "Sign in as {u} with password {p}. How many {s} does the dashboard show?",
            "Using the admin login {u} / {p}, report the number of {s}.",
            s=_STAT_LABELS[stat],
            **_creds(data),
        )
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[AnswerCheck(expected=str(value), mode="numeric"), _logged_in()],
            plan=_login(data) + [Step.answer(str(value))],
            params={"stat": stat, "value": value},
        )


# -- medium ------------------------------------------------------------------------------
class CustomerLookup(Template):
    """Log in, search a customer by name, and read one of their fields."""

    name = "admin_customer_lookup"
    site = "admin"
    difficulty = "medium"

    _LIST_FIELDS = ("plan", "status", "city", "email", "signup_date")
    _DETAIL_FIELDS = ("phone", "country", "newsletter")

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        # Customers past the first list page, so finding them needs the search.
        customer = rng.choice(data.customers[rules.DEFAULT_PER_PAGE :])
        field = rng.choice(self._LIST_FIELDS + self._DETAIL_FIELDS)
        value = getattr(customer, field)
        if field == "newsletter":
            shown, expected = ("yes" if value else "no"), ("yes|OR|subscribed" if value else "no|OR|not subscribed")
            check = AnswerCheck(expected=expected, mode="exact")
            question = "whether they are subscribed to the newsletter (yes or no)"
        else:
            shown = value.isoformat() if field == "signup_date" else str(value)
            check = AnswerCheck(expected=shown, mode="contains" if field == "signup_date" else "exact")
            question = {
                "signup_date": "the date they signed up",
                "phone": "their phone number",
                "email": "their email address",
            }.get(field, f"their {field}")
        plan = [*_login(data), *_find_customer(customer)]
        if field in self._DETAIL_FIELDS:
            plan.append(Step.click(customer.name))
        plan.append(Step.answer(shown))
        intent = self.phrase(
            rng,
            "Log in to the admin console ({u} / {p}), look up the customer {c} and tell me {q}.",
            "Sign in with username {u} and password {p}. Find {c} among the customers: what is {q}?",
            "Using the admin account {u} (password {p}), search the customers for {c} and report {q}.",
            c=customer.name,
            q=question,
            **_creds(data),
        )
        # Detail-only fields must be read on the record page; list fields on its row or its page.
        seen = f'h1#customer-name[data-customer-id="{customer.id}"]'
        if field in self._LIST_FIELDS:
            seen = f'tr.customer-row[data-customer-id="{customer.id}"], {seen}'

        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[check, ElementPresentCheck(css=seen)],
            plan=plan,
            params={"customer_id": customer.id, "field": field},
        )


class TicketFilterCount(Template):
    """Log in, filter the ticket list by status, priority and maybe assignee, and count."""

    name = "admin_ticket_count"
    site = "admin"
    difficulty = "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        status, priority = rng.choice(TICKET_STATUSES), rng.choice(PRIORITIES)
        assignee = rng.choice([s.username for s in data.staff]) if rng.random() < 0.5 else ""
        n = len(rules.filter_tickets(data, rules.TicketFilter(status=status, priority=priority, assignee=assignee)))
        plan = [*_login(data), Step.click("Tickets"), Step.select("Status", status), Step.select("Priority", priority)]
        who = ""
        if assignee:
            who = f" assigned to {_staff_name(data, assignee)}"
            plan.append(Step.select("Assignee", _staff_name(data, assignee)))
        plan += [Step.button("Filter"), Step.answer(str(n))]
        intent = self.phrase(
            rng,
            "Log in as {u} (password {p}), filter the tickets to status {s} and priority {r}{w}, and tell me "
            "how many there are.",
            "How many {s} tickets with {r} priority{w} are there? Log in with {u} / {p} and filter the ticket list.",
            "Sign in to the admin console ({u}, password {p}). Show only {r}-priority tickets in status {s}{w} "
            "and count them.",
            s=status,
            r=priority,
            w=who,
            **_creds(data),
        )
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[AnswerCheck(expected=str(n), mode="numeric"), _records(n)],
            plan=plan,
            params={"status": status, "priority": priority, "assignee": assignee, "count": n},
        )


class SortedTopRow(Template):
    """Log in, sort the customer list by a column (optionally filtered by plan), read the top row."""

    name = "admin_sorted_top"
    site = "admin"
    difficulty = "medium"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        options = []
        for column in sorted(_SORT_COLUMNS):
            key = rules.CUSTOMER_COLUMNS[column]
            for direction in ("asc", "desc"):
                for plan_ in ("",) + PLANS:
                    rows = rules.filter_customers(data, rules.CustomerFilter(plan=plan_))
                    ranked = rules.sort_customers(data, rows, column, direction)
                    # A tie at the top would make "the first customer" ambiguous.
                    if len(ranked) >= 2 and key(data, ranked[0]) != key(data, ranked[1]):
                        options.append((column, direction, plan_, len(rows), ranked[0]))
        if not options:
            return None
        column, direction, plan_, n_rows, top = rng.choice(options)
        header, how = _SORT_COLUMNS[column]
        plan = [*_login(data), Step.click("Customers")]
        if plan_:
            plan += [Step.select("Plan", plan_), Step.button("Filter")]
        plan.append(Step.click(header))  # the first click sorts ascending
        if direction == "desc":
            plan.append(Step.click(f"{header} \u25b2"))
        plan.append(Step.answer(top.name))
        order = {"asc": "ascending", "desc": "descending"}[direction]
        scope = f" on the {plan_} plan" if plan_ else ""
        intent = self.phrase(
            rng,
            "Log in ({u} / {p}), sort the customers{f} {h} in {o} order, and tell me the name of the first one.",
            "After signing in as {u} with password {p}, list the customers{f} sorted {h} ({o}). Who is at the top?",
            "Sign in to the admin console with {u} / {p}. Which customer{f} comes first when the list is sorted "
            "{h}, {o}?",
            f=scope,
            h=how,
            o=order,
            **_creds(data),
        )
        first_row = f'table#customers tbody tr.customer-row:first-child[data-customer-id="{top.id}"]'
        sorted_by = f'th[data-column="{column}"][aria-sort="{"ascending" if direction == "asc" else "descending"}"]'
        checks: list[Check] = [
            AnswerCheck(expected=top.name),
            ElementPresentCheck(css=first_row),
            ElementPresentCheck(css=sorted_by),
            _records(n_rows),
        ]
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=checks,
            plan=plan,
            params={"column": column, "direction": direction, "plan": plan_, "customer_id": top.id},
        )


# -- hard --------------------------------------------------------------------------------
class EditCustomer(Template):
    """Log in, find a customer, and change two or three fields of different input kinds."""

    name = "admin_edit_customer"
    site = "admin"
    difficulty = "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        customer = rng.choice(data.customers)
        picked = set(rng.sample(_CUSTOMER_FIELDS, rng.randint(2, 3)))
        fields = [f for f in _CUSTOMER_FIELDS if f in picked]
        changes: dict[str, Any] = {}
        steps: list[Step] = []
        asks: list[str] = []
        for f in fields:  # in form order, so the plan fills the form top to bottom
            if f == "phone":
                changes[f] = f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
                steps.append(Step.fill("Phone", changes[f]))
                asks.append(f"set the phone number to {changes[f]}")
            elif f == "city":
                changes[f] = rng.choice([c for c in _CITIES if c != customer.city])
                steps.append(Step.fill("City", changes[f]))
                asks.append(f"change the city to {changes[f]}")
            elif f == "plan":
                changes[f] = rng.choice([p for p in PLANS if p != customer.plan])
                steps.append(Step.select("Plan", changes[f]))
                asks.append(f"move them to the {changes[f]} plan")
            elif f == "status":
                changes[f] = rng.choice([s for s in CUSTOMER_STATUSES if s != customer.status])
                steps.append(Step.check(changes[f], role="radio"))
                asks.append(f"set the status to {changes[f]}")
            elif f == "newsletter":
                changes[f] = not customer.newsletter
                steps.append(Step.check("Newsletter subscriber"))
                asks.append(
                    "subscribe them to the newsletter" if changes[f] else "unsubscribe them from the newsletter"
                )
            else:
                day = BASE_DATE - timedelta(days=rng.randint(30, 3 * 365))
                changes[f] = day.isoformat() if day != customer.signup_date else (day - timedelta(days=1)).isoformat()
                steps.append(Step.fill("Signup date", changes[f]))
                asks.append(f"correct the signup date to {changes[f]}")
        plan = [
            *_login(data),
            *_find_customer(customer),
            Step.click(customer.name),
            Step.click("Edit customer"),
            *steps,
            Step.button("Save customer"),
        ]
        todo = ", ".join(asks[:-1]) + f" and {asks[-1]}"
        intent = self.phrase(
            rng,
            "Log in to the admin console ({u} / {p}) and update the customer {c}: {t}.",
            "Sign in with username {u} and password {p}. For the customer {c}, {t}. Save the changes.",
            "Using the admin account {u} (password {p}), edit {c}'s record: {t}.",
            c=customer.name,
            t=todo,
            **_creds(data),
        )
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[StateCheck(path="admin.customers", op="equals", expected={str(customer.id): changes})],
            plan=plan,
            params={"customer_id": customer.id, "changes": changes},
        )


def _bulk_groups(data: AdminData) -> list[tuple[str, str, list[Ticket]]]:
    """(priority, assignee, tickets) of open tickets that one filtered page shows in full."""
    out = []
    for priority in PRIORITIES:
        for member in data.staff:
            hits = rules.filter_tickets(
                data, rules.TicketFilter(status="open", priority=priority, assignee=member.username)
            )
            if 1 <= len(hits) <= MAX_BULK_TICKETS:
                out.append((priority, member.username, hits))
    return out


class BulkCloseTickets(Template):
    """Log in, filter open tickets by priority and assignee, select them all, close them."""

    name = "admin_bulk_close"
    site = "admin"
    difficulty = "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        groups = _bulk_groups(data)
        if not groups:
            return None
        priority, assignee, tickets = rng.choice(groups)
        staff = _staff_name(data, assignee)
        plan = [
            *_login(data),
            Step.click("Tickets"),
            Step.select("Status", "open"),
            Step.select("Priority", priority),
            Step.select("Assignee", staff),
            Step.button("Filter"),
        ]
        plan += [Step.check(f"Select ticket {t.id}") for t in tickets]
        plan.append(Step.button("Close selected"))
        intent = self.phrase(
            rng,
            "Log in as {u} (password {p}) and close all open {r}-priority tickets assigned to {s}.",
            "Sign in to the admin console with {u} / {p}. Every open ticket with {r} priority that {s} is "
            "handling should be closed; do it.",
            "Using {u} / {p}, bulk-close the open {r} tickets assigned to {s}.",
            r=priority,
            s=staff,
            **_creds(data),
        )
        expected = {str(t.id): {"status": "closed"} for t in tickets}
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[StateCheck(path="admin.tickets", op="equals", expected=expected)],
            plan=plan,
            params={"priority": priority, "assignee": assignee, "ticket_ids": [t.id for t in tickets]},
        )


class ChangeSettings(Template):
    """Log in and change the console settings: timezone, page size, notifications."""

    name = "admin_settings"
    site = "admin"
    difficulty = "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        default = rules.DEFAULT_SETTINGS
        tz = rng.choice([z for z in rules.TIMEZONES if z != default["timezone"]])
        per_page = rng.choice([n for n in rules.PER_PAGE_CHOICES if n != default["items_per_page"]])
        flips = rng.sample(sorted(rules.NOTIFICATIONS), rng.randint(1, 2))
        on = [n for n in rules.NOTIFICATIONS if (n in default["notifications"]) != (n in flips)]
        plan = [
            *_login(data),
            Step.click("Settings"),
            Step.select("Timezone", tz),
            *[Step.check(rules.NOTIFICATIONS[n]) for n in rules.NOTIFICATIONS if n in flips],
            Step.select("Items per page", str(per_page)),
            Step.button("Save settings"),
        ]
        wanted = "; ".join(f'"{rules.NOTIFICATIONS[n]}" {"on" if n in on else "off"}' for n in sorted(flips))
        intent = self.phrase(
            rng,
            "Log in ({u} / {p}) and change the settings: timezone {z}, {n} items per page, and notifications: {w}.",
            "Sign in as {u} with password {p}, then set the timezone to {z}, show {n} items per page and switch "
            "{w}. Save.",
            "Using the admin account {u} (password {p}), update the console settings: {n} rows per page, "
            "timezone {z}, notification changes: {w}.",
            z=tz,
            n=per_page,
            w=wanted,
            **_creds(data),
        )
        expected = {"timezone": tz, "notifications": on, "items_per_page": per_page}
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[StateCheck(path="admin.settings", op="equals", expected=expected)],
            plan=plan,
            params=expected,
        )


class EditTicket(Template):
    """Log in, find a customer's ticket, and reassign it, reprioritize it and set a due date."""

    name = "admin_edit_ticket"
    site = "admin"
    difficulty = "hard"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        pool = []
        for t in data.tickets:
            own = data.tickets_of(t.customer_id)
            if [o.subject for o in own].count(t.subject) == 1:
                pool.append(t)
        if not pool:
            return None
        ticket = rng.choice(pool)
        customer = data.customer(ticket.customer_id)
        assert customer is not None
        assignee = rng.choice([s for s in data.staff if s.username != ticket.assignee])
        priority = rng.choice([p for p in PRIORITIES if p != ticket.priority])
        due = ticket.created + timedelta(days=rng.randint(1, DUE_DATE_MAX_OFFSET_DAYS))
        if due == ticket.due_date:
            due += timedelta(days=1)
        plan = [
            *_login(data),
            Step.click("Tickets"),
            Step.fill("Search", customer.name),
            Step.button("Filter"),
            Step.click(ticket.subject),
            Step.click("Edit ticket"),
            Step.check(priority, role="radio"),
            Step.select("Assignee", assignee.name),
            Step.fill("Due date", due.isoformat()),
            Step.button("Save ticket"),
        ]
        intent = self.phrase(
            rng,
            'Log in ({u} / {p}) and edit {c}\'s ticket "{s}": assign it to {a}, set its priority to {r} and '
            "its due date to {d}.",
            'Sign in as {u} with password {p}. Find the ticket "{s}" from {c}, give it to {a}, make it {r} '
            "priority, due {d}.",
            'Using {u} / {p}: {c} opened a ticket titled "{s}". Reassign it to {a}, change the priority to {r} '
            "and set the due date to {d}.",
            c=customer.name,
            s=ticket.subject,
            a=assignee.name,
            r=priority,
            d=due.isoformat(),
            **_creds(data),
        )
        expected = {"assignee": assignee.username, "priority": priority, "due_date": due.isoformat()}
        return Draft(
            intent=intent,
            start_url=START_URL,
            checks=[StateCheck(path="admin.tickets", op="equals", expected={str(ticket.id): expected})],
            plan=plan,
            params={"ticket_id": ticket.id, **expected},
        )


TEMPLATES = [
    DashboardStat,
    CustomerLookup,
    TicketFilterCount,
    SortedTopRow,
    EditCustomer,
    BulkCloseTickets,
    ChangeSettings,
    EditTicket,
]
