"""The `admin` site: a login-protected console over customers and tickets.

Routes (under `/admin`): `/login`, `/logout` (POST), `/` dashboard, `/customers` (filter
form, sortable column headers, pagination), `/customers/{id}`, `/customers/{id}/edit`,
`/tickets` (same, plus checkboxes and a bulk "Close selected" / "Assign selected" form
posting to `/tickets/bulk`), `/tickets/{id}`, `/tickets/{id}/edit`, `/settings`. Every page
but `/login` redirects (303) to `/admin/login?next=...` when the namespace is not logged in.
Page rules live in `rules.py`, state in `state.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domplay.sites.admin import rules
from domplay.sites.admin.data import (
    CATEGORIES,
    CUSTOMER_STATUSES,
    PLANS,
    PRIORITIES,
    TICKET_STATUSES,
    AdminData,
    generate_admin,
)
from domplay.sites.admin.state import AdminState
from domplay.sites.base import Site

SEE_OTHER = 303
INVALID = 422
NOTICES = {
    "saved": "Changes saved.",
    "bulk-close": "Selected tickets closed.",
    "bulk-assign": "Selected tickets assigned.",
    "settings": "Settings saved.",
}
Handler = Callable[[Request], Awaitable[Response]]


class AdminSite(Site):
    name = "admin"
    data: AdminData

    def accounts(self) -> list[tuple[str, str]]:
        return [(self.data.admin.username, self.data.admin.password)]

    def generate(self, seed: int) -> AdminData:
        return generate_admin(seed)

    def new_state(self) -> AdminState:
        return AdminState()

    def routes(self) -> list[BaseRoute]:
        g = self._gate
        return [
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/", g(self.dashboard)),
            Route("/customers", g(self.customers)),
            Route("/customers/{cid:int}", g(self.customer)),
            Route("/customers/{cid:int}/edit", g(self.edit_customer), methods=["GET", "POST"]),
            Route("/tickets", g(self.tickets)),
            Route("/tickets/bulk", g(self.bulk, next_path=f"/{self.name}/tickets"), methods=["POST"]),
            Route("/tickets/{tid:int}", g(self.ticket)),
            Route("/tickets/{tid:int}/edit", g(self.edit_ticket), methods=["GET", "POST"]),
            Route("/settings", g(self.settings), methods=["GET", "POST"]),
        ]

    # -- helpers -----------------------------------------------------------------------
    def _gate(self, handler: Handler, next_path: str | None = None) -> Handler:
        """`handler`, but a 303 to the login page when the namespace is not logged in."""

        async def gated(request: Request) -> Response:
            if not self.state_for(request).logged_in:
                nxt = next_path or request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/{self.name}/login?next={quote(nxt)}", status_code=SEE_OTHER)
            return await handler(request)

        return gated

    def _page(self, request: Request, template: str, status_code: int = 200, **ctx: Any) -> Response:
        st: AdminState = self.state_for(request)
        ctx.setdefault("data", st.view(self.data))
        return self.render(
            template,
            status_code=status_code,
            state=st,
            rules=rules,
            path=request.url.path,
            notice=NOTICES.get(request.query_params.get("notice", "")),
            plans=PLANS,
            customer_statuses=CUSTOMER_STATUSES,
            ticket_statuses=TICKET_STATUSES,
            priorities=PRIORITIES,
            categories=CATEGORIES,
            **ctx,
        )

    def _not_found(self, request: Request, what: str) -> Response:
        return self._page(request, "message.html", 404, heading="Not found", message=f"No such {what}.")

    def _redirect(self, path: str, notice: str) -> RedirectResponse:
        sep = "&" if "?" in path else "?"
        return RedirectResponse(f"/{self.name}{path}{sep}notice={notice}", status_code=SEE_OTHER)

    def _safe_next(self, raw: str | None) -> str:
        root = f"/{self.name}/"
        if raw is not None and raw.startswith(root) and "//" not in raw and not raw.startswith(f"{root}login"):
            return raw
        return root

    @staticmethod
    def _listing(params: Mapping[str, str], path: str, columns: Mapping[str, Any]) -> dict[str, Any]:
        """Sort state, the query to keep across pages, and each column header's sort link."""
        sort = params.get("sort", "id") if params.get("sort", "id") in columns else "id"
        direction = "desc" if params.get("dir") == "desc" else "asc"
        keep = {k: v for k, v in params.items() if v and k not in ("page", "notice")}
        links = {}
        for col in columns:
            flip = "desc" if col == sort and direction == "asc" else "asc"
            links[col] = f"{path}?{urlencode({**keep, 'sort': col, 'dir': flip})}"
        return {"sort": sort, "direction": direction, "base_query": keep, "sort_links": links}

    # -- login -------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        st: AdminState = self.state_for(request)
        if request.method == "GET":
            return self._page(
                request, "login.html", next=self._safe_next(request.query_params.get("next")), username="", error=None
            )
        form = await request.form()
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        nxt = self._safe_next(str(form.get("next", "")))
        if (username, password) != (self.data.admin.username, self.data.admin.password):
            return self._page(
                request, "login.html", INVALID, next=nxt, username=username, error="Invalid username or password."
            )
        st.logged_in = True
        return RedirectResponse(nxt, status_code=SEE_OTHER)

    async def logout(self, request: Request) -> Response:
        self.state_for(request).logged_in = False
        return RedirectResponse(f"/{self.name}/login", status_code=SEE_OTHER)

    # -- pages -------------------------------------------------------------------------
    async def dashboard(self, request: Request) -> Response:
        data = self.state_for(request).view(self.data)
        open_ = rules.filter_tickets(data, rules.TicketFilter(status="open"))
        stats = {
            "customers": len(data.customers),
            "active_customers": len(rules.filter_customers(data, rules.CustomerFilter(status="active"))),
            "open_tickets": len(open_),
            "urgent_open_tickets": sum(t.priority == "urgent" for t in open_),
            "unassigned_tickets": len(rules.filter_tickets(data, rules.TicketFilter(assignee=rules.UNASSIGNED))),
        }
        return self._page(request, "dashboard.html", data=data, stats=stats)

    async def customers(self, request: Request) -> Response:
        st: AdminState = self.state_for(request)
        data, qp = st.view(self.data), request.query_params
        lo, hi, errors = rules.parse_date_range(qp.get("date_from", ""), qp.get("date_to", ""))
        flt = rules.CustomerFilter(
            q=qp.get("q", ""), status=qp.get("status", ""), plan=qp.get("plan", ""), date_from=lo, date_to=hi
        )
        listing = self._listing(qp, path=request.url.path, columns=rules.CUSTOMER_COLUMNS)
        rows = rules.sort_customers(data, rules.filter_customers(data, flt), listing["sort"], listing["direction"])
        paged = rules.paginate(rows, rules.parse_int(qp.get("page"), 1), st.per_page)
        return self._page(
            request,
            "customers.html",
            INVALID if errors else 200,
            data=data,
            paged=paged,
            params=qp,
            errors=errors,
            **listing,
        )

    async def customer(self, request: Request) -> Response:
        data = self.state_for(request).view(self.data)
        customer = data.customer(request.path_params["cid"])
        if customer is None:
            return self._not_found(request, "customer")
        tickets = rules.sort_tickets(data, data.tickets_of(customer.id), "created", "desc")
        return self._page(request, "customer.html", data=data, customer=customer, tickets=tickets)

    async def edit_customer(self, request: Request) -> Response:
        st: AdminState = self.state_for(request)
        customer = st.view(self.data).customer(request.path_params["cid"])
        if customer is None:
            return self._not_found(request, "customer")
        if request.method == "GET":
            values = {**vars(customer), "signup_date": customer.signup_date.isoformat()}
            return self._page(request, "customer_edit.html", customer=customer, values=values, errors={})
        form = await request.form()
        raw = {k: str(v) for k, v in form.items()}
        values, errors = rules.validate_customer(raw)
        if errors:
            return self._page(
                request,
                "customer_edit.html",
                INVALID,
                customer=customer,
                values={**raw, "newsletter": "newsletter" in raw},
                errors=errors,
            )
        st.edit_customer(self.data, customer.id, values)
        return self._redirect(f"/customers/{customer.id}", "saved")

    async def tickets(self, request: Request) -> Response:
        return self._tickets_page(request, request.query_params)

    def _tickets_page(
        self,
        request: Request,
        qp: Mapping[str, str],
        bulk_errors: dict[str, str] | None = None,
        selected: tuple[int, ...] = (),
    ) -> Response:
        st: AdminState = self.state_for(request)
        data = st.view(self.data)
        lo, hi, errors = rules.parse_date_range(qp.get("date_from", ""), qp.get("date_to", ""))
        flt = rules.TicketFilter(
            q=qp.get("q", ""),
            status=qp.get("status", ""),
            priority=qp.get("priority", ""),
            assignee=qp.get("assignee", ""),
            date_from=lo,
            date_to=hi,
        )
        path = f"/{self.name}/tickets"
        listing = self._listing(qp, path=path, columns=rules.TICKET_COLUMNS)
        rows = rules.sort_tickets(data, rules.filter_tickets(data, flt), listing["sort"], listing["direction"])
        paged = rules.paginate(rows, rules.parse_int(qp.get("page"), 1), st.per_page)
        here = f"{path}?{urlencode({**listing['base_query'], 'page': paged.page})}"
        failed = bool(errors or bulk_errors)
        return self._page(
            request,
            "tickets.html",
            INVALID if failed else 200,
            data=data,
            paged=paged,
            params=qp,
            errors=errors,
            bulk_errors=bulk_errors or {},
            selected=selected,
            here=here,
            **listing,
        )

    async def bulk(self, request: Request) -> Response:
        st: AdminState = self.state_for(request)
        form = await request.form()
        back = str(form.get("back", ""))
        if not back.startswith(f"/{self.name}/tickets?"):
            back = f"/{self.name}/tickets?"
        action, assignee = str(form.get("action", "")), str(form.get("assignee", ""))
        ids, errors = rules.validate_bulk(action, [str(i) for i in form.getlist("ids")], assignee, self.data)
        if errors:
            return self._tickets_page(request, dict(parse_qsl(urlsplit(back).query)), errors, tuple(ids))
        st.bulk(self.data, action, ids, assignee if action == "assign" else None)
        return self._redirect(back.removeprefix(f"/{self.name}"), f"bulk-{action}")

    async def ticket(self, request: Request) -> Response:
        data = self.state_for(request).view(self.data)
        ticket = data.ticket(request.path_params["tid"])
        if ticket is None:
            return self._not_found(request, "ticket")
        return self._page(request, "ticket.html", data=data, ticket=ticket)

    async def edit_ticket(self, request: Request) -> Response:
        st: AdminState = self.state_for(request)
        ticket = st.view(self.data).ticket(request.path_params["tid"])
        if ticket is None:
            return self._not_found(request, "ticket")
        if request.method == "GET":
            values = {
                **vars(ticket),
                "assignee": ticket.assignee or "",
                "due_date": ticket.due_date.isoformat() if ticket.due_date else "",
            }
            return self._page(request, "ticket_edit.html", ticket=ticket, values=values, errors={})
        raw = {k: str(v) for k, v in (await request.form()).items()}
        values, errors = rules.validate_ticket(raw, self.data, ticket.created)
        if errors:
            return self._page(request, "ticket_edit.html", INVALID, ticket=ticket, values=raw, errors=errors)
        st.edit_ticket(self.data, ticket.id, values)
        return self._redirect(f"/tickets/{ticket.id}", "saved")

    async def settings(self, request: Request) -> Response:
        st: AdminState = self.state_for(request)
        if request.method == "GET":
            return self._page(request, "settings.html", values=st.settings, errors={})
        form = await request.form()
        values, errors = rules.validate_settings(
            {k: str(v) for k, v in form.items()}, [str(v) for v in form.getlist("notifications")]
        )
        if errors:
            return self._page(request, "settings.html", INVALID, values=values, errors=errors)
        st.save_settings(values)
        return self._redirect("/settings", "settings")
