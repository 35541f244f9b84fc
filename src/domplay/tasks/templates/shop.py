"""Task templates of the built-in `shop` site.

Ground truth comes from `site.data` through the shop's own rule functions (`listing`,
`search_products`, `format_price`, `shipping_cost_cents`, ...), never from scraped pages.
Plans follow the UI from the start page (links, forms, buttons; `goto` only for the start
page). Apart from exploration (opening orders to look inside, comparing prices), every
plan step is needed: variants are drawn away from the form's defaults and filters are
drawn so that each one changes the result, so leaving a step out fails the checks.
Information tasks end with an answer (numeric for prices and counts); action tasks are
checked on the backend state (cart, orders).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any
from urllib.parse import urlencode

from domplay.sites.base import Site
from domplay.sites.shop import (
    PAYMENT_METHODS,
    SHIPPING_OPTIONS,
    Address,
    Product,
    SearchQuery,
    ShopData,
    format_price,
    listing,
    search_products,
    shipping_cost_cents,
    vocab,
)
from domplay.sites.shop.data import order_id
from domplay.tasks.templates.base import Draft, Step, Template
from domplay.verify.checks import (
    AnswerCheck,
    Check,
    ContentCheck,
    Normalize,
    StateCheck,
    UrlCheck,
)

PRICE_ABS_TOL_DOLLARS = 0.005
"""Prices must match to the cent: "$1,299.00" and "1299" pass, a $0.01 different price fails."""
RATING_ABS_TOL = 0.005
"""Ratings are shown with one decimal; a different rating fails."""
MAX_DRAWS = 60
"""Attempts to draw parameters that satisfy a template's constraints before giving up."""
MAX_ADD_QTY = 3
ROOT = "/shop"
HOME_URL = f"{ROOT}/"
NAME_NORMALIZE = Normalize(case=True, whitespace=True, punctuation=True)
"""Names compare without case and punctuation ("Alder & Co" == "alder co")."""
CUSTOMER_LAST_NAMES = ("Larsen", "Okafor", "Moreau", "Tanaka", "Silva", "Novak", "Brennan", "Ivanova")
STREET_NAMES = ("Harbor Road", "Linden Avenue", "Mill Lane", "Cedar Street", "Orchard Way")
MAX_HOUSE_NUMBER = 400
GIFT_NOTES = ("Happy birthday!", "Congratulations on the new job", "Enjoy, love from us", "")


# -- ground-truth helpers ------------------------------------------------------------------


def _data(site: Site) -> ShopData:
    return site.data


def _category_page(data: ShopData, slug: str) -> tuple[Product, ...]:
    """The products the category page shows first (page 1, default sort)."""
    return listing(data, SearchQuery(category=slug)).items


def _on_first_page(data: ShopData, query: SearchQuery, product: Product) -> bool:
    return product in listing(data, query).items


def _draw(rng: random.Random, candidates: Sequence[Any]) -> Any | None:
    return rng.choice(list(candidates)) if candidates else None


def _variant(rng: random.Random, p: Product) -> tuple[str, str | None]:
    """A colour and size that differ from the form's defaults when the product has a choice."""
    color = rng.choice(p.colors[1:]) if len(p.colors) > 1 else p.colors[0]
    size = rng.choice(p.sizes[1:]) if p.sizes else None
    return color, size


def _variant_text(color: str, size: str | None) -> str:
    return f"{color}, size {size}" if size else color


def _add_to_cart_steps(p: Product, color: str, size: str | None, qty: int) -> list[Step]:
    """From the product page: choose the variant (only what differs from the defaults), add."""
    steps = []
    if color != p.colors[0]:
        steps.append(Step.select("Colour", color))
    if size is not None and size != p.sizes[0]:
        steps.append(Step.select("Size", size))
    if qty != 1:
        steps.append(Step.fill("Quantity", str(qty)))
    return steps + [Step.button("Add to cart")]


def _cart_line(p: Product, color: str, size: str | None, qty: int) -> dict[str, Any]:
    return {"product_id": p.id, "color": color, "size": size, "qty": qty}


def _price_answer(cents: int) -> AnswerCheck:
    return AnswerCheck(expected=format_price(cents), mode="numeric", abs_tol=PRICE_ABS_TOL_DOLLARS)


def _count_answer(n: int) -> AnswerCheck:
    return AnswerCheck(expected=str(n), mode="numeric")


