"""The GET page cache is only correct if GET pages are pure functions of URL and state."""

from __future__ import annotations

import re

import httpx
import pytest

from domplay.env.transport import InProcessTransport
from domplay.sites.app import SitesApp

HREF = re.compile(r'href="(/[^"#]*)"')


@pytest.mark.parametrize("site", ["shop", "forum", "admin"])
def test_get_pages_do_not_change_state_and_cache_returns_identical_pages(site: str) -> None:
    app = SitesApp(seed=0, names=[site])
    client = httpx.Client(
        transport=InProcessTransport(app.asgi), base_url="http://127.0.0.1:8000", cookies={"dp_ns": "crawler"}
    )
    before = app.state_json("crawler")
    seen: set[str] = set()
    frontier = [f"/{site}/"]
    while frontier and len(seen) < 40:
        path = frontier.pop(0)
        if path in seen or "logout" in path:
            continue
        seen.add(path)
        first = client.get(path)
        assert app.state_json("crawler") == before, f"GET {path} changed the state"
        again = client.get(path)
        assert again.status_code == first.status_code and again.text == first.text
        frontier += [h.replace("&amp;", "&") for h in HREF.findall(first.text) if h.startswith(f"/{site}/")]
    cache = app.sites[site].page_cache
    assert cache.hits >= len(seen) // 2


def test_cache_key_includes_state() -> None:
    app = SitesApp(seed=0, names=["shop"])
    client = httpx.Client(
        transport=InProcessTransport(app.asgi), base_url="http://127.0.0.1:8000", cookies={"dp_ns": "one"}
    )
    assert 'data-count="0"' in client.get("/shop/").text
    product = next(p for p in app.sites["shop"].data.products if p.stock > 0)
    form = {"product_id": str(product.id), "color": product.colors[0], "qty": "1"}
    if product.sizes:
        form["size"] = product.sizes[0]
    client.post("/shop/cart/add", data=form)
    assert 'data-count="1"' in client.get("/shop/").text
