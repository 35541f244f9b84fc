"""The built-in shop through HTTP: catalog, listings, product pages, cart, checkout, orders."""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser
from starlette.testclient import TestClient

from domplay.sites.app import SitesApp
from domplay.sites.base import NS_COOKIE
from domplay.sites.shop import (
    PAGE_SIZE,
    SearchQuery,
    ShopSite,
    format_price,
    generate_catalog,
    listing,
    parse_price_cents,
    search_products,
    shipping_cost_cents,
    validate_checkout,
)

SEED = 0
CHROMIUM = "/usr/bin/chromium"
VALID_CHECKOUT = {
    "full_name": "Ada Lovelace",
    "street": "1 Analytical Way",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "Germany",
    "email": "ada@example.com",
    "shipping": "express",
    "payment": "paypal",
    "gift_note": "Happy birthday",
    "terms": "yes",
}


@pytest.fixture(scope="module")
def sites() -> SitesApp:
    return SitesApp(SEED, names=["shop"])


@pytest.fixture(scope="module")
def shop(sites: SitesApp) -> ShopSite:
    return sites.sites["shop"]


@pytest.fixture
def client(sites: SitesApp) -> TestClient:
    return TestClient(sites.asgi)


def dom(response) -> LexborHTMLParser:
    return LexborHTMLParser(response.text)


def listed_ids(response) -> list[int]:
    return [int(n.attributes["data-product-id"]) for n in dom(response).css("#results li.product")]


def shop_state(sites: SitesApp, client: TestClient) -> dict:
    client.get("/shop/")  # make sure the namespace cookie exists
    return sites.state_json(client.cookies[NS_COOKIE])["shop"]


def in_stock_product(shop: ShopSite, sized: bool = True, min_stock: int = 3):
    return next(p for p in shop.data.products if p.stock >= min_stock and bool(p.sizes) == sized)


def add(client: TestClient, p, qty: int = 1, color: str | None = None, size: str | None = None):
    form = {"product_id": str(p.id), "color": color or p.colors[0], "qty": str(qty)}
    if p.sizes:
        form["size"] = size or p.sizes[0]
    return client.post("/shop/cart/add", data=form, follow_redirects=False)


# -- data --------------------------------------------------------------------------------


def test_catalog_is_large_varied_and_consistent(shop: ShopSite) -> None:
    d = shop.data
    assert len(d.products) >= 200
    assert len({p.name for p in d.products}) == len(d.products)
    assert len(d.categories) == 12 and len({p.brand for p in d.products}) == 25
    assert any(not p.in_stock for p in d.products) and any(p.in_stock for p in d.products)
    ratings = [p.rating for p in d.products]
    assert min(ratings) >= 1.0 and max(ratings) <= 5.0 and max(ratings) - min(ratings) >= 3
    assert all(p.colors and p.reviews for p in d.products)
    assert all(bool(p.sizes) == bool(d.category(p.category).sizes) for p in d.products)
    assert d.product_named(d.products[5].name.upper()) == d.products[5]
    assert all(o.total_cents == o.subtotal_cents + o.shipping_cents for o in d.past_orders)


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert generate_catalog(3) == generate_catalog(3)
    a, b = generate_catalog(3), generate_catalog(4)
    assert [p.name for p in a.products] != [p.name for p in b.products]


def test_money_helpers_are_exact() -> None:
    assert format_price(123456) == "$1,234.56" and format_price(5) == "$0.05"
    assert parse_price_cents("$1,234.5") == 123450 and parse_price_cents("25") == 2500
    assert parse_price_cents("12.345") is None and parse_price_cents("abc") is None
    assert shipping_cost_cents("standard", 4999) == 499
    assert shipping_cost_cents("standard", 5000) == 0
    assert shipping_cost_cents("express", 100000) == 1499


def test_checkout_rules() -> None:
    assert validate_checkout(VALID_CHECKOUT).details is not None
    bad = validate_checkout({**VALID_CHECKOUT, "postal_code": "1011", "email": "ada@", "terms": ""})
    assert bad.details is None and set(bad.errors) == {"postal_code", "email", "terms"}
    uk = validate_checkout({**VALID_CHECKOUT, "country": "United Kingdom", "postal_code": "SW1A 1AA"})
    assert uk.details is not None and uk.details.address.country == "United Kingdom"


# -- listings ----------------------------------------------------------------------------


def test_search_page_shows_what_search_products_computes(client, shop) -> None:
    r = client.get("/shop/search", params={"q": "a", "sort": "price_asc", "page": "2"})
    assert r.status_code == 200
    expected = listing(shop.data, SearchQuery(q="a", sort="price_asc", page=2))
    assert listed_ids(r) == [p.id for p in expected.items] and len(expected.items) == PAGE_SIZE
    count = dom(r).css_first("#result-count")
    assert int(count.attributes["data-total"]) == expected.total
    prices = [int(n.attributes["data-cents"]) for n in dom(r).css("#results .price")]
    assert prices == sorted(prices)


