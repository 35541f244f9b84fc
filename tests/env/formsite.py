"""A tiny site for env tests: every form feature DomEnv must handle, state per namespace."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from domplay.sites.base import NamespaceMiddleware, namespace_of

PAGE = """<!doctype html><html><head><title>{title}</title></head><body>
<nav><a href="/">Home</a> <a href="/form">Form</a> <a href="/search?q=a">Search a</a>
<a href="https://evil.example/steal">Outside</a> <a href="/redirect-out">Bad redirect</a>
<a href="/json">JSON</a> <a href="#top">Top</a></nav>
{body}</body></html>"""

FORM = """<h1>Order form</h1>
<form method="post" action="/submit">
<input type="hidden" name="token" value="t0k">
<label for="name">Full name</label><input id="name" name="name" required>
<label for="email">Email</label><input id="email" name="email" type="email">
<label for="qty">Quantity</label><input id="qty" name="qty" type="number" min="1" max="5" value="1">
<label for="ship">Shipping</label><select id="ship" name="ship">
<option value="std">Standard</option><option value="exp">Express</option></select>
<fieldset><legend>Payment</legend>
<label><input type="radio" name="pay" value="card" checked> Card</label>
<label><input type="radio" name="pay" value="paypal"> PayPal</label></fieldset>
<label><input type="checkbox" name="gift" value="yes"> Gift wrap</label>
<label for="note">Note</label><textarea id="note" name="note">default note</textarea>
<input name="off" value="x" disabled>
<button type="submit" name="go" value="buy">Buy now</button>
<button type="submit" name="go" value="save">Save for later</button>
</form>
<form method="get" action="/search"><label for="q">Search</label><input id="q" name="q" minlength>
<button>Search</button></form>
"""


class FormSite:
    """Implements DomEnv's InProcessSites protocol for tests."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.asgi = NamespaceMiddleware(
            Starlette(
                routes=[
                    Route("/", self.home),
                    Route("/form", self.form),
                    Route("/submit", self.submit, methods=["POST"]),
                    Route("/done", self.done),
                    Route("/search", self.search),
                    Route("/json", self.json),
                    Route("/redirect-out", lambda r: RedirectResponse("https://evil.example/", status_code=302)),
                    Route(
                        "/js",
                        lambda r: HTMLResponse(
                            PAGE.format(
                                title="JS", body="<script>app()</script><noscript>Please enable JavaScript.</noscript>"
                            )
                        ),
                    ),
                ]
            )
        )

    def state_json(self, ns: str) -> dict[str, Any]:
        return {"forms": dict(self.states.get(ns, {"orders": []}))}

    def drop(self, ns: str) -> None:
        self.states.pop(ns, None)

    async def home(self, request: Request) -> Response:
        return HTMLResponse(PAGE.format(title="Home", body="<h1>Welcome</h1><p>Price: <b>$5.00</b></p>"))

    async def form(self, request: Request) -> Response:
        return HTMLResponse(PAGE.format(title="Form", body=FORM))

    async def submit(self, request: Request) -> Response:
        form = await request.form()
        st = self.states.setdefault(namespace_of(request), {"orders": []})
        st["orders"].append({k: form.getlist(k) if len(form.getlist(k)) > 1 else form[k] for k in form})
        return RedirectResponse("/done", status_code=303)

    async def done(self, request: Request) -> Response:
        n = len(self.states.get(namespace_of(request), {"orders": []})["orders"])
        return HTMLResponse(PAGE.format(title="Done", body=f"<h1>Thank you</h1><p id='count'>Orders: {n}</p>"))

    async def search(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        items = "".join(f"<li>{q} item {i}</li>" for i in range(3))
        return HTMLResponse(PAGE.format(title=f"Search {q}", body=f"<h1>Results for {q}</h1><ul>{items}</ul>"))

    async def json(self, request: Request) -> Response:
        return JSONResponse({"a": 1})
