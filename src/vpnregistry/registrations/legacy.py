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

import bisect
import csv
import io
import ipaddress
import json
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from vpnregistry.accounts.models import AddressSpace, Category, District, Operator, Organisation, Role, User
from vpnregistry.accounts.names import BIDI_CONTROLS, bidi_controls, name_skeleton, normalise_name
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.services import record_many
from vpnregistry.csvcells import formula_reason
from vpnregistry.db import Network, address_key, hold_lock, insert_rows
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.registrations.models import REFERENCE_ALPHABET, ActivePeriod, PublicationDue, Registration
from vpnregistry.timeutil import parse_time

COLUMNS = ["organisation", "category", "value", "operator", "subscriber_id", "valid_from", "valid_until"]
OPTIONAL = ["district"]
IMPORTER = "legacy-import"
BATCH = 2000  # rows written per transaction: the approval lock is held about a third of a second
CHUNK = 5000  # rows (or keys) a check query asks about, in one JSON parameter
SLICE = 50_000  # rows checked against the registry together
ACTIVE = Registration.State.ACTIVE.value
EXPIRED = Registration.State.EXPIRED.value
CONFIRMED = Resource.State.CONFIRMED.value
APPROVED = Application.State.APPROVED.value
RESOURCE_FIELDS = [
    "application_id", "kind", "value", "family", "first", "last", "operator_id", "subscriber_id",
    "district_id", "state",
]  # fmt: skip
REGISTRATION_FIELDS = [
    "reference", "resource_id", "organisation_id", "operator_id", "kind", "value", "family", "first",
    "last", "district_id", "state", "valid_from", "valid_until", "created_at",
]  # fmt: skip
PUBLICATION_REASON = "import of the register kept before this registry"


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
    mark: int = 0  # the last active period when the registry was read (see _activity_mark)


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
        mark,
    )


def _clash_message(row: Row, value: str) -> str:
    return f"value: {row.value} overlaps {value}, registered to another organisation"


def _parse(reader: csv.DictReader, problems: dict[int, list[str]]) -> list[Row]:
    """The rows whose every field is good; the others' reasons go into `problems`."""
    categories = {c.code: c for c in Category.objects.all()}
    operators = {o.code: o for o in Operator.objects.all()}
    districts = {d.code: d for d in District.objects.all()}
    times: dict[str, datetime | str] = {}  # each distinct text parsed once: a register repeats its dates
    names: dict[str, tuple[str, str]] = {}  # each organisation's name checked once, and held once
    rows: list[Row] = []
    for raw in reader:
        line = reader.line_num
        reasons: list[str] = []
        get = {k: (raw.get(k) or "").strip() for k in COLUMNS + OPTIONAL}
        category = categories.get(get["category"])
        operator = operators.get(get["operator"])
        district = districts.get(get["district"]) if get["district"] else None
        if get["organisation"] not in names:
            names[get["organisation"]] = _organisation_name(get["organisation"])
        holder, why = names[get["organisation"]]
        if why:
            reasons.append(f"organisation: {why}")
        if category is None:
            reasons.append(f"category: {get['category']!r} is not a category code")
        if operator is None:
            reasons.append(f"operator: {get['operator']!r} is not an operator code")
        if get["district"] and district is None:
            reasons.append(f"district: {get['district']!r} is not a district code")
        if not get["subscriber_id"]:
            reasons.append("subscriber_id: empty")
        elif why := formula_reason(get["subscriber_id"]):
            reasons.append(f"subscriber_id: {why}, which a spreadsheet runs as a formula")
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
                organisation=holder,
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


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # Unicode's Cc and Cs


def _organisation_name(text: str) -> tuple[str, str]:
    """The name as `Organisation.save` stores it, and why it is refused ("" when it is not), as
    sign-up refuses it."""
    name = normalise_name(text)
    if not name:
        return name, "empty"
    if len(name) > 200:
        return name, "longer than 200 characters"
    if not BIDI_CONTROLS.isdisjoint(name):
        return name, f"holds text-direction control characters ({', '.join(bidi_controls(name))})"
    if _CONTROLS.search(name):
        return name, "holds control characters"
    return name, ""


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