def _name_answer(name: str) -> AnswerCheck:
    return AnswerCheck(expected=name, mode="exact", normalize=NAME_NORMALIZE)


def _product_url(p: Product) -> UrlCheck:
    return UrlCheck(expected=f"{ROOT}/product/{p.id}")


def _in_stock(products: Sequence[Product], min_stock: int = 1) -> list[Product]:
    return [p for p in products if p.stock >= min_stock]


# -- easy ------------------------------------------------------------------------------------


class ProductPrice(Template):
    """The price of a product listed on the category page the task starts on."""

    name, site, difficulty = "product_price", "shop", "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        cat = rng.choice(data.categories)
        p = rng.choice(_category_page(data, cat.slug))
        intent = self.phrase(
            rng,
            "Open the product page of the {name} and tell me its price.",
            "How much does the {name} cost? Check its product page.",
            "Find the {name} in {cat}, open it and report the price.",
            name=p.name,
            cat=cat.name,
        )
        return Draft(
            intent,
            f"{ROOT}/category/{cat.slug}",
            [_price_answer(p.price_cents), _product_url(p)],
            [Step.click(p.name), Step.answer(format_price(p.price_cents))],
            {"product_id": p.id},
        )


class ProductStock(Template):
    """How many units of an in-stock product are left."""

    name, site, difficulty = "product_stock", "shop", "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        cat = rng.choice(data.categories)
        p = _draw(rng, _in_stock(_category_page(data, cat.slug)))
        if p is None:
            return None
        intent = self.phrase(
            rng,
            "How many units of the {name} are left in stock? Open its page to check.",
            "Open the {name} and tell me how many are still in stock.",
            "Check the product page of the {name}: how many items are left?",
            name=p.name,
        )
        return Draft(
            intent,
            f"{ROOT}/category/{cat.slug}",
            [_count_answer(p.stock), _product_url(p)],
            [Step.click(p.name), Step.answer(str(p.stock))],
            {"product_id": p.id},
        )


class ProductRating(Template):
    """The average rating of the product whose page the task starts on."""

    name, site, difficulty = "product_rating", "shop", "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        p = rng.choice(_data(site).products)
        intent = self.phrase(
            rng,
            "What is the average customer rating of the {name}?",
            "Tell me the rating (out of 5) of this product, the {name}.",
            "How well is the {name} rated by customers? Answer with its rating.",
            name=p.name,
        )
        check = AnswerCheck(expected=str(p.rating), mode="numeric", abs_tol=RATING_ABS_TOL)
        return Draft(intent, f"{ROOT}/product/{p.id}", [check], [Step.answer(str(p.rating))], {"product_id": p.id})


class OpenCategory(Template):
    """Navigate from the home page to a category's listing."""

    name, site, difficulty = "open_category", "shop", "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        cat = rng.choice(_data(site).categories)
        intent = self.phrase(
            rng,
            "Show me the products in the {cat} category.",
            "Go to the {cat} section of the shop.",
            "Open the {cat} category page.",
            cat=cat.name,
        )
        return Draft(
            intent,
            HOME_URL,
            [UrlCheck(expected=f"{ROOT}/category/{cat.slug}")],
            [Step.click(cat.name)],
            {"category": cat.slug},
        )


class ReviewCount(Template):
    """How many reviews a product of a brand listing has (held out)."""

    name, site, difficulty = "review_count", "shop", "easy"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        brand = rng.choice(data.brands)
        p = _draw(rng, listing(data, SearchQuery(brand=brand.slug)).items)
        if p is None:
            return None
        n = len(p.reviews)
        intent = self.phrase(
            rng,
            "How many customer reviews does the {name} by {brand} have?",
            "Open the {name} and count its reviews.",
            "Among {brand}'s products, find the {name}: how many reviews were written about it?",
            name=p.name,
            brand=brand.name,
        )
        return Draft(
            intent,
            f"{ROOT}/search?brand={brand.slug}",
            [_count_answer(n), _product_url(p)],
            [Step.click(p.name), Step.answer(str(n))],
            {"product_id": p.id},
        )


# -- medium ----------------------------------------------------------------------------------


def _query_words(rng: random.Random, data: ShopData) -> str:
    """A search query of one or two words taken from a product's name (so it matches something)."""
    words = rng.choice(data.products).name.split()
    if rng.random() < 0.5:
        return rng.choice(words).lower()
    i = rng.randrange(len(words) - 1)
    return " ".join(words[i : i + 2]).lower()


