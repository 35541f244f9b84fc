"""The shop's seeded content: categories, brands, products, reviews, the customer's past orders.

`generate_catalog(seed)` is deterministic: it draws only from `random.Random(seed)` and
uses the fixed date `TODAY` instead of the wall clock. The result (`ShopData`) is shared by
every namespace and never mutated.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from domplay.sites.shop import vocab
from domplay.sites.shop.checkout import (
    PAYMENT_METHODS,
    SHIPPING_OPTIONS,
    Address,
    CheckoutDetails,
    LineItem,
    Order,
    make_order,
)

TODAY = date(2024, 6, 1)
"""The shop's "today": review and order dates count back from it."""

PRODUCTS_PER_CATEGORY = 24
OUT_OF_STOCK_FRACTION = 0.12
MAX_STOCK = 60
REVIEWS_PER_PRODUCT = (1, 6)
REVIEW_MAX_AGE_DAYS = 700
COLOURS_PER_PRODUCT = (1, 4)
FEATURED_COUNT = 8
PAST_ORDERS = 5
PAST_ORDER_MAX_AGE_DAYS = 300
ORDER_ID_PREFIX = "SO-"
FIRST_ORDER_NUMBER = 1001
CENT_ENDINGS = (99, 95, 49, 0, 50)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def order_id(number: int) -> str:
    """The order id of the `number`-th order of a customer (1-based): `SO-1001`, ..."""
    return f"{ORDER_ID_PREFIX}{FIRST_ORDER_NUMBER + number - 1}"


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    sizes: tuple[str, ...]


@dataclass(frozen=True)
class Brand:
    slug: str
    name: str


@dataclass(frozen=True)
class Review:
    author: str
    stars: int
    title: str
    body: str
    date: str
    """ISO date."""


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    category: str
    """Category slug."""
    brand: str
    """Brand name (its slug is `slugify(brand)`)."""
    price_cents: int
    colors: tuple[str, ...]
    sizes: tuple[str, ...]
    """Empty for one-size products."""
    stock: int
    reviews: tuple[Review, ...]
    """Newest first."""
    description: str

    @property
    def rating(self) -> float:
        """Mean review stars, rounded to one decimal (what the pages show)."""
        return round(sum(r.stars for r in self.reviews) / len(self.reviews), 1)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def brand_slug(self) -> str:
        return slugify(self.brand)


@dataclass(frozen=True)
class ShopData:
    """Everything generated for one seed, with lookups for pages and task templates."""

    seed: int
    categories: tuple[Category, ...]
    brands: tuple[Brand, ...]
    products: tuple[Product, ...]
    featured_ids: tuple[int, ...]
    customer: Address
    customer_email: str
    past_orders: tuple[Order, ...]
    """The customer's order history before any episode, oldest first."""
    _by_id: dict[int, Product] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.products})

    def product(self, product_id: int) -> Product | None:
        return self._by_id.get(product_id)

    def product_named(self, name: str) -> Product | None:
        """The product whose name is `name` (case-insensitive; names are unique)."""
        return next((p for p in self.products if p.name.lower() == name.lower()), None)

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def brand(self, slug: str) -> Brand | None:
        return next((b for b in self.brands if b.slug == slug), None)

    def past_order(self, oid: str) -> Order | None:
        return next((o for o in self.past_orders if o.id == oid), None)

    def in_category(self, slug: str) -> tuple[Product, ...]:
        return tuple(p for p in self.products if p.category == slug)

    @cached_property
    def colors(self) -> tuple[str, ...]:
        """Every colour some product comes in, in palette order."""
        used = {c for p in self.products for c in p.colors}
        return tuple(c for c in vocab.COLOURS if c in used)


# -- generation ----------------------------------------------------------------------


def generate_catalog(seed: int) -> ShopData:
    """The shop's content for `seed` (same seed → same data)."""
    rng = random.Random(seed)
    categories = tuple(Category(s.slug, s.name, s.sizes) for s in vocab.CATEGORY_SPECS)
    brands_of = _assign_brands(rng)
    products: list[Product] = []
    names: set[str] = set()
    for spec in vocab.CATEGORY_SPECS:
        for _ in range(PRODUCTS_PER_CATEGORY):
            pid = len(products) + 1
            products.append(_make_product(rng, spec, pid, brands_of[spec.slug], names))
    featured = tuple(sorted(rng.sample([p.id for p in products if p.in_stock], FEATURED_COUNT)))
    first = rng.choice(vocab.FIRST_NAMES)
    last = rng.choice(("Larsen", "Okafor", "Moreau", "Tanaka", "Silva", "Novak", "Brennan"))
    city, postal, country = rng.choice(vocab.CUSTOMER_PLACES)
    customer = Address(f"{first} {last}", rng.choice(vocab.CUSTOMER_STREETS), city, postal, country)
    email = f"{first.lower()}.{last.lower()}@example.com"
    past = _past_orders(rng, products, customer, email)
    brands = tuple(Brand(slugify(b), b) for b in sorted(vocab.BRAND_NAMES))
    return ShopData(seed, categories, brands, tuple(products), featured, customer, email, past)


