"""Seeded content of the `widgets` site, and the rules its widgets follow.

Everything is generated from `random.Random(seed)` and a fixed base date, so task
templates can compute exact answers: which tab says what, which cities the autocomplete
suggests for a prefix (`suggest_cities`), which items each page of the fetched list holds
(`items_page`), and which dates the date picker accepts (`date_allowed`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

BASE_DATE = date(2024, 1, 1)
"""Calendar months are chosen relative to this date (never the wall clock)."""
ITEMS_PAGE_SIZE = 10
ITEM_COUNT = 25
CITY_COUNT = 30
MAX_SUGGESTIONS = 8
BOOKING_WINDOW_DAYS = 45
TOPICS: tuple[str, ...] = ("Billing", "Shipping", "Returns", "Technical")
STATUSES: tuple[str, ...] = ("open", "in progress", "done")

_CITY_POOL = (
    "Amsterdam",
    "Athens",
    "Austin",
    "Barcelona",
    "Berlin",
    "Bern",
    "Bogota",
    "Boston",
    "Brussels",
    "Budapest",
    "Cairo",
    "Calgary",
    "Chicago",
    "Copenhagen",
    "Dallas",
    "Delhi",
    "Denver",
    "Dublin",
    "Geneva",
    "Glasgow",
    "Hamburg",
    "Helsinki",
    "Houston",
    "Lima",
    "Lisbon",
    "London",
    "Lyon",
    "Madrid",
    "Manila",
    "Marseille",
    "Melbourne",
    "Miami",
    "Milan",
    "Montreal",
    "Munich",
    "Nairobi",
    "Naples",
    "Oslo",
    "Ottawa",
    "Paris",
    "Porto",
    "Prague",
    "Quito",
    "Rome",
    "Santiago",
    "Seattle",
    "Seoul",
    "Sydney",
    "Tokyo",
    "Toronto",
    "Turin",
    "Valencia",
    "Vienna",
    "Warsaw",
    "Zurich",
)
_PRODUCTS = (
    "Trail Backpack",
    "Desk Lamp",
    "Espresso Grinder",
    "Rain Jacket",
    "Travel Mug",
    "Standing Desk",
    "Noise-cancelling Headphones",
    "Camping Stove",
)
_MATERIALS = ("recycled nylon", "aluminium", "stainless steel", "oak", "bamboo", "wool blend")
_VERBS = ("Fix", "Review", "Update", "Write", "Test", "Plan", "Clean up", "Migrate")
_NOUNS = (
    "login page",
    "invoice export",
    "search index",
    "release notes",
    "payment form",
    "user guide",
    "backup job",
    "sitemap",
    "onboarding email",
    "error pages",
)
_OWNERS = ("alice", "bob", "carol", "dave", "erin", "frank")


@dataclass(frozen=True)
class Tab:
    key: str
    """Stable key used in URLs and state, e.g. "specs"."""
    title: str
    body: str


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    owner: str
    status: str


@dataclass(frozen=True)
class WidgetsData:
    product: str
    tabs: tuple[Tab, ...]
    items: tuple[Item, ...]
    cities: tuple[str, ...]
    """Autocomplete vocabulary, sorted."""
    min_date: date
    """First date the date picker accepts; the calendar opens on its month."""
    max_date: date

    def tab(self, key: str) -> Tab | None:
        return next((t for t in self.tabs if t.key == key), None)

    def item(self, item_id: int) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


def generate_widgets(seed: int) -> WidgetsData:
    rng = random.Random(seed)
    product = rng.choice(_PRODUCTS)
    weight = rng.randint(300, 2500)
    warranty = rng.choice((1, 2, 3, 5))
    stars = rng.randint(30, 50) / 10
    reviews = rng.randint(5, 400)
    days = rng.randint(2, 9)
    tabs = (
        Tab(
            "specs",
            "Specifications",
            f"{product}: made of {rng.choice(_MATERIALS)}, weighs {weight} g, {warranty}-year warranty.",
        ),
        Tab("reviews", "Reviews", f"Rated {stars:.1f} out of 5 by {reviews} customers."),
        Tab("shipping", "Shipping", f"Ships in {days} business days; free over $50."),
    )
    items = tuple(
        Item(
            id=i + 1,
            title=f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)}",
            owner=rng.choice(_OWNERS),
            status=rng.choice(STATUSES),
        )
        for i in range(ITEM_COUNT)
    )
    cities = tuple(sorted(rng.sample(_CITY_POOL, CITY_COUNT)))
    month_start = _add_months(BASE_DATE, rng.randint(0, 11))
    min_date = month_start + timedelta(days=rng.randint(0, 14))
    return WidgetsData(
        product=product,
        tabs=tabs,
        items=items,
        cities=cities,
        min_date=min_date,
        max_date=min_date + timedelta(days=BOOKING_WINDOW_DAYS),
    )


def _add_months(d: date, months: int) -> date:
    year, month = divmod(d.month - 1 + months, 12)
    return date(d.year + year, month + 1, 1)


# -- rules shared by the routes and task templates ----------------------------------------
def suggest_cities(cities: tuple[str, ...], query: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Autocomplete: case-insensitive prefix matches, then other substring matches, each A-Z."""
    q = query.strip().casefold()
    if not q:
        return []
    prefix = [c for c in cities if c.casefold().startswith(q)]
    inner = [c for c in cities if q in c.casefold() and c not in prefix]
    return (prefix + inner)[:limit]


def items_page(items: tuple[Item, ...], page: int, size: int = ITEMS_PAGE_SIZE) -> tuple[list[Item], bool]:
    """Items of 1-based `page` in id order, and whether a further page exists."""
    start = (max(page, 1) - 1) * size
    return list(items[start : start + size]), start + size < len(items)


def date_allowed(d: date, data: WidgetsData) -> bool:
    """The date picker accepts weekdays from `min_date` to `max_date` inclusive."""
    return data.min_date <= d <= data.max_date and d.weekday() < 5


def validate_contact(name: str, email: str, topic: str, message: str) -> dict[str, str]:
    """Errors of the modal's contact form, keyed by field (empty when valid)."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Name is required."
    if "@" not in email or "." not in email.split("@")[-1]:
        errors["email"] = "Enter a valid email address."
    if topic not in TOPICS:
        errors["topic"] = f"Choose a topic: {', '.join(TOPICS)}."
    if len(message.strip()) < 5:
        errors["message"] = "Write at least 5 characters."
    return errors