# A random byte's low five bits pick one of the alphabet's 32 symbols: 256 is a multiple of 32, so
# every symbol is equally likely, as with secrets.choice.
_SYMBOLS = bytes.maketrans(
    bytes(range(256)), "".join(REFERENCE_ALPHABET[b % 32] for b in range(256)).encode()
)


def _references(count: int) -> list[str]:
    """`count` registration references as `new_reference` makes them ("R-" and ten symbols, each
    uniformly random), from one read of the system's randomness instead of ten a reference."""
    text = secrets.token_bytes(10 * count).translate(_SYMBOLS).decode()
    return ["R-" + text[i : i + 10] for i in range(0, 10 * count, 10)]


@dataclass
class Imported:
    created: int
    already: int
    refused: list[tuple[int, str]]  # rows found bad at writing time (space taken meanwhile), by line


def import_rows(
    checked: Checked,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> Imported:
    """Write the checked rows in batches; rows seen before are skipped.

    Each batch is one transaction under the approval lock, as an approval is, and its rows are
    checked again there against what changed in the registry since it was read: the registrations
    that became active since (by the active periods opened after the check's mark), and the
    operators' space as it is now. A row whose space was registered to another organisation, or
    left its operator, meanwhile is refused and reported, not written. Batches already written stay
    written when a later one fails; running the import again finishes it.
    """
    with transaction.atomic():
        importer, _ = User.objects.get_or_create(
            username=IMPORTER, defaults={"role": Role.OFFICER, "is_active": False}
        )
    batch = _Batch(importer, dict(checked.organisations), checked.mark)
    rows = checked.rows
    for start in range(0, len(rows), batch_size):
        with transaction.atomic():
            hold_lock("approval")
            batch.write(rows[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, len(rows)), len(rows))
    return Imported(batch.created, batch.already, sorted(batch.refused))


class _Batch:
    """What one import carries from batch to batch: organisations, applications, the activity mark,
    counts.

    A row written by an earlier batch is recognised as any row imported before is, by the query of
    `_new`: its organisation is known by then.
    """

    def __init__(self, importer: User, organisations: dict[Holder, int], mark: int):
        self.importer = importer
        self.organisations = organisations
        self.mark = mark
        self.applications: dict[int, int] = {}  # organisation -> the application this import made for it
        self.created = self.already = 0
        self.refused: list[tuple[int, str]] = []

    def write(self, rows: Sequence[Row]) -> None:
        """Write one batch; the caller holds the approval lock in the batch's transaction."""
        now = timezone.now()
        rows, repeats = self._new(rows)
        refused = self._recheck(rows, now)
        # A row repeated in the file shares the fate of its first: refused with it, or already there.
        for row, first in repeats:
            if first.line in refused:
                refused[row.line] = refused[first.line]
            else:
                self.already += 1
        self.refused += refused.items()
        rows = [row for row in rows if row.line not in refused]
        if rows:
            self._write(rows, now)
        # Every period up to here is either this import's or was read above: the next batch
        # re-checks against those opened after it.
        self.mark = ActivePeriod.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def _recheck(self, rows: list[Row], now: datetime) -> dict[int, str]:
        """The rows the registry refuses now, by line, with why."""
        refused: dict[int, str] = {}
        space = _Space()
        for row in rows:
            if space.operator_of(row) != row.operator.pk:
                refused[row.line] = f"value: {row.value} is no longer in {row.operator.code}'s address space"
        fresh = _Held(
            Registration.objects.filter(periods__id__gt=self.mark, state=ACTIVE, family__isnull=False)
            .values_list("family", "first", "last", "organisation_id", "value")
            .distinct()
        )
        for row in rows:
            if row.line not in refused and row.valid_until > now:
                value = fresh.clash(row, self.organisations.get(row.holder, 0))
                if value is not None:
                    refused[row.line] = _clash_message(row, value)
        return refused

    def _write(self, rows: list[Row], now: datetime) -> None:
        """Write the batch's rows: their resources, registrations, active periods and audit records,
        each table in one bulk write (COPY on PostgreSQL: see `insert_rows`)."""
        self._organisations_for(rows)
        made = self._applications_for(rows, now)
        # The durable wish to publish, in the batch's transaction (as request_publication writes it,
        # one per approved application): a run cut short is published by whatever publishes next.
        insert_rows(
            PublicationDue,
            ["at", "reason", "application_id"],
            [(now, PUBLICATION_REASON, pk) for pk in made] or [(now, PUBLICATION_REASON, None)],
        )
        keys = [(address_key(row.first), address_key(row.last)) for row in rows]
        kinds = {4: Resource.Kind.IPV4.value, 6: Resource.Kind.IPV6.value}
        resources = insert_rows(
            Resource,
            RESOURCE_FIELDS,
            [
                (
                    self.applications[self.organisations[row.holder]],
                    kinds[row.family],
                    row.value,
                    row.family,
                    first,
                    last,
                    row.operator.pk,
                    row.subscriber_id,
                    row.district.pk if row.district else None,
                    CONFIRMED,
                )
                for row, (first, last) in zip(rows, keys, strict=True)
            ],
        )
        states = [ACTIVE if row.valid_until > now else EXPIRED for row in rows]
        registrations = insert_rows(
            Registration,
            REGISTRATION_FIELDS,
            [
                (
                    reference,
                    resource,
                    self.organisations[row.holder],
                    row.operator.pk,
                    kinds[row.family],
                    row.value,
                    row.family,
                    first,
                    last,
                    row.district.pk if row.district else None,
                    state,
                    row.valid_from,
                    row.valid_until,
                    now,
                )
                for row, (first, last), resource, reference, state in zip(
                    rows, keys, resources, _references(len(rows)), states, strict=True
                )
            ],
        )
        insert_rows(
            ActivePeriod,
            ["registration_id", "start", "end"],
            [(pk, row.valid_from, row.valid_until) for row, pk in zip(rows, registrations, strict=True)],
        )
        record_many(
            {
                "actor": self.importer,
                "action": "registration.import",
                "object_type": "registration",
                "object_id": str(pk),
                "to_state": state,
                "at": now,
                "data": {"value": row.value, "line": row.line},
            }
            for row, pk, state in zip(rows, registrations, states, strict=True)
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
        """Make the organisations the rows name that do not exist yet, as `Organisation.save` would
        (the name was normalised when it was read; its skeleton finds look-alikes of it). A register
        carries no identifiers, so they stay blank and their blind indexes empty, as save leaves them."""
        missing = sorted({row.holder for row in rows} - self.organisations.keys())
        made = insert_rows(
            Organisation,
            ["name", "category_id", "name_skeleton"],
            [(name, category, name_skeleton(name)[:200]) for name, category in missing],
        )
        self.organisations.update(zip(missing, made, strict=True))

    def _applications_for(self, rows: list[Row], now: datetime) -> list[int]:
        """Make the applications this import has not made yet for the rows' organisations; their ids."""
        first_rows: dict[int, Row] = {}
        for row in rows:
            organisation = self.organisations[row.holder]
            if organisation not in self.applications:
                first_rows.setdefault(organisation, row)
        made = insert_rows(
            Application,
            ["organisation_id", "category_id", "created_by_id", "state", "decided_at", "decided_by_id",
             "decision_reason", "state_changed_at"],
            [
                (organisation, row.category.pk, self.importer.pk, APPROVED, now, self.importer.pk,
                 "Imported from the register kept before this registry.", now)
                for organisation, row in first_rows.items()
            ],
        )  # fmt: skip
        self.applications.update(zip(first_rows, made, strict=True))
        return made
