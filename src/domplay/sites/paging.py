"""Pagination shared by the built-in sites' list pages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: tuple[T, ...]
    page: int
    """1-based page shown (requested page clamped to 1..pages)."""
    pages: int
    total: int


def paginate(items: Sequence[T], page: int, per_page: int) -> Paged[T]:
    """Page `page` (1-based, clamped into range) of `items`, `per_page` per page."""
    pages = max(1, math.ceil(len(items) / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return Paged(tuple(items[start : start + per_page]), page, pages, len(items))
