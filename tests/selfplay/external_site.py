"""A small multi-page site domplay has no templates for, served on 127.0.0.1 by the tests."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

PRODUCTS = {"widget": ("Blue Widget", "$5.00", "Acme"), "gadget": ("Red Gadget", "$12.50", "Globex")}


def _page(title: str, body: str) -> HTMLResponse:
    nav = '<nav><a href="/">Home</a> <a href="/products">Products</a> <a href="/team">Team</a></nav>'
    return HTMLResponse(f"<html><head><title>{title}</title></head><body>{nav}<h1>{title}</h1>{body}</body></html>")


async def home(request):
    return _page("Welcome", "<p>A small catalogue.</p>")


async def products(request):
    items = "".join(f'<li><a href="/products/{k}">{v[0]}</a></li>' for k, v in PRODUCTS.items())
    return _page("Products", f"<ul>{items}</ul>")


async def product(request):
    name, price, maker = PRODUCTS[request.path_params["slug"]]
    return _page(name, f"<p>Price: {price}</p><p>Maker: {maker}</p>")


async def team(request):
    return _page(
        "Team", "<table><tr><th>Lead</th><td>Ada Byron</td></tr><tr><th>Office</th><td>Room 42</td></tr></table>"
    )


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", home),
            Route("/products", products),
            Route("/products/{slug}", product),
            Route("/team", team),
        ]
    )
