"""Search, filters, sort and pagination of the shop's product listings.

The listing pages (`/shop/search`, `/shop/category/{slug}`) are `search_products` +
`paginate` of a `SearchQuery` parsed from the URL's query parameters; task templates call
the same functions to know exactly what a listing shows.

Semantics:
- `q`: every whitespace-separated term must occur (case-insensitive substring) in the
  product's name, brand or category name.
- `category` (slug), `brand` (slug), `color` (name, case-insensitive): exact match.
- `min_price` / `max_price` (dollars, e.g. `25` or `24.99`): inclusive bounds.
- `in_stock=1`: stock > 0.  `min_rating` (e.g. `4`): rating ≥ value.
- `sort`: `relevance` (default: more query terms in the name first, then catalog order),
  `price_asc`, `price_desc`, `rating` (highest first), `name` (A-Z). Ties: product id.
- `page`: 1-based, `PAGE_SIZE` products per page, clamped to the existing pages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from domplay.sites.shop.checkout import format_price, parse_price_cents
from domplay.sites.shop.data import Product, ShopData

PAGE_SIZE = 20
SORTS: dict[str, str] = {
    "relevance": "Relevance",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Rating: high to low",
    "name": "Name: A to Z",
}
DEFAULT_SORT = "relevance"
MIN_RATINGS = (1, 2, 3, 4)
"""The choices of the "minimum rating" filter (stars)."""


@dataclass(frozen=True)
class SearchQuery:
    """A listing request; `None`/empty means the filter is off."""

    q: str = ""
    category: str | None = None
    brand: str | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    color: str | None = None
    in_stock: bool = False
    min_rating: float | None = None
    sort: str = DEFAULT_SORT
    page: int = 1

    def to_params(self, **changes: Any) -> dict[str, str]:
        """The URL query parameters of this query (defaults left out), after `changes`."""
        query = replace(self, **changes)
        params = {
            "q": query.q,
            "category": query.category or "",
            "brand": query.brand or "",
            "min_price": _dollars(query.min_price_cents),
            "max_price": _dollars(query.max_price_cents),
            "color": query.color or "",
            "in_stock": "1" if query.in_stock else "",
            "min_rating": _num(query.min_rating),
            "sort": "" if query.sort == DEFAULT_SORT else query.sort,
            "page": "" if query.page == 1 else str(query.page),
        }
        return {k: v for k, v in params.items() if v}

    def url(self, base_path: str, **changes: Any) -> str:
        """`base_path` with this query (after `changes`) as its query string."""
        params = self.to_params(**changes)
        return f"{base_path}?{urlencode(params)}" if params else base_path


def _dollars(cents: int | None) -> str:
    return "" if cents is None else format_price(cents).lstrip("$").replace(",", "")


def _num(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if x == int(x) else str(x))


def parse_search_query(
    data: ShopData, params: Mapping[str, str], category: str | None = None
) -> tuple[SearchQuery, dict[str, str]]:
    """A `SearchQuery` from URL parameters, and an error per invalid parameter (ignored).

    `category` (a category page's slug) overrides any `category` parameter.
    """
    errors: dict[str, str] = {}
    get = lambda k: (params.get(k) or "").strip()  # noqa: E731

    def price(key: str) -> int | None:
        if not get(key):
            return None
        cents = parse_price_cents(get(key))
        if cents is None:
            errors[key] = f"{get(key)!r} is not a price; use dollars like 25 or 24.99."
        return cents

    cat = category if category is not None else (get("category") or None)
    if cat is not None and data.category(cat) is None:
        errors["category"] = f"Unknown category {cat!r}."
        cat = None
    brand = get("brand") or None
    if brand is not None and data.brand(brand) is None:
        errors["brand"] = f"Unknown brand {brand!r}."
        brand = None
    color = get("color") or None
    if color is not None:
        match = next((c for c in data.colors if c.lower() == color.lower()), None)
        if match is None:
            errors["color"] = f"Unknown colour {color!r}."
        color = match
    lo, hi = price("min_price"), price("max_price")
    if lo is not None and hi is not None and lo > hi:
        errors["max_price"] = "Maximum price must not be below the minimum price."
        hi = None
    min_rating = None
    if get("min_rating"):
        try:
            min_rating = float(get("min_rating"))
        except ValueError:
            errors["min_rating"] = f"{get('min_rating')!r} is not a rating; use 1 to 5."
    sort = get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        errors["sort"] = f"Unknown sort {sort!r}; choose one of {', '.join(SORTS)}."
        sort = DEFAULT_SORT
    page = int(get("page")) if get("page").isdigit() else 1
    query = SearchQuery(
        q=get("q"),
        category=cat,
        brand=brand,
        min_price_cents=lo,
        max_price_cents=hi,
        color=color,
        in_stock=get("in_stock") in ("1", "on"),
        min_rating=min_rating,
        sort=sort,
        page=max(1, page),
    )
    return query, errors


def matches(data: ShopData, product: Product, query: SearchQuery) -> bool:
    """Whether `product` passes every filter of `query` (see the module docstring)."""
    cat = data.category(product.category)
    haystack = f"{product.name} {product.brand} {cat.name if cat else ''}".lower()
    return (
        all(term in haystack for term in query.q.lower().split())
        and (query.category is None or product.category == query.category)
        and (query.brand is None or product.brand_slug == query.brand)
        and (query.min_price_cents is None or product.price_cents >= query.min_price_cents)
        and (query.max_price_cents is None or product.price_cents <= query.max_price_cents)
        and (query.color is None or query.color in product.colors)
        and (not query.in_stock or product.in_stock)
        and (query.min_rating is None or product.rating >= query.min_rating)
    )


def sort_key(query: SearchQuery):
    """The key function that orders a listing for `query.sort`."""
    terms = query.q.lower().split()
    keys = {
        "relevance": lambda p: (-sum(t in p.name.lower() for t in terms), p.id),
        "price_asc": lambda p: (p.price_cents, p.id),
        "price_desc": lambda p: (-p.price_cents, p.id),
        "rating": lambda p: (-p.rating, p.id),
        "name": lambda p: (p.name.lower(), p.id),
    }
    return keys[query.sort]


def search_products(data: ShopData, query: SearchQuery) -> list[Product]:
    """Every product matching `query`, in the listing's order (all pages)."""
    return sorted((p for p in data.products if matches(data, p, query)), key=sort_key(query))


@dataclass(frozen=True)
class ListingPage:
    items: tuple[Product, ...]
    page: int
    pages: int
    total: int
    """Products on all pages."""
    page_size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """1-based position of the page's first product in the whole listing (0 if empty)."""
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def paginate(items: Sequence[Product], page: int, page_size: int = PAGE_SIZE) -> ListingPage:
    """Page `page` (1-based, clamped to [1, pages]) of `items`."""
    pages = max(1, math.ceil(len(items) / page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    return ListingPage(tuple(items[start : start + page_size]), page, pages, len(items), page_size)


def listing(data: ShopData, query: SearchQuery, page_size: int = PAGE_SIZE) -> ListingPage:
    """Exactly the products a listing page for `query` shows."""
    return paginate(search_products(data, query), query.page, page_size)


__all__ = [
    "PAGE_SIZE",
    "SORTS",
    "ListingPage",
    "SearchQuery",
    "listing",
    "matches",
    "paginate",
    "parse_search_query",
    "search_products",
    "sort_key",
]
