"""The admin console's page rules as plain functions: filter, sort, paginate, validate.

Route handlers and task templates call the same functions, so ground truth is computed
exactly as the pages compute it, e.g. the first page of open urgent tickets by newest:

    >>> from domplay.sites.admin.data import generate_admin
    >>> data = generate_admin(0)
    >>> rows = filter_tickets(data, TicketFilter(status="open", priority="urgent"))
    >>> page = paginate(sort_tickets(data, rows, "created", "desc"), 1, DEFAULT_PER_PAGE)
    >>> all(t.status == "open" for t in page.items)
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from domplay.sites.admin.data import (
    BASE_DATE,
    CATEGORIES,
    CUSTOMER_STATUSES,
    PLANS,
    PRIORITIES,
    TICKET_STATUSES,
    AdminData,
    Customer,
    Ticket,
)
from domplay.sites.paging import Paged, paginate  # noqa: F401 (re-exported for templates)

T = TypeVar("T", Customer, Ticket)

DEFAULT_PER_PAGE = 20
PER_PAGE_CHOICES = (10, 20, 50)
NAME_MAX_CHARS = 80
SUBJECT_MAX_CHARS = 120
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
UNASSIGNED = "unassigned"
"""Value of the assignee filter that selects tickets with no assignee."""

TIMEZONES = (
    "UTC",
    "Europe/Lisbon",
    "Europe/Berlin",
    "America/New_York",
    "America/Denver",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Sydney",
)
NOTIFICATIONS: dict[str, str] = {
    "new_ticket": "Email me about new tickets",
    "assignment": "Email me when a ticket is assigned to me",
    "daily_digest": "Send a daily digest",
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "timezone": "UTC",
    "notifications": ["assignment"],
    "items_per_page": DEFAULT_PER_PAGE,
}
BULK_ACTIONS = ("close", "assign")

# -- filtering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFilter:
    """`q`: case-insensitive substring of name, email or city. Dates: inclusive signup range."""

    q: str = ""
    status: str = ""
    plan: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class TicketFilter:
    """`q`: case-insensitive substring of subject or customer name. `assignee`: a staff
    username or `UNASSIGNED`. Dates: inclusive range of the created date."""

    q: str = ""
    status: str = ""
    priority: str = ""
    assignee: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _in_range(day: date, lo: date | None, hi: date | None) -> bool:
    return (lo is None or day >= lo) and (hi is None or day <= hi)


def filter_customers(data: AdminData, f: CustomerFilter) -> list[Customer]:
    q = f.q.strip().lower()
    return [
        c
        for c in data.customers
        if (not q or q in c.name.lower() or q in c.email.lower() or q in c.city.lower())
        and (not f.status or c.status == f.status)
        and (not f.plan or c.plan == f.plan)
        and _in_range(c.signup_date, f.date_from, f.date_to)
    ]


def filter_tickets(data: AdminData, f: TicketFilter) -> list[Ticket]:
    q = f.q.strip().lower()

    def hit(t: Ticket) -> bool:
        if q and q not in t.subject.lower() and q not in data.owner(t).name.lower():
            return False
        if f.assignee == UNASSIGNED and t.assignee is not None:
            return False
        if f.assignee and f.assignee != UNASSIGNED and t.assignee != f.assignee:
            return False
        return (
            (not f.status or t.status == f.status)
            and (not f.priority or t.priority == f.priority)
            and _in_range(t.created, f.date_from, f.date_to)
        )

    return [t for t in data.tickets if hit(t)]


# -- sorting -----------------------------------------------------------------------------
CUSTOMER_COLUMNS: dict[str, Callable[[AdminData, Customer], Any]] = {
    "id": lambda d, c: c.id,
    "name": lambda d, c: c.name.lower(),
    "email": lambda d, c: c.email,
    "city": lambda d, c: c.city,
    "plan": lambda d, c: PLANS.index(c.plan),
    "status": lambda d, c: c.status,
    "signup_date": lambda d, c: c.signup_date,
}
"""Sortable customer columns. Plans sort by tier (free < starter < pro < enterprise)."""
TICKET_COLUMNS: dict[str, Callable[[AdminData, Ticket], Any]] = {
    "id": lambda d, t: t.id,
    "subject": lambda d, t: t.subject.lower(),
    "customer": lambda d, t: d.owner(t).name.lower(),
    "status": lambda d, t: t.status,
    "priority": lambda d, t: PRIORITIES.index(t.priority),
    "assignee": lambda d, t: t.assignee or "",
    "created": lambda d, t: t.created,
}
"""Sortable ticket columns. Priority sorts by rank (low < normal < high < urgent)."""


def _sort(
    data: AdminData,
    rows: Sequence[T],
    columns: Mapping[str, Callable[[AdminData, T], Any]],
    column: str,
    direction: str,
) -> list[T]:
    """Rows by `column` (unknown: id); ties keep ascending id order in either direction."""
    key = columns.get(column, columns["id"])
    by_id = sorted(rows, key=lambda r: r.id)
    return sorted(by_id, key=lambda r: key(data, r), reverse=direction == "desc")


def sort_customers(
    data: AdminData, rows: Sequence[Customer], column: str = "id", direction: str = "asc"
) -> list[Customer]:
    return _sort(data, rows, CUSTOMER_COLUMNS, column, direction)


def sort_tickets(data: AdminData, rows: Sequence[Ticket], column: str = "id", direction: str = "asc") -> list[Ticket]:
    return _sort(data, rows, TICKET_COLUMNS, column, direction)


# -- pagination: see domplay.sites.paging ---------------------------------------------
def parse_int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


# -- validation --------------------------------------------------------------------------
def parse_date(raw: str) -> date | None:
    """An ISO date (YYYY-MM-DD), or None when `raw` is not one."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def parse_date_range(raw_from: str, raw_to: str) -> tuple[date | None, date | None, dict[str, str]]:
    """Filter dates (empty = open bound) and errors keyed "date_from"/"date_to"."""
    errors: dict[str, str] = {}
    bounds: list[date | None] = []
    for key, raw in (("date_from", raw_from), ("date_to", raw_to)):
        day = parse_date(raw) if raw.strip() else None
        if raw.strip() and day is None:
            errors[key] = f"{raw!r} is not a date; use YYYY-MM-DD."
        bounds.append(day)
    lo, hi = bounds
    if lo is not None and hi is not None and lo > hi:
        errors["date_to"] = "The end date must not be before the start date."
    return lo, hi, errors


