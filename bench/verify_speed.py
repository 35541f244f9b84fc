"""How fast verification runs: DOM checks/s through `verify`, and sandboxed code checks/s.

Snapshots are a ~300-element product-list page (distinct per snapshot, with an action log
whose last click records its page) checked by a mix of every DOM kind. The last line printed
is one JSON object: {"dom_checks_per_s": ..., "sandbox_checks_per_s": ..., ...}.

    PYTHONPATH=src python bench/verify_speed.py [--snapshots 300] [--code-checks 200]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

from domplay.verify.checks import CHECK_ADAPTER
from domplay.verify.snapshot import ActionRecord, Snapshot, TargetElement
from domplay.verify.verdict import verify

PRODUCTS_PER_PAGE = 40  # x ~7 elements each + chrome ~= 300 elements


def product_page(seed: int) -> str:
    items = "".join(
        f'<li class="product" data-dp="{100 + i}"><a href="/shop/p/{i}" data-dp="{200 + i}">'
        f'<img src="/img/{i}.png" alt=""><span class="name">Product {seed}-{i}</span></a>'
        f'<span class="price" data-currency="USD">${(i + seed) * 13.25:,.2f}</span>'
        f'<span class="stock">{i % 7} left</span>'
        f'<button class="add" data-dp="{300 + i}">Add to cart</button></li>'
        for i in range(PRODUCTS_PER_PAGE)
    )
    nav = "".join(f'<a href="/shop/c/{c}" data-dp="{c + 1}">Category {c}</a>' for c in range(10))
    return (
        f"<!doctype html><html><head><title>Shop {seed}</title></head><body>"
        f"<header><nav>{nav}</nav><form action='/shop/search'><input name='q' value='shirt'>"
        f"<input type='checkbox' name='instock' checked><button>Search</button></form></header>"
        f"<main><h1>Results</h1><ul id='products'>{items}</ul>"
        f"<p class='msg'>Added Product {seed}-3 to your cart.</p></main><footer>(c) shop</footer>"
        f"</body></html>"
    )


def snapshot(seed: int) -> Snapshot:
    html = product_page(seed)
    add = TargetElement(role="button", name="Add to cart", tag="button", attrs={"class": "add", "data-dp": "303"})
    actions = (
        ActionRecord(action="click(303)", url="http://127.0.0.1:8000/shop/", target=add, page_html=html),
        ActionRecord(action='answer("$39.75")', url="http://127.0.0.1:8000/shop/"),
    )
    state = {
        "shop": {
            "cart": [{"product_id": 3, "qty": 1}],
            "orders": [{"id": o, "status": "paid", "items": [{"product_id": o, "qty": 2}]} for o in range(20)],
        }
    }
    return Snapshot(
        url=f"http://127.0.0.1:8000/shop/search?q=shirt&page={seed % 3}",
        html=html,
        answer="$39.75",
        actions=actions,
        state=state,
    )


DOM_CHECKS = [
    CHECK_ADAPTER.validate_python(spec)
    for spec in [
        {"kind": "element", "css": "li:nth-child(4) button.add"},
        {"kind": "attribute", "css": "span.price", "attribute": "data-currency", "value": "USD"},
        {"kind": "attribute", "css": "input[name=instock]", "attribute": "checked", "op": "present"},
        {"kind": "content", "css": "li:nth-child(4) .price", "expected": 39.75, "mode": "numeric", "abs_tol": 1e6},
        {
            "kind": "content",
            "css": "p.msg",
            "expected": "added product to your cart",
            "mode": "token_f1",
            "threshold": 0.5,
        },
        {"kind": "content", "css": "h1", "expected": "results", "mode": "exact"},
        {
            "kind": "structure",
            "css": "li.product",
            "max_candidates": 1,
            "expected_html": "<li><a><img><span></span></a><span></span><span></span><button></button></li>",
        },
        {
            "kind": "state",
            "path": "shop.orders",
            "op": "any_match",
            "expected": {"items": {"product_id": 17, "qty": 2}},
        },
        {"kind": "state", "path": "shop.cart", "op": "length_eq", "expected": 1},
        {"kind": "element_present", "css": "p.msg", "text": "added"},
        {"kind": "url", "expected": "/shop/search?q=shirt", "ignore_extra_query": True},
        {"kind": "answer", "expected": "39.75", "mode": "numeric"},
    ]
]

CODE = """
def check(snapshot):
    prices = query(snapshot["html"], "span.price")
    return len(prices) == 40, f"{len(prices)} prices"
"""


def dom_rate(snaps: list[Snapshot]) -> tuple[float, float]:
    start = time.perf_counter()
    for snap in snaps:
        verdict = verify(DOM_CHECKS, snap)
        assert verdict.error is None, verdict.error
    elapsed = time.perf_counter() - start
    return len(snaps) * len(DOM_CHECKS) / elapsed, len(snaps) / elapsed


def sandbox_rate(snaps: list[Snapshot], n: int, workers: int) -> float:
    from domplay.verify.sandbox import Sandbox

    code_check = [CHECK_ADAPTER.validate_python({"kind": "code", "code": CODE})]
    with Sandbox(workers=workers) as sandbox:
        verify(code_check, snaps[0], sandbox=sandbox)  # warm up
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            verdicts = list(
                pool.map(lambda s: verify(code_check, s, sandbox=sandbox), (snaps[i % len(snaps)] for i in range(n)))
            )
        elapsed = time.perf_counter() - start
    assert all(v.success for v in verdicts), verdicts[0]
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=300)
    parser.add_argument("--code-checks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    snaps = [snapshot(seed) for seed in range(args.snapshots)]
    elements = len(snaps[0].html.split("<")) - 1  # opening + closing tags, roughly 2x elements
    dom_per_s, snaps_per_s = dom_rate(snaps)
    print(
        f"DOM checks: {len(DOM_CHECKS)} per snapshot, {args.snapshots} snapshots (~{elements // 2} elements each): "
        f"{dom_per_s:,.0f} checks/s, {snaps_per_s:,.0f} snapshots/s"
    )
    code_per_s = sandbox_rate(snaps, args.code_checks, args.workers)
    print(f"sandboxed code checks: {code_per_s:,.0f} checks/s with {args.workers} workers")
    print(
        json.dumps(
            {
                "dom_checks_per_s": round(dom_per_s, 1),
                "sandbox_checks_per_s": round(code_per_s, 1),
                "dom_snapshots_per_s": round(snaps_per_s, 1),
                "checks_per_snapshot": len(DOM_CHECKS),
                "sandbox_workers": args.workers,
            }
        )
    )


if __name__ == "__main__":
    main()
