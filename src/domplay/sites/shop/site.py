"""The shop's pages: listings, product pages, cart, checkout, orders (no JavaScript needed).

Routes (relative to `/shop`):
    GET  /                      home: categories, featured products, search box
    GET  /search                listing with filters/sort/pagination (see `search.py`)
    GET  /category/{slug}       the same listing restricted to one category
    GET  /product/{id}          product page with the "Add to cart" form and reviews
    POST /cart/add              product_id, color, size, qty → 303 /shop/cart?added=LINE
    GET  /cart                  cart lines with quantity/"Update" and "Remove" forms
    POST /cart/update           line_id, qty (0 removes) → 303 /shop/cart
    POST /cart/remove           line_id → 303 /shop/cart
    GET  /checkout              checkout form;  POST /checkout → 303 /shop/order/{id}?placed=1
    GET  /order/{id}            order confirmation / details
    GET  /orders                order history (newest first)
Invalid forms re-render with status 422, the entered values and a `.error` per field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domplay.sites.base import Site
from domplay.sites.shop import checkout as co
from domplay.sites.shop.data import ShopData, generate_catalog
from domplay.sites.shop.search import MIN_RATINGS, SORTS, listing, parse_search_query
from domplay.sites.shop.state import ShopState, validate_cart_add, validate_cart_qty

HTTP_SEE_OTHER = 303
HTTP_NOT_FOUND = 404
HTTP_UNPROCESSABLE = 422


class ShopSite(Site):
    """An online shop with 288 seeded products, a cart, checkout and order history."""

    name = "shop"
    data: ShopData

    def generate(self, seed: int) -> ShopData:
        return generate_catalog(seed)

    def new_state(self) -> ShopState:
        return ShopState(past_order_count=len(self.data.past_orders))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/search", self.search),
            Route("/category/{slug}", self.category),
            Route("/product/{pid:int}", self.product),
            Route("/cart", self.cart),
            Route("/cart/add", self.cart_add, methods=["POST"]),
            Route("/cart/update", self.cart_update, methods=["POST"]),
            Route("/cart/remove", self.cart_remove, methods=["POST"]),
            Route("/checkout", self.checkout, methods=["GET", "POST"]),
            Route("/order/{oid}", self.order),
            Route("/orders", self.orders),
        ]

    @property
    def root(self) -> str:
        return f"/{self.name}"

    # -- helpers -------------------------------------------------------------------------
    def _page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        state: ShopState = self.state_for(request)
        return self.render(
            template,
            status_code=status_code,
            data=self.data,
            state=state,
            cart_count=state.cart_count,
            money=co.format_price,
            **context,
        )

    def _not_found(self, request: Request, what: str) -> HTMLResponse:
        return self._page(request, "not_found.html", HTTP_NOT_FOUND, what=what)

    def _redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(f"{self.root}{path}", status_code=HTTP_SEE_OTHER)

    # -- browsing ------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        counts = {c.slug: len(self.data.in_category(c.slug)) for c in self.data.categories}
        featured = [self.data.product(i) for i in self.data.featured_ids]
        return self._page(request, "home.html", counts=counts, featured=featured)

    async def search(self, request: Request) -> Response:
        return self._listing(request, None)

    async def category(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        if self.data.category(slug) is None:
            return self._not_found(request, f"category {slug!r}")
        return self._listing(request, slug)

    def _listing(self, request: Request, slug: str | None) -> Response:
        query, errors = parse_search_query(self.data, request.query_params, category=slug)
        page = listing(self.data, query)
        cat = self.data.category(slug) if slug else None
        base = f"{self.root}/category/{slug}" if slug else f"{self.root}/search"
        brands = self.data.brands
        if cat is not None:
            present = {p.brand_slug for p in self.data.in_category(cat.slug)}
            brands = tuple(b for b in brands if b.slug in present)
        link_query = replace(query, category=None) if slug else query  # the path says it
        return self._page(
            request,
            "listing.html",
            query=query,
            link_query=link_query,
            errors=errors,
            page=page,
            cat=cat,
            base=base,
            brands=brands,
            sorts=SORTS,
            min_ratings=MIN_RATINGS,
        )

    async def product(self, request: Request) -> Response:
        product = self.data.product(request.path_params["pid"])
        if product is None:
            return self._not_found(request, f"product {request.path_params['pid']}")
        return self._page(request, "product.html", p=product, errors={}, values={})

    # -- cart ----------------------------------------------------------------------------
    async def cart(self, request: Request) -> Response:
        return self._cart_page(request)

    def _cart_page(
        self,
        request: Request,
        status_code: int = 200,
        line_errors: dict[int, str] | None = None,
        line_values: dict[int, str] | None = None,
    ) -> Response:
        added = request.query_params.get("added", "")
        state: ShopState = self.state_for(request)
        added_line = state.cart.get(int(added)) if added.isdigit() else None
        return self._page(
            request,
            "cart.html",
            status_code,
            added_line=added_line,
            line_errors=line_errors or {},
            line_values=line_values or {},
        )

    async def cart_add(self, request: Request) -> Response:
        form = await request.form()
        pid = str(form.get("product_id", ""))
        product = self.data.product(int(pid)) if pid.isdigit() else None
        if product is None:
            return self._not_found(request, f"product {pid!r}")
        state: ShopState = self.state_for(request)
        values = {k: str(form.get(k, "")) for k in ("color", "size", "qty")}
        qty, errors = validate_cart_add(
            product, values["color"], values["size"], values["qty"], state.qty_in_cart(product.id)
        )
        if errors:
            return self._page(request, "product.html", HTTP_UNPROCESSABLE, p=product, errors=errors, values=values)
        lid = state.add(product, values["color"], values["size"] if product.sizes else None, qty)
        return self._redirect(f"/cart?added={lid}")

    async def cart_update(self, request: Request) -> Response:
        form = await request.form()
        state: ShopState = self.state_for(request)
        lid = str(form.get("line_id", ""))
        item = state.cart.get(int(lid)) if lid.isdigit() else None
        if item is None:
            return self._redirect("/cart")
        product = self.data.product(item.product_id)
        if product is None:  # not in this catalog (cart lines are added from it, so never in practice)
            return self._redirect("/cart")
        entered = str(form.get("qty", ""))
        qty, error = validate_cart_qty(product, entered, state.qty_in_cart(item.product_id, except_line=int(lid)))
        if error is not None:
            return self._cart_page(request, HTTP_UNPROCESSABLE, {int(lid): error}, {int(lid): entered})
        state.set_qty(int(lid), qty)
        return self._redirect("/cart")

    async def cart_remove(self, request: Request) -> Response:
        form = await request.form()
        lid = str(form.get("line_id", ""))
        if lid.isdigit():
            self.state_for(request).remove(int(lid))
        return self._redirect("/cart")

    # -- checkout and orders ---------------------------------------------------------------
    async def checkout(self, request: Request) -> Response:
        state: ShopState = self.state_for(request)
        if request.method == "GET":
            return self._checkout_page(request, {}, {})
        form = await request.form()
        values = {k: str(form.get(k, "")) for k in (*co.CHECKOUT_TEXT_FIELDS, "terms")}
        result = co.validate_checkout(values)
        errors = dict(result.errors)
        if not state.cart:
            errors["cart"] = "Your cart is empty; add a product before checking out."
        if errors or result.details is None:
            return self._checkout_page(request, values, errors, HTTP_UNPROCESSABLE)
        order = state.place_order(result.details)
        return self._redirect(f"/order/{order.id}?placed=1")

    def _checkout_page(
        self, request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
    ) -> Response:
        state: ShopState = self.state_for(request)
        sub = state.cart_subtotal_cents
        costs = {o.id: co.shipping_cost_cents(o.id, sub) for o in co.SHIPPING_OPTIONS}
        return self._page(
            request,
            "checkout.html",
            status_code,
            values=values,
            errors=errors,
            subtotal=sub,
            shipping_costs=costs,
            shipping_options=co.SHIPPING_OPTIONS,
            payments=co.PAYMENT_METHODS,
            countries=co.COUNTRIES,
            free_from=co.FREE_STANDARD_SHIPPING_FROM_CENTS,
        )

    def _all_orders(self, request: Request) -> list[co.Order]:
        return [*self.data.past_orders, *self.state_for(request).orders]

    async def order(self, request: Request) -> Response:
        oid = request.path_params["oid"]
        order = next((o for o in self._all_orders(request) if o.id == oid), None)
        if order is None:
            return self._not_found(request, f"order {oid!r}")
        return self._page(
            request,
            "order.html",
            order=order,
            placed=request.query_params.get("placed") == "1",
            shipping=co.shipping_option(order.shipping),
            payments=co.PAYMENT_METHODS,
        )

    async def orders(self, request: Request) -> Response:
        return self._page(request, "orders.html", orders=self._all_orders(request)[::-1])
