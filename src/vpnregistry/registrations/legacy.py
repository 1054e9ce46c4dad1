"""Importing registrations made before the registry (the regime already held over 31,000).

Every row is checked before anything is written, and a row with any error is never written: a
file with a bad row imports nothing unless the caller asks to skip bad rows, and then only the rows
without an error are written. Rows already imported are recognised and left alone, so importing
the same file twice changes nothing the second time, and a run cut short is finished by running it
again.

Nothing is asked of the database row by row, so that a national register imports in seconds into a
registry of a million: the rows are checked with a few set-based queries (the organisations named,
all operators' space, and the overlaps with active registrations by key ranges in bulk), then
written in batches of bulk inserts, each batch one transaction under the approval lock in which its
overlaps are checked again: an approval made between the check and the write cannot leave an
address registered to two organisations.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from vpnregistry.accounts.models import AddressSpace, Category, District, Operator, Organisation, Role, User
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.services import record_many
from vpnregistry.db import Network, address_key, serialise
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.timeutil import parse_time

COLUMNS = ["organisation", "category", "value", "operator", "subscriber_id", "valid_from", "valid_until"]
OPTIONAL = ["district"]
IMPORTER = "legacy-import"
BATCH = 2000  # rows written per transaction: the approval lock is held about a third of a second
CHUNK = 500  # rows (or keys) per VALUES list of a check query
ACTIVE = Registration.State.ACTIVE


def _bits(family: int) -> int:
    return 32 if family == 4 else 128


@dataclass(slots=True)
class Row:
    """A checked row; its prefix is kept as integers (first and last address), not as an object."""

    line: int
    organisation: str
    category: Category
    value: str
    family: int
    first: int
    last: int
    prefixlen: int
    operator: Operator
    subscriber_id: str
    district: District | None
    valid_from: datetime
    valid_until: datetime

    @property
    def holder(self) -> tuple[str, int]:
        """The organisation the row registers to: its name within its category."""
        return self.organisation, self.category.pk

    @property
    def net(self) -> Network:
        return ipaddress.ip_network(self.value)


Holder = tuple[str, int]


@dataclass
class Checked:
    rows: list[Row]  # the rows without any error: only these may be written
    errors: list[tuple[int, str]]  # (line, every reason the row is bad), by line
    organisations: dict[Holder, int] = field(default_factory=dict)  # those that exist, by holder


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
    organisations = _organisations({row.holder for row in rows})
    active = [row for row in rows if row.valid_until > now]
    for i, value in registry_clashes(active, lambda row: organisations.get(row.holder, 0)).items():
        problems[active[i].line] = [_clash_message(active[i], value)]
    # Then the rows left against each other: a row refused already cannot stand in another's way.
    _overlapping_each_other([row for row in rows if row.line not in problems], now, problems)
    return Checked(
        [row for row in rows if row.line not in problems],
        sorted((line, "; ".join(reasons)) for line, reasons in problems.items()),
        organisations,
    )


def _clash_message(row: Row, value: str) -> str:
    return f"value: {row.value} overlaps {value}, registered to another organisation"


def _parse(reader: csv.DictReader, problems: dict[int, list[str]]) -> list[Row]:
    """The rows whose every field is good; the others' reasons go into `problems`."""
    categories = {c.code: c for c in Category.objects.all()}
    operators = {o.code: o for o in Operator.objects.all()}
    districts = {d.code: d for d in District.objects.all()}
    times: dict[str, datetime | str] = {}  # each distinct text parsed once: a register repeats its dates
    names: dict[str, str] = {}  # each organisation's name held once
    rows: list[Row] = []
    for raw in reader:
        line = reader.line_num
        reasons: list[str] = []
        get = {k: (raw.get(k) or "").strip() for k in COLUMNS + OPTIONAL}
        category = categories.get(get["category"])
        operator = operators.get(get["operator"])
        district = districts.get(get["district"]) if get["district"] else None
        if not get["organisation"]:
            reasons.append("organisation: empty")
        if category is None:
            reasons.append(f"category: {get['category']!r} is not a category code")
        if operator is None:
            reasons.append(f"operator: {get['operator']!r} is not an operator code")
        if get["district"] and district is None:
            reasons.append(f"district: {get['district']!r} is not a district code")
        if not get["subscriber_id"]:
            reasons.append("subscriber_id: empty")
        net = None
        try:
            limits = (category.min_len_v4, category.min_len_v6) if category else (0, 0)
            net = check_prefix(get["value"], min_len_v4=limits[0], min_len_v6=limits[1])
        except ParseError as exc:
            reasons.append(f"value: {exc}")
        window = {}
        for name in ("valid_from", "valid_until"):
            text = get[name]
            if text not in times:
                try:
                    times[text] = parse_time(text)
                except ValueError as exc:
                    times[text] = str(exc)
            if isinstance(times[text], str):
                reasons.append(f"{name}: {times[text]}")
            else:
                window[name] = times[text]
        if len(window) == 2 and window["valid_until"] <= window["valid_from"]:
            reasons.append("valid_until: must come after valid_from")
        if reasons:
            problems[line] = reasons
            continue
        rows.append(
            Row(
                line=line,
                organisation=names.setdefault(get["organisation"], get["organisation"]),
                category=category,
                value=str(net),
                family=net.version,
                first=int(net.network_address),
                last=int(net.broadcast_address),
                prefixlen=net.prefixlen,
                operator=operator,
                subscriber_id=get["subscriber_id"],
                district=district,
                valid_from=window["valid_from"],
                valid_until=window["valid_until"],
            )
        )
    return rows


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
        clash = next((o for o in stack if o.holder != row.holder and _both_held(o, row, now)), None)
        if clash is not None:
            problems.setdefault(row.line, []).append(
                f"value: {row.value} overlaps {clash.value} of another organisation (line {clash.line})"
            )
        else:
            stack.append(row)


