"""The built-in `shop` site: seeded catalog, search/filters, cart, checkout, order history.

The page rules are plain functions so task templates can compute ground truth from
`site.data` (a `ShopData`): `search_products`/`listing` (what a listing shows),
`format_price`, `subtotal_cents`, `shipping_cost_cents`, `make_order`, `validate_checkout`,
`validate_cart_add`. The state schema is documented in `domplay.sites.shop.state`.
"""

from domplay.sites.shop.checkout import (
    COUNTRIES,
    FREE_STANDARD_SHIPPING_FROM_CENTS,
    PAYMENT_METHODS,
    SHIPPING_OPTIONS,
    Address,
    CheckoutDetails,
    CheckoutResult,
    LineItem,
    Order,
    format_price,
    make_order,
    parse_price_cents,
    shipping_cost_cents,
    subtotal_cents,
    validate_checkout,
)
from domplay.sites.shop.data import (
    TODAY,
    Brand,
    Category,
    Product,
    Review,
    ShopData,
    generate_catalog,
)
from domplay.sites.shop.search import (
    PAGE_SIZE,
    SORTS,
    ListingPage,
    SearchQuery,
    listing,
    matches,
    paginate,
    parse_search_query,
    search_products,
)
from domplay.sites.shop.site import ShopSite
from domplay.sites.shop.state import ShopState, validate_cart_add, validate_cart_qty

__all__ = [
    "COUNTRIES",
    "FREE_STANDARD_SHIPPING_FROM_CENTS",
    "PAGE_SIZE",
    "PAYMENT_METHODS",
    "SHIPPING_OPTIONS",
    "SORTS",
    "TODAY",
    "Address",
    "Brand",
    "Category",
    "CheckoutDetails",
    "CheckoutResult",
    "LineItem",
    "ListingPage",
    "Order",
    "Product",
    "Review",
    "SearchQuery",
    "ShopData",
    "ShopSite",
    "ShopState",
    "format_price",
    "generate_catalog",
    "listing",
    "make_order",
    "matches",
    "paginate",
    "parse_price_cents",
    "parse_search_query",
    "search_products",
    "shipping_cost_cents",
    "subtotal_cents",
    "validate_cart_add",
    "validate_cart_qty",
    "validate_checkout",
]
