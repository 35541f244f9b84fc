"""Pages and snapshots shared by the verify tests: a small product page with stamped elements."""

from __future__ import annotations

from domplay.verify.snapshot import ActionRecord, Snapshot, TargetElement

PRODUCT_PAGE = """<!doctype html><html><head><title>Shop</title></head><body>
<nav><a href="/shop/" data-dp="1">Home</a> <a href="/shop/cart" data-dp="2">Cart (1)</a></nav>
<ul id="products">
  <li class="product" data-dp="3"><span class="name">Blue Shirt</span>
      <span class="price" data-currency="USD">$1,299.00</span>
      <button class="add" data-dp="4">Add to cart</button></li>
  <li class="product" data-dp="5"><span class="name">Red Hat</span>
      <span class="price" data-currency="USD">$15.50</span>
      <button class="add" data-dp="6">Add to cart</button></li>
</ul>
<form><input name="q" value="shirt" data-dp="7"><input type="checkbox" name="gift" checked data-dp="8">
<select name="size"><option value="s">S</option><option value="m" selected>M</option></select></form>
<p class="msg">Added Blue Shirt to your cart.</p>
<table><tr><td class="qty" data-dp="9">2</td></tr></table>
</body></html>"""


def target(role: str, name: str, tag: str, stamp: str | None, text: str = "", **attrs: str) -> TargetElement:
    all_attrs = dict(attrs)
    if stamp is not None:
        all_attrs["data-dp"] = stamp
    return TargetElement(role=role, name=name, tag=tag, attrs=all_attrs, text=text or name)


ADD_BLUE = target("button", "Add to cart", "button", "4", **{"class": "add"})
ADD_RED = target("button", "Add to cart", "button", "6", **{"class": "add"})
CART_LINK = target("link", "Cart (1)", "a", "2", href="/shop/cart")


def make_snapshot(**kw) -> Snapshot:
    base = {
        "url": "http://127.0.0.1:8000/shop/?page=1",
        "html": PRODUCT_PAGE,
        "answer": None,
        "actions": (),
        "state": {},
    }
    base.update(kw)
    return Snapshot(**base)


def acted(*steps: tuple[str, TargetElement | None], with_html: bool = True, error: str | None = None) -> tuple:
    return tuple(
        ActionRecord(
            action=a,
            url="http://127.0.0.1:8000/shop/",
            target=t,
            page_html=PRODUCT_PAGE if with_html else None,
            error=error,
        )
        for a, t in steps
    )