class SearchCount(Template):
    """Search from the home page and report how many products match."""

    name, site, difficulty = "search_count", "shop", "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        q = _query_words(rng, data)
        n = len(search_products(data, SearchQuery(q=q)))
        intent = self.phrase(
            rng,
            'Search the shop for "{q}" and tell me how many products match.',
            'How many results does a search for "{q}" return?',
            'Use the search box to look for "{q}". How many products are found in total?',
            q=q,
        )
        checks: list[Check] = [
            _count_answer(n),
            UrlCheck(expected=f"{ROOT}/search?{urlencode({'q': q})}", ignore_extra_query=True),
        ]
        return Draft(
            intent,
            HOME_URL,
            checks,
            [Step.fill("Search products", q), Step.enter("Search products"), Step.answer(str(n))],
            {"q": q},
        )


class ExtremePriceInCategory(Template):
    """Sort a category by price and name its cheapest (or most expensive) product."""

    name, site, difficulty = "extreme_price_in_category", "shop", "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        for _ in range(MAX_DRAWS):
            cat = rng.choice(data.categories)
            cheapest = rng.random() < 0.5
            sort = "price_asc" if cheapest else "price_desc"
            ranked = search_products(data, SearchQuery(category=cat.slug, sort=sort))
            if len(ranked) > 1 and ranked[0].price_cents != ranked[1].price_cents:
                break
        else:
            return None
        top = ranked[0]
        which = "cheapest" if cheapest else "most expensive"
        order = "from low to high" if cheapest else "from high to low"
        intent = self.phrase(
            rng,
            "Which product in {cat} is the {which}? Sort the category by price {order} and tell me its name.",
            "Sort the {cat} category by price ({order}) and name the {which} product.",
            "In the {cat} section, order the products by price {order}: what is the {which} one called?",
            cat=cat.name,
            which=which,
            order=order,
        )
        label = "Price: low to high" if cheapest else "Price: high to low"
        checks: list[Check] = [
            _name_answer(top.name),
            UrlCheck(expected=f"{ROOT}/category/{cat.slug}?sort={sort}", ignore_extra_query=True),
        ]
        return Draft(
            intent,
            HOME_URL,
            checks,
            [Step.click(cat.name), Step.select("Sort by", label), Step.button("Apply"), Step.answer(top.name)],
            {"category": cat.slug, "sort": sort, "product_id": top.id},
        )


class AddVariantToCart(Template):
    """Add a given colour/size/quantity of a product to the cart from its category page."""

    name, site, difficulty = "add_variant_to_cart", "shop", "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        cat = rng.choice(data.categories)
        p = _draw(rng, _in_stock(_category_page(data, cat.slug), min_stock=2))
        if p is None:
            return None
        color, size = _variant(rng, p)
        qty = rng.randint(2, min(MAX_ADD_QTY, p.stock))
        variant = _variant_text(color, size)
        intent = self.phrase(
            rng,
            "Add {qty} of the {name} in {variant} to my cart.",
            "Put {qty} × {name} ({variant}) in the shopping cart.",
            "I want the {name} in {variant}; add {qty} of them to the cart.",
            qty=qty,
            name=p.name,
            variant=variant,
        )
        checks: list[Check] = [
            StateCheck(path="shop.cart", op="length_eq", expected=1),
            StateCheck(path="shop.cart", op="any_match", expected=_cart_line(p, color, size, qty)),
        ]
        return Draft(
            intent,
            f"{ROOT}/category/{cat.slug}",
            checks,
            [Step.click(p.name), *_add_to_cart_steps(p, color, size, qty)],
            {"product_id": p.id, "color": color, "size": size, "qty": qty},
        )


