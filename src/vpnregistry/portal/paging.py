"""Keyset paging: each page is an index seek, however many rows lie before it."""

from __future__ import annotations

from dataclasses import dataclass

from vpnregistry.db import whole_number

PAGE_SIZE = 25


@dataclass
class Page:
    items: list
    next_before: int | None


def keyset_page(qs, before: str | None, size: int = PAGE_SIZE) -> Page:
    """Rows of `qs` (ordered by descending id) with an id below `before`, one page of them."""
    if (below := whole_number(before)) is not None:
        qs = qs.filter(id__lt=below)
    items = list(qs[: size + 1])
    more = len(items) > size
    items = items[:size]
    return Page(items=items, next_before=items[-1].id if more else None)
