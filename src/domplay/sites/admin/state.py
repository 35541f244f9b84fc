"""Per-namespace admin-console state and the merged view it gives of the seeded records.

`AdminState.to_json()` — what checks read as `snapshot.state["admin"]`:

    {
      "logged_in": true,
      "customers": {"17": {"email": "new@example.com", "newsletter": false}},
      "tickets": {"42": {"status": "closed", "assignee": "bob", "due_date": "2024-06-20"}},
      "bulk_actions": [{"action": "close", "ticket_ids": [3, 9], "assignee": null}],
      "settings": {"timezone": "UTC", "notifications": ["assignment"], "items_per_page": 20}
    }

`customers` / `tickets` map a record id (string) to the fields whose current value differs
from the seeded record (dates as YYYY-MM-DD, unassigned as null); a field edited back to its
seeded value disappears. Bulk actions are logged in order and also change `tickets`.
`settings` is always complete (defaults until the settings form is saved).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from domplay.sites.admin.data import AdminData, Customer, Ticket
from domplay.sites.admin.rules import DEFAULT_SETTINGS


@dataclass(frozen=True)
class BulkAction:
    action: str
    ticket_ids: tuple[int, ...]
    assignee: str | None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class AdminState:
    logged_in: bool = False
    customer_edits: dict[int, dict[str, Any]] = field(default_factory=dict)
    ticket_edits: dict[int, dict[str, Any]] = field(default_factory=dict)
    bulk_actions: list[BulkAction] = field(default_factory=list)
    settings: dict[str, Any] = field(
        default_factory=lambda: {**DEFAULT_SETTINGS, "notifications": list(DEFAULT_SETTINGS["notifications"])}
    )
    _changes: int = field(default=0, repr=False, compare=False)
    _cache: tuple[int, AdminData] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "logged_in": self.logged_in,
            "customers": {str(k): {f: _jsonable(v) for f, v in e.items()} for k, e in self.customer_edits.items()},
            "tickets": {str(k): {f: _jsonable(v) for f, v in e.items()} for k, e in self.ticket_edits.items()},
            "bulk_actions": [{**asdict(b), "ticket_ids": list(b.ticket_ids)} for b in self.bulk_actions],
            "settings": {**self.settings, "notifications": list(self.settings["notifications"])},
        }

    @property
    def per_page(self) -> int:
        return int(self.settings["items_per_page"])

    # -- changes -----------------------------------------------------------------------
    def edit_customer(self, seeded: AdminData, customer_id: int, values: dict[str, Any]) -> None:
        self._edit(self.customer_edits, seeded.customer(customer_id), values)

    def edit_ticket(self, seeded: AdminData, ticket_id: int, values: dict[str, Any]) -> None:
        self._edit(self.ticket_edits, seeded.ticket(ticket_id), values)

    def bulk(self, seeded: AdminData, action: str, ticket_ids: list[int], assignee: str | None) -> None:
        self.bulk_actions.append(BulkAction(action, tuple(ticket_ids), assignee))
        change = {"status": "closed"} if action == "close" else {"assignee": assignee}
        for tid in ticket_ids:
            self.edit_ticket(seeded, tid, change)

    def save_settings(self, values: dict[str, Any]) -> None:
        self.settings = dict(values)
        self._changes += 1

    def _edit(self, edits: dict[int, dict[str, Any]], record: Customer | Ticket | None, values: dict[str, Any]) -> None:
        assert record is not None, "handlers look the record up before editing it"
        merged = {**edits.get(record.id, {}), **values}
        diff = {k: v for k, v in merged.items() if getattr(record, k) != v}
        if diff:
            edits[record.id] = diff
        else:
            edits.pop(record.id, None)
        self._changes += 1

    # -- merged view -------------------------------------------------------------------
    def view(self, seeded: AdminData) -> AdminData:
        """The records as this namespace sees them (the seeded data itself when unedited)."""
        if not (self.customer_edits or self.ticket_edits):
            return seeded
        if self._cache is not None and self._cache[0] == self._changes:
            return self._cache[1]
        merged = AdminData(
            admin=seeded.admin,
            staff=seeded.staff,
            customers=tuple(replace(c, **self.customer_edits.get(c.id, {})) for c in seeded.customers),
            tickets=tuple(replace(t, **self.ticket_edits.get(t.id, {})) for t in seeded.tickets),
        )
        self._cache = (self._changes, merged)
        return merged
