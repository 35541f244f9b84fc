"""Seeded admin-console records: staff, customers, tickets, and the admin login.

Generated from `random.Random(seed)` against a fixed "today" (`BASE_DATE`): every seeded
date is on or before it. Customer full names and emails are unique, so a task can name a
customer unambiguously. The login is `AdminData.admin` (username and password).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

BASE_DATE = date(2024, 6, 1)
"""The console's fixed "today" (dates after it count as in the future)."""

N_CUSTOMERS = 300
N_TICKETS = 500
CUSTOMER_AGE_MAX_DAYS = 3 * 365
TICKET_AGE_MAX_DAYS = 180
UNASSIGNED_SHARE = 0.15
DUE_DATE_SHARE = 0.4
DUE_DATE_MAX_DAYS = 30
NEWSLETTER_SHARE = 0.45

PLANS = ("free", "starter", "pro", "enterprise")
CUSTOMER_STATUSES = ("active", "trial", "suspended", "churned")
TICKET_STATUSES = ("open", "pending", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
"""In rank order: sorting by priority uses this order, not the alphabet."""
CATEGORIES = ("billing", "technical", "account", "bug", "feature request")

_FIRST = (
    "Amelia",
    "Bruno",
    "Chen",
    "Dalia",
    "Emil",
    "Fatima",
    "Gustav",
    "Hiroshi",
    "Isabel",
    "Jamal",
    "Katarina",
    "Luis",
    "Maya",
    "Nikolai",
    "Olivia",
    "Pedro",
    "Qi",
    "Rania",
    "Stefan",
    "Tomas",
    "Ulrike",
    "Vikram",
    "Wanda",
    "Ximena",
    "Yara",
    "Zeynep",
    "Aaron",
    "Beatriz",
    "Connor",
    "Divya",
    "Elif",
    "Felipe",
    "Greta",
    "Hassan",
    "Ingrid",
    "Joao",
    "Kenji",
    "Leila",
    "Marco",
    "Nora",
)
_LAST = (
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Alvarez",
    "Becker",
    "Chowdhury",
    "Davies",
    "Esposito",
    "Fontaine",
    "Gomez",
    "Horvath",
    "Ito",
    "Kim",
    "Larsen",
    "Mendes",
)
_DOMAINS = ("example.com", "mail.test", "inbox.example", "corp.example", "post.test")
_CITIES = (
    ("Lisbon", "Portugal"),
    ("Porto", "Portugal"),
    ("Berlin", "Germany"),
    ("Munich", "Germany"),
    ("Hamburg", "Germany"),
    ("Paris", "France"),
    ("Lyon", "France"),
    ("Madrid", "Spain"),
    ("Valencia", "Spain"),
    ("Rome", "Italy"),
    ("Milan", "Italy"),
    ("Vienna", "Austria"),
    ("Warsaw", "Poland"),
    ("Krakow", "Poland"),
    ("Prague", "Czechia"),
    ("Oslo", "Norway"),
    ("Stockholm", "Sweden"),
    ("Copenhagen", "Denmark"),
    ("Dublin", "Ireland"),
    ("Amsterdam", "Netherlands"),
    ("Toronto", "Canada"),
    ("Austin", "USA"),
    ("Denver", "USA"),
    ("Osaka", "Japan"),
    ("Seoul", "South Korea"),
)
_STAFF = (
    ("alice", "Alice Moreno"),
    ("bob", "Bob Nakamura"),
    ("carmen", "Carmen Silva"),
    ("deepak", "Deepak Rao"),
    ("erin", "Erin O'Neil"),
    ("farah", "Farah Haddad"),
    ("george", "George Lind"),
    ("helena", "Helena Kovac"),
)
_SUBJECTS = {
    "billing": (
        "Refund for invoice #{n}",
        "Charged twice in {m}",
        "Update billing address",
        "Invoice #{n} shows wrong VAT",
        "Cannot download receipt",
    ),
    "technical": (
        "API returns 500 on export",
        "Sync stuck at {p}%",
        "Webhook delivery delayed",
        "Slow dashboard since last update",
        "CSV import fails on row {n}",
    ),
    "account": (
        "Cannot log in after password reset",
        "Add a second admin user",
        "Change account owner",
        "Two-factor codes not arriving",
        "Close my account",
    ),
    "bug": (
        "Date picker shows wrong month",
        "Search misses recent records",
        "Export drops last column",
        "Notification badge never clears",
        "Typo on the pricing page",
    ),
    "feature request": (
        "Dark mode please",
        "Bulk edit for contacts",
        "Calendar integration",
        "More granular permissions",
        "Custom fields on tickets",
    ),
}
_MONTHS = ("January", "February", "March", "April", "May")
_STATUS_WEIGHTS = (5, 2, 1, 1)
_PLAN_WEIGHTS = (4, 3, 2, 1)
_PRIORITY_WEIGHTS = (3, 5, 2, 1)
_TICKET_STATUS_WEIGHTS = (4, 2, 2, 3)


@dataclass(frozen=True)
class Staff:
    username: str
    name: str


@dataclass(frozen=True)
class AdminAccount:
    username: str
    password: str


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    phone: str
    city: str
    country: str
    plan: str
    status: str
    signup_date: date
    newsletter: bool


@dataclass(frozen=True)
class Ticket:
    id: int
    customer_id: int
    subject: str
    category: str
    status: str
    priority: str
    assignee: str | None
    """Staff username, or None when unassigned."""
    created: date
    due_date: date | None


@dataclass(frozen=True)
class AdminData:
    """All records with lookups. Also used for a namespace's merged view (see state.py)."""

    admin: AdminAccount
    staff: tuple[Staff, ...]
    customers: tuple[Customer, ...]
    tickets: tuple[Ticket, ...]
    _customers: dict[int, Customer] = field(init=False, repr=False, compare=False)
    _tickets: dict[int, Ticket] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_customers", {c.id: c for c in self.customers})
        object.__setattr__(self, "_tickets", {t.id: t for t in self.tickets})

    def customer(self, customer_id: int) -> Customer | None:
        return self._customers.get(customer_id)

    def owner(self, ticket: Ticket) -> Customer:
        """The customer a ticket belongs to (generated tickets always have one)."""
        return self._customers[ticket.customer_id]

    def customer_named(self, name: str) -> Customer | None:
        return next((c for c in self.customers if c.name == name), None)

    def ticket(self, ticket_id: int) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def tickets_of(self, customer_id: int) -> list[Ticket]:
        return [t for t in self.tickets if t.customer_id == customer_id]

    def staff_member(self, username: str) -> Staff | None:
        return next((s for s in self.staff if s.username == username), None)


def generate_admin(seed: int) -> AdminData:
    """The admin console's records for `seed` (deterministic)."""
    rng = random.Random(seed)
    admin = AdminAccount("admin", f"admin-{rng.randint(1000, 9999)}")
    staff = tuple(Staff(u, n) for u, n in _STAFF)
    customers = _customers(rng)
    tickets = _tickets(rng, customers, staff)
    return AdminData(admin=admin, staff=staff, customers=customers, tickets=tickets)


def _customers(rng: random.Random) -> tuple[Customer, ...]:
    names = rng.sample([(first, last) for first in _FIRST for last in _LAST], N_CUSTOMERS)
    out = []
    for cid, (first, last) in enumerate(names, start=1):
        city, country = rng.choice(_CITIES)
        out.append(
            Customer(
                id=cid,
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}@{rng.choice(_DOMAINS)}",
                phone=f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                city=city,
                country=country,
                plan=rng.choices(PLANS, weights=_PLAN_WEIGHTS)[0],
                status=rng.choices(CUSTOMER_STATUSES, weights=_STATUS_WEIGHTS)[0],
                signup_date=BASE_DATE - timedelta(days=rng.randint(0, CUSTOMER_AGE_MAX_DAYS)),
                newsletter=rng.random() < NEWSLETTER_SHARE,
            )
        )
    return tuple(out)


def _tickets(rng: random.Random, customers: tuple[Customer, ...], staff: tuple[Staff, ...]) -> tuple[Ticket, ...]:
    created = sorted(BASE_DATE - timedelta(days=rng.randint(0, TICKET_AGE_MAX_DAYS)) for _ in range(N_TICKETS))
    out = []
    for tid, day in enumerate(created, start=1):
        category = rng.choice(CATEGORIES)
        subject = rng.choice(_SUBJECTS[category]).format(
            n=rng.randint(1000, 9999), m=rng.choice(_MONTHS), p=rng.randint(5, 95)
        )
        due = day + timedelta(days=rng.randint(1, DUE_DATE_MAX_DAYS)) if rng.random() < DUE_DATE_SHARE else None
        out.append(
            Ticket(
                id=tid,
                customer_id=rng.choice(customers).id,
                subject=subject,
                category=category,
                status=rng.choices(TICKET_STATUSES, weights=_TICKET_STATUS_WEIGHTS)[0],
                priority=rng.choices(PRIORITIES, weights=_PRIORITY_WEIGHTS)[0],
                assignee=None if rng.random() < UNASSIGNED_SHARE else rng.choice(staff).username,
                created=day,
                due_date=due,
            )
        )
    return tuple(out)