def _assign_brands(rng: random.Random) -> dict[str, tuple[str, ...]]:
    """Brands selling in each category; every brand sells in at least one."""
    slugs = [s.slug for s in vocab.CATEGORY_SPECS]
    shuffled = list(vocab.BRAND_NAMES)
    rng.shuffle(shuffled)
    chosen: dict[str, list[str]] = {s: [] for s in slugs}
    for i, brand in enumerate(shuffled):  # round robin guarantees coverage
        chosen[slugs[i % len(slugs)]].append(brand)
    for slug in slugs:
        want = rng.randint(*vocab.BRANDS_PER_CATEGORY)
        extra = [b for b in vocab.BRAND_NAMES if b not in chosen[slug]]
        chosen[slug] += rng.sample(extra, max(0, want - len(chosen[slug])))
    return {s: tuple(sorted(b)) for s, b in chosen.items()}


def _make_product(
    rng: random.Random, spec: vocab.CategorySpec, pid: int, brands: tuple[str, ...], names: set[str]
) -> Product:
    while True:
        noun = rng.choice(spec.nouns)
        name = f"{rng.choice(spec.adjectives)} {rng.choice(spec.materials)} {noun}"
        if name not in names:
            names.add(name)
            break
    lo, hi = spec.price_range_usd
    cents = rng.randint(lo, hi) * 100 + rng.choice(CENT_ENDINGS)
    colors = tuple(sorted(rng.sample(vocab.COLOURS, rng.randint(*COLOURS_PER_PRODUCT)), key=vocab.COLOURS.index))
    sizes = spec.sizes
    if sizes:  # a contiguous run of the scheme, at least two sizes
        start = rng.randint(0, len(sizes) - 2)
        sizes = sizes[start : rng.randint(start + 2, len(sizes))]
    stock = 0 if rng.random() < OUT_OF_STOCK_FRACTION else rng.randint(1, MAX_STOCK)
    quality = rng.uniform(1.0, 5.0)  # drives the review stars so ratings spread over 1.0-5.0
    reviews = sorted(
        (_make_review(rng, noun.lower(), quality) for _ in range(rng.randint(*REVIEWS_PER_PRODUCT))),
        key=lambda r: r.date,
        reverse=True,
    )
    brand = rng.choice(brands)
    description = f"The {name} by {brand}: a {spec.name.lower()} staple in {', '.join(c.lower() for c in colors)}."
    return Product(pid, name, spec.slug, brand, cents, colors, sizes, stock, tuple(reviews), description)


def _make_review(rng: random.Random, noun: str, quality: float) -> Review:
    stars = min(5, max(1, round(rng.gauss(quality, 0.8))))
    author = f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_INITIALS)}."
    day = TODAY - timedelta(days=rng.randint(1, REVIEW_MAX_AGE_DAYS))
    return Review(
        author,
        stars,
        rng.choice(vocab.REVIEW_TITLES[stars]),
        rng.choice(vocab.REVIEW_BODIES[stars]).format(noun=noun),
        day.isoformat(),
    )


def _past_orders(rng: random.Random, products: list[Product], customer: Address, email: str) -> tuple[Order, ...]:
    ages = sorted(rng.sample(range(7, PAST_ORDER_MAX_AGE_DAYS), PAST_ORDERS), reverse=True)
    orders = []
    for n, age in enumerate(ages, start=1):
        items = []
        for p in rng.sample(products, rng.randint(1, 3)):
            size = rng.choice(p.sizes) if p.sizes else None
            items.append(LineItem(p.id, p.name, rng.choice(p.colors), size, rng.randint(1, 2), p.price_cents))
        details = CheckoutDetails(
            customer, email, rng.choice(SHIPPING_OPTIONS).id, rng.choice(sorted(PAYMENT_METHODS)), ""
        )
        orders.append(make_order(order_id(n), items, details, (TODAY - timedelta(days=age)).isoformat()))
    return tuple(orders)
