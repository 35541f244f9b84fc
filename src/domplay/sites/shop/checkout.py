"""Money, line items, orders and the checkout rules of the shop.

Every amount is an integer number of US cents, so totals are exact. The rules here
(shipping prices, the free-shipping threshold, postal code formats, email format, what
the checkout form requires) are the ones the pages use; task templates call the same
functions to compute ground truth.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

CENTS_PER_DOLLAR = 100


def format_price(cents: int) -> str:
    """`123456` → `"$1,234.56"` (the exact text the pages show for an amount)."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), CENTS_PER_DOLLAR)
    return f"{sign}${dollars:,}.{rest:02d}"


def parse_price_cents(text: str) -> int | None:
    """`"12"`, `"12.5"`, `"$1,234.56"` → cents; None when `text` is not a price."""
    m = re.fullmatch(r"\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?", text.strip())
    if m is None:
        return None
    whole = int(m.group(1).replace(",", ""))
    frac = (m.group(2) or "0").ljust(2, "0")
    return whole * CENTS_PER_DOLLAR + int(frac)


# -- shipping and payment ------------------------------------------------------------


@dataclass(frozen=True)
class ShippingOption:
    id: str
    label: str
    price_cents: int
    free_from_cents: int | None = None
    """Subtotal from which this option costs nothing; None if it never becomes free."""


FREE_STANDARD_SHIPPING_FROM_CENTS = 5000
SHIPPING_OPTIONS: tuple[ShippingOption, ...] = (
    ShippingOption("standard", "Standard (5-7 business days)", 499, FREE_STANDARD_SHIPPING_FROM_CENTS),
    ShippingOption("express", "Express (2-3 business days)", 1499),
    ShippingOption("overnight", "Overnight (next business day)", 2999),
    ShippingOption("pickup", "Store pickup", 0),
)
PAYMENT_METHODS: dict[str, str] = {"card": "Credit card", "paypal": "PayPal", "invoice": "Invoice"}


def shipping_option(option_id: str) -> ShippingOption | None:
    return next((o for o in SHIPPING_OPTIONS if o.id == option_id), None)


def shipping_cost_cents(option_id: str, subtotal_cents: int) -> int:
    """What shipping `option_id` costs for an order of `subtotal_cents`."""
    opt = shipping_option(option_id)
    if opt is None:
        raise ValueError(f"unknown shipping option {option_id!r}; choose one of {[o.id for o in SHIPPING_OPTIONS]}")
    if opt.free_from_cents is not None and subtotal_cents >= opt.free_from_cents:
        return 0
    return opt.price_cents


# -- countries and postal codes ------------------------------------------------------


@dataclass(frozen=True)
class Country:
    name: str
    postal_pattern: str
    postal_example: str

    def postal_ok(self, code: str) -> bool:
        return re.fullmatch(self.postal_pattern, code.strip()) is not None


