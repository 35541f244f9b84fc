"""Per-episode shop state (cart, placed orders) and the cart's rules.

`ShopState.to_json()` is what checks read as `snapshot.state["shop"]`:

    {
      "cart": [{"line_id": 1, "product_id": 17, "name": "Nordic Wool Sweater",
                "color": "Navy", "size": "M" | null, "qty": 2, "unit_price_cents": 8999}],
      "cart_subtotal_cents": 17998,
      "orders": [{"id": "SO-1006", "items": [<line item without line_id>...],
                  "shipping": "standard|express|overnight|pickup",
                  "payment": "card|paypal|invoice",
                  "address": {"full_name", "street", "city", "postal_code", "country"},
                  "email": "...", "gift_note": "...", "subtotal_cents": 17998,
                  "shipping_cents": 0, "total_cents": 17998, "placed_on": "2024-06-01"}]
    }

`orders` holds only the orders placed in this namespace, oldest first; the seeded history
(`site.data.past_orders`) is shared and comes before them on `/shop/orders`. Stock is the
seeded catalog's and is not decremented by orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from domplay.sites.shop.checkout import CheckoutDetails, LineItem, Order, make_order, subtotal_cents
from domplay.sites.shop.data import TODAY, Product, order_id

MAX_QTY_PER_LINE = 99


def validate_cart_add(
    product: Product, color: str, size: str, qty_text: str, qty_in_cart: int
) -> tuple[int, dict[str, str]]:
    """The quantity to add and an error per invalid field of the "Add to cart" form.

    `qty_in_cart` is how many of `product` (all variants) the cart already holds: the
    cart may never hold more than the product's stock.
    """
    errors: dict[str, str] = {}
    if not product.in_stock:
        errors["product"] = f"{product.name} is out of stock."
    if color not in product.colors:
        errors["color"] = f"Choose a colour: {', '.join(product.colors)}."
    if product.sizes and size not in product.sizes:
        errors["size"] = f"Choose a size: {', '.join(product.sizes)}."
    qty = int(qty_text) if qty_text.strip().isdigit() else 0
    if qty < 1 or qty > MAX_QTY_PER_LINE:
        errors["qty"] = f"Quantity must be a whole number from 1 to {MAX_QTY_PER_LINE}."
    elif product.in_stock and qty + qty_in_cart > product.stock:
        left = max(0, product.stock - qty_in_cart)
        errors["qty"] = (
            f"Only {product.stock} in stock ({qty_in_cart} already in your cart); you can add at most {left}."
        )
    return qty, errors


def validate_cart_qty(product: Product, qty_text: str, qty_elsewhere: int) -> tuple[int, str | None]:
    """A cart line's new quantity (0 removes the line) and an error, if any.

    `qty_elsewhere` is how many of `product` the cart's other lines hold.
    """
    if not qty_text.strip().isdigit() or int(qty_text) > MAX_QTY_PER_LINE:
        return 0, f"Quantity must be a whole number from 0 to {MAX_QTY_PER_LINE}."
    qty = int(qty_text)
    if qty + qty_elsewhere > product.stock:
        return qty, f"Only {product.stock} of {product.name} in stock."
    return qty, None


@dataclass
class ShopState:
    """The cart and the orders placed in one namespace."""

    past_order_count: int
    """How many seeded orders precede this namespace's (order ids continue after them)."""
    cart: dict[int, LineItem] = field(default_factory=dict)
    """Cart lines by line id, in the order they were added."""
    orders: list[Order] = field(default_factory=list)
    _next_line_id: int = 1

    def qty_in_cart(self, product_id: int, except_line: int | None = None) -> int:
        return sum(i.qty for lid, i in self.cart.items() if i.product_id == product_id and lid != except_line)

    @property
    def cart_count(self) -> int:
        return sum(i.qty for i in self.cart.values())

    @property
    def cart_subtotal_cents(self) -> int:
        return subtotal_cents(self.cart.values())

    def add(self, product: Product, color: str, size: str | None, qty: int) -> int:
        """Add `qty` of a variant (merged into its line if present); returns the line id."""
        for lid, item in self.cart.items():
            if (item.product_id, item.color, item.size) == (product.id, color, size):
                self.cart[lid] = replace(item, qty=item.qty + qty)
                return lid
        lid = self._next_line_id
        self._next_line_id += 1
        self.cart[lid] = LineItem(product.id, product.name, color, size, qty, product.price_cents)
        return lid

    def set_qty(self, line_id: int, qty: int) -> None:
        """Change a line's quantity; 0 removes it."""
        if qty == 0:
            self.cart.pop(line_id, None)
        elif line_id in self.cart:
            self.cart[line_id] = replace(self.cart[line_id], qty=qty)

    def remove(self, line_id: int) -> None:
        self.cart.pop(line_id, None)

    def place_order(self, details: CheckoutDetails) -> Order:
        """Turn the cart into an order (the cart must not be empty) and empty the cart."""
        if not self.cart:
            raise ValueError("cannot place an order with an empty cart; add a product first")
        number = self.past_order_count + len(self.orders) + 1
        order = make_order(order_id(number), self.cart.values(), details, TODAY.isoformat())
        self.orders.append(order)
        self.cart.clear()
        return order

    def to_json(self) -> dict[str, Any]:
        return {
            "cart": [{"line_id": lid, **item.to_json()} for lid, item in self.cart.items()],
            "cart_subtotal_cents": self.cart_subtotal_cents,
            "orders": [o.to_json() for o in self.orders],
        }
