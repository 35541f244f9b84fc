"""The `widgets` site: tabs, a modal dialog, an autocomplete, a fetched list, a date picker.

Every page needs JavaScript (inline scripts only, marked with
`<meta name="domplay:requires" content="javascript">`, so DomEnv refuses them) and
records its widget's outcome in the namespace's state through a small JSON API.

Pages (under `/widgets`): `/` index, `/tabs`, `/modal`, `/autocomplete`, `/list`,
`/datepicker`. JSON API: `GET /api/items?page=`, `GET /api/cities?q=`, and POSTs of JSON
bodies to `/api/tab` {tab}, `/api/contact` {name, email, topic, message}, `/api/city`
{city}, `/api/star` {id, starred}, `/api/date` {date: "YYYY-MM-DD"}. Invalid input gets
422 with `{"errors": {field: message}}`. Data and rules: `data.py`; state: `state.py`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from domplay.sites.base import Site
from domplay.sites.widgets import data as D
from domplay.sites.widgets.state import WidgetsState

INVALID = 422

PAGES: tuple[tuple[str, str, str], ...] = (
    ("tabs", "Tabs", "Product details in three tabs."),
    ("modal", "Modal dialog", "Contact support through a dialog form."),
    ("autocomplete", "Autocomplete", "Pick your home city from suggestions."),
    ("list", "Fetched list", "A task list loaded from the server, with stars."),
    ("datepicker", "Date picker", "Choose a delivery date in a calendar."),
)


class WidgetsSite(Site):
    name = "widgets"
    needs_js = True
    data: D.WidgetsData

    def generate(self, seed: int) -> D.WidgetsData:
        return D.generate_widgets(seed)

    def new_state(self) -> WidgetsState:
        return WidgetsState()

    def routes(self) -> list[BaseRoute]:
        pages: list[BaseRoute] = [Route("/", self.index)]
        pages += [Route(f"/{key}", self._page(key)) for key, _, _ in PAGES]
        return pages + [
            Route("/api/items", self.api_items),
            Route("/api/cities", self.api_cities),
            Route("/api/tab", self.api_tab, methods=["POST"]),
            Route("/api/contact", self.api_contact, methods=["POST"]),
            Route("/api/city", self.api_city, methods=["POST"]),
            Route("/api/star", self.api_star, methods=["POST"]),
            Route("/api/date", self.api_date, methods=["POST"]),
        ]

    # -- pages ---------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        return self.render("index.html", pages=PAGES)

    def _page(self, key: str):
        async def handler(request: Request) -> Response:
            return self.render(
                f"{key}.html",
                pages=PAGES,
                data=self.data,
                state=self.state_for(request),
                topics=D.TOPICS,
                page_size=D.ITEMS_PAGE_SIZE,
            )

        return handler

    # -- JSON API ------------------------------------------------------------------------
    async def api_items(self, request: Request) -> Response:
        page = _int(request.query_params.get("page"), 1)
        items, more = D.items_page(self.data.items, page)
        starred = self.state_for(request).starred
        return JSONResponse(
            {
                "page": page,
                "more": more,
                "items": [
                    {"id": i.id, "title": i.title, "owner": i.owner, "status": i.status, "starred": i.id in starred}
                    for i in items
                ],
            }
        )

    async def api_cities(self, request: Request) -> Response:
        return JSONResponse({"suggestions": D.suggest_cities(self.data.cities, request.query_params.get("q", ""))})

    async def api_tab(self, request: Request) -> Response:
        body = await _json(request)
        key = str(body.get("tab", ""))
        if self.data.tab(key) is None:
            return _invalid(tab=f"unknown tab {key!r}")
        st: WidgetsState = self.state_for(request)
        st.active_tab = key
        st.tabs_opened.append(key)
        return JSONResponse({"ok": True, "active_tab": key})

    async def api_contact(self, request: Request) -> Response:
        body = await _json(request)
        fields = {k: str(body.get(k, "")) for k in ("name", "email", "topic", "message")}
        errors = D.validate_contact(**fields)
        if errors:
            return JSONResponse({"errors": errors}, status_code=INVALID)
        st: WidgetsState = self.state_for(request)
        record = {"id": len(st.contacts) + 1, **{k: v.strip() for k, v in fields.items()}}
        st.contacts.append(record)
        return JSONResponse({"ok": True, "ticket": record["id"]})

    async def api_city(self, request: Request) -> Response:
        city = str((await _json(request)).get("city", "")).strip()
        match = next((c for c in self.data.cities if c.casefold() == city.casefold()), None)
        if match is None:
            return _invalid(city=f"{city!r} is not a known city; pick one of the suggestions")
        self.state_for(request).city = match
        return JSONResponse({"ok": True, "city": match})

    async def api_star(self, request: Request) -> Response:
        body = await _json(request)
        item_id = _int(body.get("id"), 0)
        if self.data.item(item_id) is None:
            return _invalid(id=f"no item {body.get('id')!r}")
        starred = self.state_for(request).starred
        (starred.add if body.get("starred", True) else starred.discard)(item_id)
        return JSONResponse({"ok": True, "id": item_id, "starred": item_id in starred})

    async def api_date(self, request: Request) -> Response:
        raw = str((await _json(request)).get("date", ""))
        try:
            chosen = date.fromisoformat(raw)
        except ValueError:
            return _invalid(date=f"{raw!r} is not a date (YYYY-MM-DD)")
        if not D.date_allowed(chosen, self.data):
            return _invalid(
                date=f"{raw} is not available; choose a weekday from "
                f"{self.data.min_date.isoformat()} to {self.data.max_date.isoformat()}"
            )
        self.state_for(request).date = chosen.isoformat()
        return JSONResponse({"ok": True, "date": chosen.isoformat()})


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _invalid(**errors: str) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=INVALID)


def _int(raw: Any, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default