COUNTRIES: tuple[Country, ...] = (
    Country("United States", r"\d{5}(-\d{4})?", "97205 or 97205-1234"),
    Country("Canada", r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d", "M5V 2T6"),
    Country("United Kingdom", r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}", "SW1A 1AA"),
    Country("Germany", r"\d{5}", "10115"),
    Country("France", r"\d{5}", "75001"),
    Country("Netherlands", r"\d{4} ?[A-Za-z]{2}", "1012 AB"),
    Country("Sweden", r"\d{3} ?\d{2}", "114 55"),
    Country("Japan", r"\d{3}-\d{4}", "100-0001"),
    Country("Australia", r"\d{4}", "2000"),
)


def country_named(name: str) -> Country | None:
    return next((c for c in COUNTRIES if c.name == name), None)


# -- line items and orders -----------------------------------------------------------


@dataclass(frozen=True)
class LineItem:
    """One product variant in a cart or an order; `size` is None for one-size products."""

    product_id: int
    name: str
    color: str
    size: str | None
    qty: int
    unit_price_cents: int

    @property
    def line_total_cents(self) -> int:
        return self.qty * self.unit_price_cents

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def subtotal_cents(items: Iterable[LineItem]) -> int:
    return sum(i.line_total_cents for i in items)


@dataclass(frozen=True)
class Address:
    full_name: str
    street: str
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class Order:
    """A placed order (seeded history or placed in an episode); amounts are exact cents."""

    id: str
    items: tuple[LineItem, ...]
    shipping: str
    payment: str
    address: Address
    email: str
    gift_note: str
    subtotal_cents: int
    shipping_cents: int
    total_cents: int
    placed_on: str
    """ISO date; the shop's "today" is `data.TODAY` (no wall clock, for determinism)."""

    @property
    def item_count(self) -> int:
        return sum(i.qty for i in self.items)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["items"] = [i.to_json() for i in self.items]
        return d


def make_order(order_id: str, items: Iterable[LineItem], details: CheckoutDetails, placed_on: str) -> Order:
    """An order for `items` with totals computed by the shop's rules."""
    items = tuple(items)
    sub = subtotal_cents(items)
    ship = shipping_cost_cents(details.shipping, sub)
    return Order(
        id=order_id,
        items=items,
        shipping=details.shipping,
        payment=details.payment,
        address=details.address,
        email=details.email,
        gift_note=details.gift_note,
        subtotal_cents=sub,
        shipping_cents=ship,
        total_cents=sub + ship,
        placed_on=placed_on,
    )


# -- checkout form validation --------------------------------------------------------

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
MAX_NAME_CHARS = 80
MAX_FIELD_CHARS = 120
MAX_GIFT_NOTE_CHARS = 200
CHECKOUT_TEXT_FIELDS = (
    "full_name",
    "street",
    "city",
    "postal_code",
    "country",
    "email",
    "shipping",
    "payment",
    "gift_note",
)
"""Form field names of the checkout form (plus the checkbox `terms`, value "yes")."""


@dataclass(frozen=True)
class CheckoutDetails:
    """A valid checkout form."""

    address: Address
    email: str
    shipping: str
    payment: str
    gift_note: str = ""


@dataclass(frozen=True)
class CheckoutResult:
    """Either `details` (the form is valid) or `errors` (field name → message), never both."""

    details: CheckoutDetails | None
    errors: dict[str, str] = field(default_factory=dict)


def validate_checkout(fields: Mapping[str, str]) -> CheckoutResult:
    """Apply the checkout form's rules to submitted `fields` (the form's name → value)."""
    v = {k: (fields.get(k) or "").strip() for k in CHECKOUT_TEXT_FIELDS}
    errors: dict[str, str] = {}
    for key, label in (("full_name", "Full name"), ("street", "Street"), ("city", "City")):
        limit = MAX_NAME_CHARS if key == "full_name" else MAX_FIELD_CHARS
        if not v[key]:
            errors[key] = f"{label} is required."
        elif len(v[key]) > limit:
            errors[key] = f"{label} must be at most {limit} characters."
    country = country_named(v["country"])
    if country is None:
        errors["country"] = "Choose a country from the list."
    if not v["postal_code"]:
        errors["postal_code"] = "Postal code is required."
    elif country is not None and not country.postal_ok(v["postal_code"]):
        errors["postal_code"] = (
            f"Postal code is not valid for {country.name} (expected a format like {country.postal_example})."
        )
    if not v["email"]:
        errors["email"] = "Email is required."
    elif re.fullmatch(EMAIL_PATTERN, v["email"]) is None:
        errors["email"] = "Enter a valid email address, like name@example.com."
    if shipping_option(v["shipping"]) is None:
        errors["shipping"] = "Choose a shipping method."
    if v["payment"] not in PAYMENT_METHODS:
        errors["payment"] = "Choose a payment method."
    if len(v["gift_note"]) > MAX_GIFT_NOTE_CHARS:
        errors["gift_note"] = f"Gift note must be at most {MAX_GIFT_NOTE_CHARS} characters."
    if not fields.get("terms"):
        errors["terms"] = "You must accept the terms and conditions."
    if errors:
        return CheckoutResult(None, errors)
    address = Address(v["full_name"], v["street"], v["city"], v["postal_code"], v["country"])
    return CheckoutResult(CheckoutDetails(address, v["email"], v["shipping"], v["payment"], v["gift_note"]))
