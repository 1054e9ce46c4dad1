"""What the registry holds, read for a legacy register's rows in a few set-based queries: the operators'
space, the organisations named, the active registrations a row would overlap, the activity mark."""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence

from django.db import connection, transaction

from vpnregistry.accounts.models import AddressSpace, Organisation
from vpnregistry.applications.legacy.rows import ACTIVE, OrganisationKey, Row, _bits
from vpnregistry.db import address_key, hold_lock
from vpnregistry.registrations.models import ActivePeriod, Registration

CHUNK = 5000  # rows (or keys) a check query asks about, in one JSON parameter
SLICE = 50_000  # rows checked against the registry together


def _clash_message(row: Row, value: str) -> str:
    return f"value: {row.value} overlaps {value}, registered to another organisation"


class _Space:
    """All operators' address space, read in one query: the operator holding a prefix, by longest match.

    The same answer as `accounts.selectors.operator_for_network`, for any number of prefixes: the
    national space is a few thousand rows, so it is read whole rather than sought prefix by prefix.
    """

    def __init__(self) -> None:
        self.holders: dict[tuple[int, int, int], int] = {}  # (family, first, host bits) -> operator
        hosts: dict[int, set[int]] = defaultdict(set)
        for family, first, last, operator_id in AddressSpace.objects.values_list(
            "family", "first", "last", "operator_id"
        ):
            start = int(first, 16)
            host = (int(last, 16) - start + 1).bit_length() - 1
            self.holders[family, start, host] = operator_id
            hosts[family].add(host)
        self.hosts = {family: sorted(found) for family, found in hosts.items()}  # most specific first

    def operator_of(self, row: Row) -> int | None:
        own = _bits(row.family) - row.prefixlen
        for host in self.hosts.get(row.family, ()):
            if host >= own and (found := self.holders.get((row.family, row.first >> host << host, host))):
                return found
        return None


def _organisations(keys: set[OrganisationKey]) -> dict[OrganisationKey, int]:
    """The existing organisation of each key (the oldest, if a name is repeated), in one query.

    Names carry no index, so the organisations of the categories named are read in one pass,
    three columns each, rather than sought name by name.
    """
    names = {name for name, _category in keys}
    found: dict[OrganisationKey, int] = {}
    rows = (
        Organisation.objects.filter(category_id__in={category for _name, category in keys})
        .order_by("-pk")
        .values_list("pk", "name", "category_id")
    )
    for pk, name, category_id in rows.iterator(chunk_size=10_000):
        if name in names:
            found[name, category_id] = pk
    return found


def registry_clashes(rows: Sequence[Row], organisation_of: Callable[[Row], int]) -> dict[int, str]:
    """For each row (by position) sharing an address with an active registration of another
    organisation than `organisation_of(row)`, the value of one such registration.

    Two CIDRs share an address only when one contains the other: either the registration starts
    inside the row (one range seek per row, thousands of rows a query), or it starts before the
    row and contains it, at one of the starts of the prefixes that could contain the row (the
    distinct starts of the rows together, thousands a query, each a point seek). The rows are
    taken in address order, a slice at a time, so that neighbours share those starts and the
    memory they take stays bounded whatever the file's size.
    """
    order = sorted(range(len(rows)), key=lambda i: (rows[i].family, rows[i].first))
    found: dict[int, str] = {}
    for start in range(0, len(order), SLICE):
        part = order[start : start + SLICE]
        found.update(
            (part[i], value) for i, value in _clashes([rows[i] for i in part], organisation_of).items()
        )
    return found


def _clashes(rows: Sequence[Row], organisation_of: Callable[[Row], int]) -> dict[int, str]:
    found: dict[int, str] = {}
    table = connection.ops.quote_name(Registration._meta.db_table)
    inside = (
        f"SELECT c.i, (SELECT r.value FROM {table} r WHERE r.state = %s AND r.family = c.fam "  # noqa: S608
        "AND r.first >= c.lo AND r.first <= c.hi AND r.organisation_id <> c.org "
        f"ORDER BY r.first LIMIT 1) FROM {_json_rows('i bigint, fam int, lo text, hi text, org bigint')} c"
    )
    for start in range(0, len(rows), CHUNK):
        chunk = [
            [i, row.family, address_key(row.first), address_key(row.last), organisation_of(row)]
            for i, row in enumerate(rows[start : start + CHUNK], start)
        ]
        with connection.cursor() as cursor:
            cursor.execute(inside, [ACTIVE, json.dumps(chunk)])
            found.update((i, value) for i, value in cursor.fetchall() if value is not None)
    around = _Held(_active_starting_at(_enclosing_starts(rows)))
    for i, row in enumerate(rows):
        if i not in found and (value := around.clash(row, organisation_of(row))) is not None:
            found[i] = value
    return found