def test_filters_combine(client, shop) -> None:
    p = shop.data.products[30]
    params = {
        "brand": p.brand_slug,
        "color": p.colors[0].lower(),
        "in_stock": "1",
        "min_price": "10",
        "max_price": "300",
        "sort": "rating",
    }
    ids = listed_ids(client.get("/shop/search", params=params))
    assert ids, "the filters were chosen from an existing product"
    for pid in ids:
        q = shop.data.product(pid)
        assert q.brand == p.brand and p.colors[0] in q.colors and q.in_stock
        assert 1000 <= q.price_cents <= 30000
    ratings = [shop.data.product(i).rating for i in ids]
    assert ratings == sorted(ratings, reverse=True)
    everything = search_products(shop.data, SearchQuery())
    assert len(everything) == len(shop.data.products)


def test_category_page_paginates_and_rejects_unknown(client, shop) -> None:
    slug = shop.data.categories[0].slug
    first = client.get(f"/shop/category/{slug}")
    members = {p.id for p in shop.data.in_category(slug)}
    assert set(listed_ids(first)) <= members and len(listed_ids(first)) == PAGE_SIZE
    nxt = dom(first).css_first('#pagination a[rel="next"]').attributes["href"]
    assert nxt == f"/shop/category/{slug}?page=2"
    second = client.get(nxt)
    assert set(listed_ids(first)) | set(listed_ids(second)) == members
    assert client.get("/shop/category/no-such-thing").status_code == 404


def test_invalid_filter_is_reported_and_ignored(client, shop) -> None:
    r = client.get("/shop/search", params={"min_price": "cheap", "sort": "random"})
    assert r.status_code == 200
    assert dom(r).css_first("#min_price-error") is not None
    assert dom(r).css_first("#sort-error") is not None
    assert int(dom(r).css_first("#result-count").attributes["data-total"]) == len(shop.data.products)


# -- product pages and cart --------------------------------------------------------------


def test_product_page_shows_variants_stock_and_reviews(client, shop) -> None:
    p = in_stock_product(shop)
    page = dom(client.get(f"/shop/product/{p.id}"))
    assert page.css_first("#product-name").text() == p.name
    assert page.css_first("#product-price .price").text() == format_price(p.price_cents)
    assert [o.text() for o in page.css("#color option")] == list(p.colors)
    assert [o.text() for o in page.css("#size option")] == list(p.sizes)
    assert len(page.css("#reviews .review")) == len(p.reviews)
    assert page.css_first("#add-to-cart button").attributes.get("disabled", "no") == "no"
    sold_out = next(q for q in shop.data.products if not q.in_stock)
    page = dom(client.get(f"/shop/product/{sold_out.id}"))
    assert "disabled" in page.css_first("#add-to-cart button").attributes
    assert add(client, sold_out).status_code == 422
    assert client.get("/shop/product/99999").status_code == 404


def test_cart_add_merge_update_remove(client, sites, shop) -> None:
    p, q = in_stock_product(shop, min_stock=5), in_stock_product(shop, sized=False)
    r = add(client, p, 2)
    assert r.status_code == 303 and r.headers["location"].startswith("/shop/cart?added=")
    add(client, p, 1)  # same variant: merged into one line
    add(client, q, 1)
    cart = shop_state(sites, client)["cart"]
    assert [(line["product_id"], line["qty"], line["size"]) for line in cart] == [
        (p.id, 3, p.sizes[0]),
        (q.id, 1, None),
    ]
    assert shop_state(sites, client)["cart_subtotal_cents"] == 3 * p.price_cents + q.price_cents
    page = dom(client.get("/shop/cart"))
    assert page.css_first("#cart-subtotal .price").attributes["data-cents"] == str(3 * p.price_cents + q.price_cents)
    lid = cart[0]["line_id"]
    client.post("/shop/cart/update", data={"line_id": str(lid), "qty": "1"})
    assert shop_state(sites, client)["cart"][0]["qty"] == 1
    client.post("/shop/cart/remove", data={"line_id": str(cart[1]["line_id"])})
    assert [line["product_id"] for line in shop_state(sites, client)["cart"]] == [p.id]
    client.post("/shop/cart/update", data={"line_id": str(lid), "qty": "0"})
    assert shop_state(sites, client)["cart"] == []


def test_cart_rejects_bad_variant_and_too_many(client, sites, shop) -> None:
    p = in_stock_product(shop)
    r = add(client, p, p.stock + 1, color="Chartreuse")
    assert r.status_code == 422
    page = dom(r)
    assert page.css_first("#color-error") is not None and page.css_first("#qty-error") is not None
    assert page.css_first("#qty").attributes["value"] == str(p.stock + 1)
    assert shop_state(sites, client)["cart"] == []
    add(client, p, 1)
    lid = shop_state(sites, client)["cart"][0]["line_id"]
    r = client.post("/shop/cart/update", data={"line_id": str(lid), "qty": str(p.stock + 1)})
    assert r.status_code == 422 and dom(r).css_first(f"#qty-{lid}-error") is not None
    assert shop_state(sites, client)["cart"][0]["qty"] == 1


# -- checkout and orders -----------------------------------------------------------------