def _organisations(holders: set[Holder]) -> dict[Holder, int]:
    """The existing organisation of each holder (the oldest, if a name is repeated), in one query.

    Names carry no index, so the organisations of the categories named are read in one pass,
    three columns each, rather than sought name by name.
    """
    names = {name for name, _category in holders}
    found: dict[Holder, int] = {}
    rows = (
        Organisation.objects.filter(category_id__in={category for _name, category in holders})
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
    inside the row (one range seek per row, a VALUES list of rows at a time), or it starts before
    the row and contains it, at one of the starts of the prefixes that could contain the row (the
    distinct starts of all rows together, sought a VALUES list at a time).
    """
    found: dict[int, str] = {}
    table = connection.ops.quote_name(Registration._meta.db_table)
    inside = (
        f"SELECT c.i, (SELECT r.value FROM {table} r WHERE r.state = %s AND r.family = c.fam "  # noqa: S608
        "AND r.first >= c.lo AND r.first <= c.hi AND r.organisation_id <> c.org "
        "ORDER BY r.first LIMIT 1) FROM c"
    )
    for start in range(0, len(rows), CHUNK):
        params: list = []
        for i, row in enumerate(rows[start : start + CHUNK], start):
            params += [i, row.family, address_key(row.first), address_key(row.last), organisation_of(row)]
        sql = f"WITH c(i, fam, lo, hi, org) AS (VALUES {_values(len(params) // 5, 5)}) {inside}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, ACTIVE])
            found.update((i, value) for i, value in cursor.fetchall() if value is not None)
    # Registrations starting before a row: kept by their start, with the sizes (host bits) seen.
    starting: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    hosts: dict[int, set[int]] = defaultdict(set)
    for family, first, last, organisation_id, value in _active_starting_at(_enclosing_starts(rows)):
        begin, end = int(first, 16), int(last, 16)
        starting[family, begin].append((end, organisation_id, value))
        hosts[family].add((end - begin + 1).bit_length() - 1)
    for i, row in enumerate(rows):
        if i in found:
            continue
        own, organisation = _bits(row.family) - row.prefixlen, organisation_of(row)
        for host in hosts.get(row.family, ()):
            if host <= own:
                continue
            for end, holder, value in starting.get((row.family, row.first >> host << host), ()):
                if end >= row.last and holder != organisation:
                    found[i] = value
                    break
            if i in found:
                break
    return found


def _values(rows: int, width: int) -> str:
    one = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([one] * rows)


def _enclosing_starts(rows: Sequence[Row]) -> list[tuple[int, str]]:
    """(family, key) of the first address of every prefix that could contain one of the rows, each
    once (a start that is a row's own is sought by the range seek too, and harmlessly again here)."""
    keys: list[tuple[int, str]] = []
    for family in (4, 6):
        bits = _bits(family)
        firsts = [(row.first, bits - row.prefixlen) for row in rows if row.family == family]
        starts: set[int] = set()
        for host in range(1, bits + 1):
            starts.update(first >> host << host for first, own in firsts if own < host)
        keys += [(family, address_key(start)) for start in sorted(starts)]
    return keys


def _active_starting_at(keys: list[tuple[int, str]]) -> Iterator[tuple]:
    """(family, first, last, organisation, value) of the active registrations starting at the keys."""
    table = connection.ops.quote_name(Registration._meta.db_table)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        sql = (
            f"WITH a(fam, lo) AS (VALUES {_values(len(chunk), 2)}) "  # noqa: S608
            f"SELECT r.family, r.first, r.last, r.organisation_id, r.value FROM a JOIN {table} r "
            "ON r.state = %s AND r.family = a.fam AND r.first = a.lo"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for key in chunk for value in key] + [ACTIVE])
            yield from cursor.fetchall()


@dataclass
class Imported:
    created: int
    already: int
    refused: list[tuple[int, str]]  # rows found bad at writing time (space taken meanwhile), by line


def import_rows(
    rows: Sequence[Row],
    *,
    organisations: dict[Holder, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> Imported:
    """Write the checked rows in batches; rows seen before are skipped.

    Each batch is one transaction under the approval lock, as an approval is, and its rows are
    checked again there against the registry (overlaps and operators' space): a row whose space
    was registered to another organisation, or left its operator, since the check is refused and
    reported, not written. Batches already written stay written when a later one fails; running
    the import again finishes it.
    """
    if organisations is None:
        organisations = _organisations({row.holder for row in rows})
    with transaction.atomic():
        importer, _ = User.objects.get_or_create(
            username=IMPORTER, defaults={"role": Role.OFFICER, "is_active": False}
        )
    batch = _Batch(importer, dict(organisations))
    for start in range(0, len(rows), batch_size):
        with transaction.atomic():
            serialise("approval")
            batch.write(rows[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, len(rows)), len(rows))
    return Imported(batch.created, batch.already, sorted(batch.refused))


class _Batch:
    """What one import carries from batch to batch: organisations, applications, counts.

    A row written by an earlier batch is recognised as any row imported before is, by the query of
    `_new`: its organisation is known by then.
    """

    def __init__(self, importer: User, organisations: dict[Holder, int]):
        self.importer = importer
        self.organisations = organisations
        self.applications: dict[int, int] = {}  # organisation -> the application this import made for it
        self.created = self.already = 0
        self.refused: list[tuple[int, str]] = []

    def write(self, rows: Sequence[Row]) -> None:
        now = timezone.now()
        rows, repeats = self._new(rows)
        refused: dict[int, str] = {}
        space = _Space()
        for row in rows:
            if space.operator_of(row) != row.operator.pk:
                refused[row.line] = f"value: {row.value} is no longer in {row.operator.code}'s address space"
        active = [row for row in rows if row.valid_until > now and row.line not in refused]
        for i, value in registry_clashes(active, lambda row: self.organisations.get(row.holder, 0)).items():
            refused[active[i].line] = _clash_message(active[i], value)
        # A row repeated in the file shares the fate of its first: refused with it, or already there.
        for row, first in repeats:
            if first.line in refused:
                refused[row.line] = refused[first.line]
            else:
                self.already += 1
        self.refused += refused.items()
        rows = [row for row in rows if row.line not in refused]
        if not rows:
            return
        self._organisations_for(rows)
        self._applications_for(rows, now)
        resources = Resource.objects.bulk_create(
            [
                Resource(
                    application_id=self.applications[self.organisations[row.holder]],
                    kind=f"ipv{row.family}",
                    value=row.value,
                    family=row.family,
                    first=address_key(row.first),
                    last=address_key(row.last),
                    operator=row.operator,
                    subscriber_id=row.subscriber_id,
                    district=row.district,
                    state=Resource.State.CONFIRMED,
                )
                for row in rows
            ]
        )
        registrations = Registration.objects.bulk_create(
            [
                Registration(
                    resource=resource,
                    organisation_id=self.organisations[row.holder],
                    operator=row.operator,
                    kind=resource.kind,
                    value=row.value,
                    family=row.family,
                    first=resource.first,
                    last=resource.last,
                    district=row.district,
                    state=ACTIVE if row.valid_until > now else Registration.State.EXPIRED,
                    valid_from=row.valid_from,
                    valid_until=row.valid_until,
                )
                for row, resource in zip(rows, resources, strict=True)
            ]
        )
        ActivePeriod.objects.bulk_create(
            [
                ActivePeriod(registration=registration, start=row.valid_from, end=row.valid_until)
                for row, registration in zip(rows, registrations, strict=True)
            ]
        )
        record_many(
            {
                "actor": self.importer,
                "action": "registration.import",
                "obj": registration,
                "to_state": registration.state,
                "at": now,
                "data": {"value": row.value, "line": row.line},
            }
            for row, registration in zip(rows, registrations, strict=True)
        )
        self.created += len(rows)

    def _new(self, rows: Sequence[Row]) -> tuple[list[Row], list[tuple[Row, Row]]]:
        """The rows not written before (by an earlier run, or earlier in this one), in one query,
        and the rows that repeat one of them in this batch, each with the row it repeats."""
        known = [row for row in rows if row.holder in self.organisations]
        there = set(
            Registration.objects.filter(
                kind__in=["ipv4", "ipv6"],
                value__in={row.value for row in known},
                organisation_id__in={self.organisations[row.holder] for row in known},
            ).values_list("organisation_id", "value", "valid_from")
        )
        new: list[Row] = []
        firsts: dict[tuple[Holder, str, datetime], Row] = {}
        repeats: list[tuple[Row, Row]] = []
        for row in rows:
            key = (row.holder, row.value, row.valid_from)
            if (self.organisations.get(row.holder), row.value, row.valid_from) in there:
                self.already += 1
            elif key in firsts:
                repeats.append((row, firsts[key]))
            else:
                firsts[key] = row
                new.append(row)
        return new, repeats

    def _organisations_for(self, rows: list[Row]) -> None:
        missing = sorted({row.holder for row in rows} - self.organisations.keys())
        made = Organisation.objects.bulk_create(
            [Organisation(name=name, category_id=category) for name, category in missing]
        )
        self.organisations.update(zip(missing, (o.pk for o in made), strict=True))

    def _applications_for(self, rows: list[Row], now: datetime) -> None:
        first_rows: dict[int, Row] = {}
        for row in rows:
            organisation = self.organisations[row.holder]
            if organisation not in self.applications:
                first_rows.setdefault(organisation, row)
        made = Application.objects.bulk_create(
            [
                Application(
                    organisation_id=organisation,
                    category=row.category,
                    created_by=self.importer,
                    state=Application.State.APPROVED,
                    decided_at=now,
                    decided_by=self.importer,
                    decision_reason="Imported from the register kept before this registry.",
                )
                for organisation, row in first_rows.items()
            ]
        )
        self.applications.update(zip(first_rows, (a.pk for a in made), strict=True))