def _json_rows(columns: str) -> str:
    """A FROM item: the rows of one JSON parameter (an array of arrays) as the columns named, each
    "name type" (bigint, int or text), on PostgreSQL and SQLite alike.

    One parameter for thousands of rows: a VALUES list of as many placeholders costs more to
    bind and to plan than the index seeks it asks for.
    """
    named = [column.split() for column in columns.split(",")]
    if connection.vendor == "postgresql":
        picked = ", ".join(f"(e->>{i})::{kind} AS {name}" for i, (name, kind) in enumerate(named))
        return f"(SELECT {picked} FROM json_array_elements(%s::json) AS e)"  # noqa: S608 (constant columns)
    picked = ", ".join(f"json_extract(e.value, '$[{i}]') AS {name}" for i, (name, _kind) in enumerate(named))
    return f"(SELECT {picked} FROM json_each(%s) AS e)"  # noqa: S608 (constant columns)


class _Held:
    """Active registrations held in memory, (family, first, last, organisation, value) each, matched
    against rows as the queries match them: starting inside a row, or starting before it and
    containing it."""

    def __init__(self, registrations: Iterable[tuple[int, str, str, int, str]]):
        self.starting: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
        hosts: dict[int, set[int]] = defaultdict(set)
        for family, first, last, organisation, value in registrations:
            begin, end = int(first, 16), int(last, 16)
            self.starting[family, begin].append((end, organisation, value))
            hosts[family].add((end - begin + 1).bit_length() - 1)
        self.hosts = {family: sorted(found) for family, found in hosts.items()}
        self.firsts: dict[int, list[int]] = defaultdict(list)
        for family, begin in sorted(self.starting):
            self.firsts[family].append(begin)

    def clash(self, row: Row, organisation: int) -> str | None:
        """The value of a registration of another organisation sharing an address with the row."""
        firsts = self.firsts.get(row.family, [])
        at = bisect.bisect_left(firsts, row.first)
        while at < len(firsts) and firsts[at] <= row.last:
            for _end, holder, value in self.starting[row.family, firsts[at]]:
                if holder != organisation:
                    return value
            at += 1
        own = _bits(row.family) - row.prefixlen
        for host in self.hosts.get(row.family, ()):
            if host > own:
                for end, holder, value in self.starting.get((row.family, row.first >> host << host), ()):
                    if end >= row.last and holder != organisation:
                        return value
        return None


def _enclosing_starts(rows: Sequence[Row]) -> list[list]:
    """[family, first, last] keys: the first address of every prefix that could contain one of the
    rows, each once, with the smallest last address a registration starting there must reach to
    contain any of them (a start that is a row's own is sought by the range seek too, harmlessly)."""
    keys: list[list] = []
    for family in (4, 6):
        bits = _bits(family)
        # Largest last first, so that for a start shared by several rows the smallest last is kept.
        ends = sorted(
            ((row.first, row.last, bits - row.prefixlen) for row in rows if row.family == family),
            key=lambda end: -end[1],
        )
        need: dict[int, int] = {}
        for host in range(1, bits + 1):
            starts = {first >> host << host: last for first, last, own in ends if own < host}
            for start, last in starts.items():
                if last < need.get(start, last + 1):
                    need[start] = last
        keys += [[family, address_key(start), address_key(last)] for start, last in sorted(need.items())]
    return keys


def _active_starting_at(keys: list[list]) -> Iterator[tuple]:
    """(family, first, last, organisation, value) of the active registrations starting at each key's
    first address and reaching its last."""
    table = connection.ops.quote_name(Registration._meta.db_table)
    sql = (
        "SELECT r.family, r.first, r.last, r.organisation_id, r.value "  # noqa: S608
        f"FROM {_json_rows('fam int, lo text, need text')} a JOIN {table} r "
        "ON r.state = %s AND r.family = a.fam AND r.first = a.lo AND r.last >= a.need"
    )
    for start in range(0, len(keys), CHUNK):
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(keys[start : start + CHUNK]), ACTIVE])
            yield from cursor.fetchall()


def _activity_mark() -> int:
    """The last active period: a registration that becomes active after this reads opens one after it
    (an approval, a renewal and a reinstatement each open one; so does this import).

    Read under the approval lock, which every writer of active periods holds, so that no period
    below the mark is still uncommitted: the write re-checks its batches against the registrations
    whose periods come after it.
    """
    with transaction.atomic():
        hold_lock("approval")
        return ActivePeriod.objects.order_by("-id").values_list("id", flat=True).first() or 0