class TopRatedBrand(Template):
    """Search, sort by rating, and report the brand of the best-rated result."""

    name, site, difficulty = "top_rated_brand", "shop", "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        for _ in range(MAX_DRAWS):
            q = _query_words(rng, data)
            ranked = search_products(data, SearchQuery(q=q, sort="rating"))
            if len(ranked) >= 3 and ranked[0].rating > ranked[1].rating:
                break
        else:
            return None
        top = ranked[0]
        intent = self.phrase(
            rng,
            'Search for "{q}", sort the results by rating and tell me the brand of the highest rated product.',
            'Which brand makes the best-rated product among the results for "{q}"? Sort them by rating to find out.',
            'Look up "{q}" in the shop, order by rating (high to low) and report the top product\'s brand.',
            q=q,
        )
        checks: list[Check] = [
            _name_answer(top.brand),
            UrlCheck(expected=f"{ROOT}/search?{urlencode({'q': q, 'sort': 'rating'})}", ignore_extra_query=True),
        ]
        return Draft(
            intent,
            HOME_URL,
            checks,
            [
                Step.fill("Search products", q),
                Step.enter("Search products"),
                Step.select("Sort by", "Rating: high to low"),
                Step.button("Apply"),
                Step.answer(top.brand),
            ],
            {"q": q, "product_id": top.id},
        )


