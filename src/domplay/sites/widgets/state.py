"""Per-namespace state of the `widgets` site: what each widget did.

`to_json()` schema (what checks read as `snapshot.state["widgets"]`)::

    {
      "active_tab": "reviews" | null,      # last tab opened on /widgets/tabs
      "tabs_opened": ["reviews", ...],     # every tab opened, in order
      "contacts": [{"id": 1, "name": ..., "email": ..., "topic": ..., "message": ...}],
      "city": "Lisbon" | null,             # saved on /widgets/autocomplete
      "starred": [3, 17],                  # item ids starred on /widgets/list, sorted
      "date": "2024-05-14" | null          # confirmed on /widgets/datepicker
    }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class WidgetsState:
    active_tab: str | None = None
    tabs_opened: list[str] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    city: str | None = None
    starred: set[int] = field(default_factory=set)
    date: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "active_tab": self.active_tab,
            "tabs_opened": list(self.tabs_opened),
            "contacts": [dict(c) for c in self.contacts],
            "city": self.city,
            "starred": sorted(self.starred),
            "date": self.date,
        }
