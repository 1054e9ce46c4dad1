"""Checking a whole legacy register before anything is written: each row's fields, the operators'
space, the registry's active registrations, and the rows against each other."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from django.utils import timezone

from vpnregistry.applications.legacy.parsing import _parse
from vpnregistry.applications.legacy.registry import (
    _activity_mark,
    _clash_message,
    _organisations,
    _Space,
    registry_clashes,
)
from vpnregistry.applications.legacy.rows import COLUMNS, Checked, Row


def check_file(text: str, *, now: datetime | None = None) -> Checked:
    """Parse and check every row; nothing is written."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return Checked([], [(1, f"the header lacks the column(s): {', '.join(missing)}")])
    problems: dict[int, list[str]] = {}
    rows = _parse(reader, problems)
    space = _Space()
    for row in rows:
        if space.operator_of(row) != row.operator.pk:
            problems.setdefault(row.line, []).append(
                f"value: {row.value} is not in {row.operator.code}'s address space"
            )
    rows = [row for row in rows if row.line not in problems]
    now = now or timezone.now()
    mark = _activity_mark()
    organisations = _organisations({row.organisation_key for row in rows})
    active = [row for row in rows if row.valid_until > now]
    for i, value in registry_clashes(active, lambda row: organisations.get(row.organisation_key, 0)).items():
        problems[active[i].line] = [_clash_message(active[i], value)]
    # Then the rows left against each other: a row refused already cannot stand in another's way.
    _overlapping_each_other([row for row in rows if row.line not in problems], now, problems)
    return Checked(
        [row for row in rows if row.line not in problems],
        sorted((line, "; ".join(reasons)) for line, reasons in problems.items()),
        organisations,
        mark,
    )


def _both_held(a: Row, b: Row, now: datetime) -> bool:
    """Whether two rows would ever stand together: both active now, or their windows meet."""
    return (a.valid_until > now and b.valid_until > now) or (
        a.valid_from < b.valid_until and b.valid_from < a.valid_until
    )


def _overlapping_each_other(rows: list[Row], now: datetime, problems: dict[int, list[str]]) -> None:
    """Rows of different organisations that share an address while both are held: the later is bad.

    Two CIDRs share an address only when one contains the other, so one walk in address order with
    a stack of the rows containing the current one finds every such pair. A row found bad leaves
    the stack, so the rows written never overlap each other across organisations.
    """
    stack: list[Row] = []
    for row in sorted(rows, key=lambda r: (r.family, r.first, r.prefixlen, r.line)):
        while stack and (stack[-1].family != row.family or stack[-1].last < row.first):
            stack.pop()
        clash = next(
            (o for o in stack if o.organisation_key != row.organisation_key and _both_held(o, row, now)), None
        )
        if clash is not None:
            problems.setdefault(row.line, []).append(
                f"value: {row.value} overlaps {clash.value} of another organisation (line {clash.line})"
            )
        else:
            stack.append(row)