class PriceRangeCount(Template):
    """Filter a category by a price range (optionally in stock only) and count (held out)."""

    name, site, difficulty = "price_range_count", "shop", "medium"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        for _ in range(MAX_DRAWS):
            cat = rng.choice(data.categories)
            dollars = sorted({p.price_cents // 100 for p in data.in_category(cat.slug)})
            lo, hi = sorted(rng.sample(dollars, 2))
            query = SearchQuery(
                category=cat.slug, min_price_cents=lo * 100, max_price_cents=hi * 100, in_stock=rng.random() < 0.5
            )
            n = len(search_products(data, query))
            # Every filter must matter, so a solution that skips one gets a different count.
            loose = [replace(query, min_price_cents=None), replace(query, max_price_cents=None)]
            loose += [replace(query, in_stock=False)] if query.in_stock else []
            if n > 0 and all(len(search_products(data, q)) != n for q in loose):
                break
        else:
            return None
        in_stock = query.in_stock
        stock_words = " that are in stock" if in_stock else ""
        intent = self.phrase(
            rng,
            "How many products in {cat} cost between ${lo} and ${hi}{stock}?",
            "Filter {cat} to prices from ${lo} to ${hi}{stock_only} and count the products.",
            "Count the {cat} products priced ${lo}-${hi} (inclusive){stock}.",
            cat=cat.name,
            lo=lo,
            hi=hi,
            stock=stock_words,
            stock_only=", in stock only," if in_stock else "",
        )
        plan = [Step.click(cat.name), Step.fill("Min price ($)", str(lo)), Step.fill("Max price ($)", str(hi))]
        plan += [Step.check("In stock only")] if in_stock else []
        plan += [Step.button("Apply"), Step.answer(str(n))]
        # The final page must show the filtered listing (its count), whatever format the prices were typed in.
        shown = ContentCheck(css="#result-count", attribute="data-total", expected=str(n), mode="exact")
        return Draft(
            intent,
            HOME_URL,
            [_count_answer(n), shown],
            plan,
            {"category": cat.slug, "min_price": lo, "max_price": hi, "in_stock": in_stock},
        )


# -- hard ------------------------------------------------------------------------------------


def _draw_address(rng: random.Random) -> tuple[Address, str]:
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(CUSTOMER_LAST_NAMES)
    city, postal, country = rng.choice(vocab.CUSTOMER_PLACES)
    street = f"{rng.randint(1, MAX_HOUSE_NUMBER)} {rng.choice(STREET_NAMES)}"
    email = f"{first.lower()}.{last.lower()}{rng.randrange(100)}@example.com"  # a number: emails vary more
    return Address(f"{first} {last}", street, city, postal, country), email


def _checkout_steps(
    address: Address, email: str, shipping: str, payment: str, gift_note: str, subtotal_cents: int
) -> list[Step]:
    """From the cart page: proceed, fill the checkout form, place the order."""
    opt = next(o for o in SHIPPING_OPTIONS if o.id == shipping)
    cost = shipping_cost_cents(shipping, subtotal_cents)
    label = f"{opt.label} - {format_price(cost) if cost else 'Free'}"  # as the checkout page shows it
    steps = [
        Step.click("Proceed to checkout"),
        Step.fill("Full name", address.full_name),
        Step.fill("Street address", address.street),
        Step.fill("City", address.city),
        Step.fill("Postal code", address.postal_code),
        Step.select("Country", address.country),
        Step.fill("Email", email),
        Step.select("Shipping method", label),
        Step.check(PAYMENT_METHODS[payment], role="radio"),
    ]
    if gift_note:
        steps.append(Step.fill("Gift note (optional)", gift_note))
    return steps + [Step.check("I accept the terms and conditions"), Step.button("Place order")]


class BuyVariant(Template):
    """Add a product variant from its page and check out with given details."""

    name, site, difficulty = "buy_variant", "shop", "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        p = rng.choice(_in_stock(data.products, min_stock=2))
        color, size = _variant(rng, p)
        qty = rng.randint(1, 2)
        address, email = _draw_address(rng)
        shipping = rng.choice(SHIPPING_OPTIONS).id
        payment = rng.choice(sorted(PAYMENT_METHODS))
        gift = rng.choice(GIFT_NOTES)
        opt = next(o for o in SHIPPING_OPTIONS if o.id == shipping)
        gift_words = f' Add the gift note "{gift}".' if gift else ""
        intent = self.phrase(
            rng,
            "Buy {qty} × {name} ({variant}). Ship to {who}, {street}, {postal} {city}, {country}; email {email}. "
            "Use {ship} shipping and pay by {pay}.{gift}",
            "Order {qty} of the {name} in {variant} for {who} ({email}), delivered to {street}, {city} {postal}, "
            "{country}, with {ship} shipping, paid via {pay}.{gift}",
            "Please check out {qty} {name} ({variant}): name {who}, address {street}, {postal} {city}, {country}, "
            "email {email}, shipping: {ship}, payment: {pay}, accept the terms.{gift}",
            qty=qty,
            name=p.name,
            variant=_variant_text(color, size),
            who=address.full_name,
            street=address.street,
            city=address.city,
            postal=address.postal_code,
            country=address.country,
            email=email,
            ship=opt.label.split(" (")[0],
            pay=PAYMENT_METHODS[payment],
            gift=gift_words,
        )
        order = {
            "items": [_cart_line(p, color, size, qty)],
            "shipping": shipping,
            "payment": payment,
            "address": asdict(address),
            "email": email,
            "gift_note": gift,
        }
        checks: list[Check] = [
            StateCheck(path="shop.orders", op="length_eq", expected=1),
            StateCheck(path="shop.orders.0.items", op="length_eq", expected=1),
            StateCheck(path="shop.orders", op="any_match", expected=order),
            UrlCheck(expected=f"{ROOT}/order/{order_id(len(data.past_orders) + 1)}", ignore_extra_query=True),
        ]
        plan = _add_to_cart_steps(p, color, size, qty)
        plan += _checkout_steps(address, email, shipping, payment, gift, qty * p.price_cents)
        return Draft(
            intent,
            f"{ROOT}/product/{p.id}",
            checks,
            plan,
            {"product_id": p.id, "color": color, "size": size, "qty": qty, "shipping": shipping, "payment": payment},
        )


class CheapestOfThree(Template):
    """Compare three products of a category by searching each, then add the cheapest to the cart."""

    name, site, difficulty = "cheapest_of_three", "shop", "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        for _ in range(MAX_DRAWS):
            cat = rng.choice(data.categories)
            trio = rng.sample(_in_stock(data.in_category(cat.slug)), 3)
            findable = all(_on_first_page(data, SearchQuery(q=p.name), p) for p in trio)
            if findable and len({p.price_cents for p in trio}) == 3:
                break
        else:
            return None
        best = min(trio, key=lambda p: p.price_cents)
        names = {"a": trio[0].name, "b": trio[1].name, "c": trio[2].name}
        intent = self.phrase(
            rng,
            "Which is cheapest: the {a}, the {b} or the {c}? Add the cheapest one to my cart.",
            "Compare the prices of the {a}, the {b} and the {c}, and put the cheapest in the cart.",
            "I want whichever of {a}, {b} and {c} costs least. Add one to the cart (any colour).",
            **names,
        )
        plan: list[Step] = [Step.fill("Search products", trio[0].name), Step.enter("Search products")]
        for p in trio[1:]:
            plan += [Step.fill("Search", p.name), Step.enter("Search")]
        if best is not trio[-1]:  # its results are no longer on screen: search it again
            plan += [Step.fill("Search", best.name), Step.enter("Search")]
        plan += [Step.click(best.name), Step.button("Add to cart")]
        checks: list[Check] = [
            StateCheck(path="shop.cart", op="length_eq", expected=1),
            StateCheck(path="shop.cart", op="any_match", expected={"product_id": best.id, "qty": 1}),
        ]
        return Draft(intent, HOME_URL, checks, plan, {"product_ids": [p.id for p in trio], "cheapest_id": best.id})


class TwoProductsChangeQty(Template):
    """Add two products (given variants), then change the first one's quantity in the cart (held out)."""

    name, site, difficulty = "two_products_change_qty", "shop", "hard"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        for _ in range(MAX_DRAWS):
            cat = rng.choice(data.categories)
            a = rng.choice(_in_stock(_category_page(data, cat.slug), min_stock=2))
            b = rng.choice(_in_stock(data.products))
            if a.id != b.id and _on_first_page(data, SearchQuery(q=b.name), b):
                break
        else:
            return None
        (ca, sa), (cb, sb) = _variant(rng, a), _variant(rng, b)
        qty = rng.randint(2, min(MAX_ADD_QTY + 1, a.stock))
        values = {
            "a": a.name,
            "va": _variant_text(ca, sa),
            "b": b.name,
            "vb": _variant_text(cb, sb),
            "qty": qty,
            "cat": cat.name,
        }
        intent = self.phrase(
            rng,
            "Add the {a} ({va}) and the {b} ({vb}) to the cart, then change the quantity "
            "of the {a} to {qty} in the cart.",
            "Put one {a} in {va} and one {b} in {vb} in my cart; afterwards update the {a} line to {qty} pieces.",
            "From {cat}, add the {a} ({va}); also find the {b} ({vb}) and add it. Then set the "
            "{a} quantity to {qty} on the cart page.",
            **values,
        )
        suffix = f"{ca}, {sa}" if sa else ca
        plan = [
            Step.click(a.name),
            *_add_to_cart_steps(a, ca, sa, 1),
            Step.click("All products"),
            Step.fill("Search", b.name),
            Step.enter("Search"),
            Step.click(b.name),
            *_add_to_cart_steps(b, cb, sb, 1),
            Step.fill(f"Quantity of {a.name} ({suffix})", str(qty)),
            Step.button("Update", nth=0),
        ]
        checks: list[Check] = [
            StateCheck(path="shop.cart", op="length_eq", expected=2),
            StateCheck(path="shop.cart", op="any_match", expected=_cart_line(a, ca, sa, qty)),
            StateCheck(path="shop.cart", op="any_match", expected=_cart_line(b, cb, sb, 1)),
        ]
        return Draft(intent, f"{ROOT}/category/{cat.slug}", checks, plan, {"product_ids": [a.id, b.id], "qty": qty})


class PastOrderTotal(Template):
    """Find the past order that contained a product by opening orders newest first; report its total."""

    name, site, difficulty = "past_order_total", "shop", "hard"
    MIN_ORDERS_OPENED = 3
    """The target is at least this far down the history, so the search takes several steps."""

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        newest_first = data.past_orders[::-1]
        seen: dict[int, int] = {}
        for o in newest_first:
            for pid in {i.product_id for i in o.items}:
                seen[pid] = seen.get(pid, 0) + 1
        targets = [
            (k, i)
            for k, o in enumerate(newest_first)
            if k + 1 >= self.MIN_ORDERS_OPENED
            for i in o.items
            if seen[i.product_id] == 1
        ]
        picked = _draw(rng, targets)
        if picked is None:
            return None
        k, item = picked
        order = newest_first[k]
        intent = self.phrase(
            rng,
            "What was the total of my past order that included the {name}?",
            "I once bought the {name}. Find that order in my order history and tell me its total.",
            "Look through my orders for the one containing the {name} and report how much it cost in total.",
            name=item.name,
        )
        plan = [Step.click("Orders")]
        for j in range(k):
            plan += [Step.click(newest_first[j].id), Step("back")]
        plan += [Step.click(order.id), Step.answer(format_price(order.total_cents))]
        checks: list[Check] = [_price_answer(order.total_cents), UrlCheck(expected=f"{ROOT}/order/{order.id}")]
        return Draft(intent, HOME_URL, checks, plan, {"order_id": order.id, "product_id": item.product_id})


TEMPLATES = [
    ProductPrice,
    ProductStock,
    ProductRating,
    OpenCategory,
    ReviewCount,
    SearchCount,
    ExtremePriceInCategory,
    AddVariantToCart,
    TopRatedBrand,
    PriceRangeCount,
    BuyVariant,
    CheapestOfThree,
    TwoProductsChangeQty,
    PastOrderTotal,
]