def test_checkout_errors_rerender_with_values(client, sites, shop) -> None:
    add(client, in_stock_product(shop))
    form = {**VALID_CHECKOUT, "postal_code": "ABC", "email": "nope", "shipping": ""}
    del form["terms"]
    r = client.post("/shop/checkout", data=form)
    assert r.status_code == 422
    page = dom(r)
    for field in ("postal_code", "email", "shipping", "terms"):
        assert page.css_first(f"#{field}-error") is not None, field
    assert page.css_first("#full_name-error") is None
    assert page.css_first("#full_name").attributes["value"] == "Ada Lovelace"
    assert page.css_first("#payment-paypal").attributes.get("checked", "no") != "no"
    assert shop_state(sites, client)["orders"] == []


def test_checkout_with_empty_cart_is_refused(client) -> None:
    r = client.post("/shop/checkout", data=VALID_CHECKOUT)
    assert r.status_code == 422 and dom(r).css_first("#cart-error") is not None


def test_checkout_places_order_with_exact_totals(client, sites, shop) -> None:
    p = in_stock_product(shop, min_stock=2)
    add(client, p, 2)
    r = client.post("/shop/checkout", data=VALID_CHECKOUT, follow_redirects=False)
    first_new = f"SO-{1001 + len(shop.data.past_orders)}"
    assert r.status_code == 303 and r.headers["location"] == f"/shop/order/{first_new}?placed=1"
    state = shop_state(sites, client)
    assert state["cart"] == [] and len(state["orders"]) == 1
    order = state["orders"][0]
    assert order["id"] == first_new and order["shipping"] == "express"
    assert order["subtotal_cents"] == 2 * p.price_cents
    assert order["total_cents"] == 2 * p.price_cents + 1499
    assert order["address"]["postal_code"] == "10115" and order["gift_note"] == "Happy birthday"
    page = dom(client.get(r.headers["location"]))
    assert page.css_first("#order-number").text() == first_new
    assert page.css_first("#order-total .price").text() == format_price(order["total_cents"])
    history = dom(client.get("/shop/orders"))
    ids = [n.attributes["data-order-id"] for n in history.css("tr.order")]
    assert ids[0] == first_new and len(ids) == len(shop.data.past_orders) + 1
    assert client.get("/shop/order/SO-9999").status_code == 404


def test_namespaces_are_isolated(sites, shop) -> None:
    a, b = TestClient(sites.asgi), TestClient(sites.asgi)
    add(a, in_stock_product(shop))
    assert len(shop_state(sites, a)["cart"]) == 1
    assert shop_state(sites, b)["cart"] == []
    assert dom(b.get("/shop/cart")).css_first("#cart-empty") is not None


def test_every_link_and_form_stays_under_the_mount(client, shop) -> None:
    add(client, in_stock_product(shop))
    pages = [
        "/shop/",
        "/shop/search?q=a",
        f"/shop/category/{shop.data.categories[1].slug}",
        f"/shop/product/{shop.data.products[0].id}",
        "/shop/cart",
        "/shop/checkout",
        "/shop/orders",
        f"/shop/order/{shop.data.past_orders[0].id}",
    ]
    for url in pages:
        page = dom(client.get(url))
        targets = [n.attributes["href"] for n in page.css("a[href]")]
        targets += [n.attributes["action"] for n in page.css("form")]
        assert targets and all(t.startswith("/shop/") for t in targets), url
        for control in page.css("input:not([type=hidden]), select, textarea"):
            cid = control.attributes.get("id")
            labelled = control.attributes.get("aria-label") or page.css_first(f'label[for="{cid}"]')
            assert labelled, f"{url}: control {cid} has no label"


def _purchase_in_chromium(shop) -> None:
    """The same forms work in a real browser: add a variant, check out, read the total."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    from domplay.sites.server import SiteServer

    sites = SitesApp(SEED, names=["shop"])
    p = sites.sites["shop"].data.product(in_stock_product(shop, min_stock=2).id)
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with SiteServer(sites) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page()
            page.goto(f"{server.base_url}/shop/product/{p.id}")
            page.select_option("#color", p.colors[-1])
            page.select_option("#size", p.sizes[-1])
            page.fill("#qty", "2")
            page.click("text=Add to cart")
            page.click("#to-checkout")
            for key in ("full_name", "street", "city", "postal_code", "email"):
                page.fill(f"#{key}", VALID_CHECKOUT[key])
            page.select_option("#country", "Germany")
            page.select_option("#shipping", "overnight")
            page.check("#payment-invoice")
            page.check("#terms")
            page.click("text=Place order")
            assert page.text_content("#order-total .price") == format_price(2 * p.price_cents + 2999)
            ns = next(c["value"] for c in page.context.cookies() if c["name"] == NS_COOKIE)
        finally:
            browser.close()
    order = sites.state_json(ns)["shop"]["orders"][0]
    assert order["items"][0]["color"] == p.colors[-1] and order["payment"] == "invoice"


@pytest.mark.browser
def test_purchase_in_chromium_without_javascript_tricks(shop) -> None:
    # Its own Playwright, in its own thread: this thread may already run the shared one's loop.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(_purchase_in_chromium, shop).result()