def validate_customer(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values and per-field errors of the customer edit form.

    Rules: name required (at most NAME_MAX_CHARS); email must look like an address; phone
    optional but digits/spaces/hyphens; city required; plan and status from their lists;
    newsletter is a checkbox (present = True); signup date required and not after BASE_DATE.
    """
    v: dict[str, Any] = {k: form.get(k, "").strip() for k in ("name", "email", "phone", "city", "plan", "status")}
    errors: dict[str, str] = {}
    if not v["name"]:
        errors["name"] = "Name is required."
    elif len(v["name"]) > NAME_MAX_CHARS:
        errors["name"] = f"Name must be at most {NAME_MAX_CHARS} characters."
    if not EMAIL_RE.match(v["email"]):
        errors["email"] = f"{v['email']!r} is not a valid email address."
    if v["phone"] and not PHONE_RE.match(v["phone"]):
        errors["phone"] = "Phone may contain only digits, spaces, hyphens and a leading +."
    if not v["city"]:
        errors["city"] = "City is required."
    if v["plan"] not in PLANS:
        errors["plan"] = f"Choose a plan: {', '.join(PLANS)}."
    if v["status"] not in CUSTOMER_STATUSES:
        errors["status"] = f"Choose a status: {', '.join(CUSTOMER_STATUSES)}."
    v["newsletter"] = "newsletter" in form
    v["signup_date"] = parse_date(form.get("signup_date", ""))
    if v["signup_date"] is None:
        errors["signup_date"] = "Signup date is required (YYYY-MM-DD)."
    elif v["signup_date"] > BASE_DATE:
        errors["signup_date"] = f"Signup date must not be in the future (after {BASE_DATE.isoformat()})."
    return v, errors


def validate_ticket(form: Mapping[str, str], data: AdminData, created: date) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values and per-field errors of the ticket edit form.

    Rules: subject required (at most SUBJECT_MAX_CHARS); status, category from their lists;
    priority (radio) required; assignee empty (unassigned) or a staff username; due date
    optional and not before the ticket's created date.
    """
    v: dict[str, Any] = {k: form.get(k, "").strip() for k in ("subject", "status", "priority", "category")}
    errors: dict[str, str] = {}
    if not v["subject"]:
        errors["subject"] = "Subject is required."
    elif len(v["subject"]) > SUBJECT_MAX_CHARS:
        errors["subject"] = f"Subject must be at most {SUBJECT_MAX_CHARS} characters."
    if v["status"] not in TICKET_STATUSES:
        errors["status"] = f"Choose a status: {', '.join(TICKET_STATUSES)}."
    if v["priority"] not in PRIORITIES:
        errors["priority"] = "Choose a priority."
    if v["category"] not in CATEGORIES:
        errors["category"] = f"Choose a category: {', '.join(CATEGORIES)}."
    assignee = form.get("assignee", "").strip()
    if assignee and data.staff_member(assignee) is None:
        errors["assignee"] = f"Unknown assignee {assignee!r}."
    v["assignee"] = assignee or None
    raw_due = form.get("due_date", "").strip()
    v["due_date"] = parse_date(raw_due) if raw_due else None
    if raw_due and v["due_date"] is None:
        errors["due_date"] = f"{raw_due!r} is not a date; use YYYY-MM-DD."
    elif v["due_date"] is not None and v["due_date"] < created:
        errors["due_date"] = f"Due date must not be before the ticket was created ({created.isoformat()})."
    return v, errors


def validate_bulk(action: str, ids: Sequence[str], assignee: str, data: AdminData) -> tuple[list[int], dict[str, str]]:
    """Ticket ids of a bulk action and its errors (keyed "ids", "action", "assignee")."""
    errors: dict[str, str] = {}
    picked = sorted({int(i) for i in ids if i.isdigit() and data.ticket(int(i)) is not None})
    if not picked:
        errors["ids"] = "Select at least one ticket."
    if action not in BULK_ACTIONS:
        errors["action"] = f"Unknown bulk action {action!r}."
    elif action == "assign" and data.staff_member(assignee) is None:
        errors["assignee"] = "Choose a staff member to assign the selected tickets to."
    return picked, errors


def validate_settings(form: Mapping[str, str], notifications: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings values and errors: timezone from TIMEZONES, items per page from PER_PAGE_CHOICES."""
    errors: dict[str, str] = {}
    tz = form.get("timezone", "")
    if tz not in TIMEZONES:
        errors["timezone"] = f"Unknown timezone {tz!r}."
    per_page = parse_int(form.get("items_per_page"), -1)
    if per_page not in PER_PAGE_CHOICES:
        errors["items_per_page"] = f"Items per page must be one of {', '.join(map(str, PER_PAGE_CHOICES))}."
    chosen = [n for n in NOTIFICATIONS if n in notifications]
    return {"timezone": tz, "notifications": chosen, "items_per_page": per_page}, errors
