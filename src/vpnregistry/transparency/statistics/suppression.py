"""Suppression, a pure function on a table of counts with its margins, so that no published figure
identifies anyone; and a table published in the shape the page, the JSON and the CSV all read."""

from __future__ import annotations

from dataclasses import dataclass, field

THRESHOLD = 5
PRIMARY = "<5"  # fewer than THRESHOLD counted (for addresses: held by fewer than THRESHOLD organisations)
SECONDARY = "x"  # withheld so that a "<5" cannot be worked out from the totals

Key = tuple  # ("cell", i, j) | ("row", i) | ("col", j) | ("grand",)


@dataclass
class Table:
    """Rows x columns of non-negative numbers, with whichever totals are published.

    `contributors` (same shape, margins included) counts who stands behind each figure, where that
    is not the figure itself: for addresses, the organisations holding them. Primary suppression
    applies to contributor counts of 1 to THRESHOLD - 1.
    """

    cells: list[list[int]]
    row_totals: list[int] | None = None
    column_totals: list[int] | None = None
    grand_total: int | None = None
    contributors: Table | None = None
    width: int = 0  # the number of columns, for a table without rows

    @classmethod
    def of(
        cls,
        cells: list[list[int]],
        *,
        rows: bool = True,
        columns: bool = True,
        grand: bool = True,
        width: int | None = None,
    ) -> Table:
        """A table whose published totals are the sums of its cells."""
        width = len(cells[0]) if cells else (width or 0)
        return cls(
            width=width,
            cells=[list(r) for r in cells],
            row_totals=[sum(r) for r in cells] if rows else None,
            column_totals=[sum(r[j] for r in cells) for j in range(width)] if columns else None,
            grand_total=sum(map(sum, cells)) if grand else None,
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0]) if self.cells else self.width

    def value(self, key: Key) -> int:
        kind = key[0]
        if kind == "cell":
            return self.cells[key[1]][key[2]]
        if kind == "row":
            return self.row_totals[key[1]]
        if kind == "col":
            return self.column_totals[key[1]]
        return self.grand_total

    def positions(self) -> list[Key]:
        n, m = self.shape
        found: list[Key] = [("cell", i, j) for i in range(n) for j in range(m)]
        if self.row_totals is not None:
            found += [("row", i) for i in range(n)]
        if self.column_totals is not None:
            found += [("col", j) for j in range(m)]
        if self.grand_total is not None:
            found.append(("grand",))
        return found

    def groups(self) -> list[list[Key]]:
        """Every set of figures tied by one sum: a published total and the figures it adds up."""
        n, m = self.shape
        groups: list[list[Key]] = []
        if self.row_totals is not None:
            groups += [[("cell", i, j) for j in range(m)] + [("row", i)] for i in range(n)]
        if self.column_totals is not None:
            groups += [[("cell", i, j) for i in range(n)] + [("col", j)] for j in range(m)]
        if self.grand_total is not None:
            groups.append([("cell", i, j) for i in range(n) for j in range(m)] + [("grand",)])
            if self.row_totals is not None:
                groups.append([("row", i) for i in range(n)] + [("grand",)])
            if self.column_totals is not None:
                groups.append([("col", j) for j in range(m)] + [("grand",)])
        return groups


@dataclass
class Suppressed:
    """Which figures of a table are withheld, and why: PRIMARY or SECONDARY."""

    table: Table
    flags: dict[Key, str] = field(default_factory=dict)

    def published(self, key: Key) -> int | None:
        return None if key in self.flags else self.table.value(key)

    def flag(self, key: Key) -> str:
        return self.flags.get(key, "")


def suppress(table: Table, *, threshold: int = THRESHOLD) -> Suppressed:
    """Withhold every figure under the threshold, then enough others that none can be worked out.

    Primary: a figure whose count (or contributor count) is 1 to threshold - 1. Secondary: while
    some group (a published total and the figures it sums) has exactly one withheld member, that
    member is the total minus the others, so withhold the group's smallest other member too:
    non-zero cells first, then non-zero totals, then zeros. Repeat until nothing changes.
    """
    who = table.contributors or table
    flags: dict[Key, str] = {}
    for key in table.positions():
        if 0 < who.value(key) < threshold:
            flags[key] = PRIMARY
    groups = table.groups()
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [k for k in group if k in flags]
            if len(hidden) != 1:
                continue
            candidates = [k for k in group if k not in flags]
            if not candidates:
                continue
            pick = min(
                candidates,
                key=lambda k: (table.value(k) == 0, k[0] != "cell", table.value(k), group.index(k)),
            )
            flags[pick] = SECONDARY
            changed = True
    return Suppressed(table, flags)


def recoverable(result: Suppressed) -> list[Key]:
    """Withheld figures that one published total minus its published members gives away exactly."""
    found = []
    for group in result.table.groups():
        hidden = [k for k in group if k in result.flags]
        if len(hidden) == 1:
            found.append(hidden[0])
    return found


# ---------------------------------------------------------------------------------------------
# Publishing a table: the shape the page, the JSON and the CSV all read.


def publish(
    *,
    id: str,
    title: str,
    unit: str,
    rows: list[str],
    columns: list[str],
    table: Table,
    note: str = "",
    rows_ur: list[str] | None = None,
    columns_ur: list[str] | None = None,
) -> dict:
    """The table as stored: `rows_ur`/`columns_ur` hold the Urdu of labels that are reference names
    (categories, provinces), "" for the others; `in_language` picks the reader's at each view."""
    result = suppress(table)
    n, m = table.shape
    out = {
        "id": id,
        "title": title,
        "unit": unit,
        "note": note,
        "rows": rows,
        "columns": columns,
        "rows_ur": rows_ur or [""] * len(rows),
        "columns_ur": columns_ur or [""] * len(columns),
        "cells": [[result.published(("cell", i, j)) for j in range(m)] for i in range(n)],
        "flags": [[result.flag(("cell", i, j)) for j in range(m)] for i in range(n)],
        "row_totals": None,
        "row_total_flags": None,
        "column_totals": None,
        "column_total_flags": None,
        "grand_total": None,
        "grand_total_flag": "",
        "has_grand_total": table.grand_total is not None,
    }
    if table.row_totals is not None:
        out["row_totals"] = [result.published(("row", i)) for i in range(n)]
        out["row_total_flags"] = [result.flag(("row", i)) for i in range(n)]
    if table.column_totals is not None:
        out["column_totals"] = [result.published(("col", j)) for j in range(m)]
        out["column_total_flags"] = [result.flag(("col", j)) for j in range(m)]
    if table.grand_total is not None:
        out["grand_total"] = result.published(("grand",))
        out["grand_total_flag"] = result.flag(("grand",))
    return out
