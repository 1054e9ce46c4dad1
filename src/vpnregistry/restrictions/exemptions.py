"""Exemption answers: is an address covered by a registration active at a time, and under which events.

`exempt` is true when a registration active at that time covers the address, whether or not an
event is in force; `events` are the published events in force then whose scope takes in the
registration's district. History is exact: registrations keep their active periods (only ever
added, or shortened when a stretch ends), and an event counts only from its publication, so the
answer for a past time is the same on any later day.

Bulk answers use one netblocks longest-match index per stretch of time in which nothing changed,
built once and cached; single answers are index seeks in the database. Both give the same answer.
"""

from __future__ import annotations

import functools
import ipaddress
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import District
from vpnregistry.csvcells import cell
from vpnregistry.db import ancestor_firsts, fetch_prepared, network_keys
from vpnregistry.errors import TooLarge
from vpnregistry.messages import address_error
from vpnregistry.netblocks import LookupIndex, ParseError, _u128, parse_address
from vpnregistry.netblocks.textio import scan_ipv4
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.restrictions.models import RestrictionEvent
from vpnregistry.restrictions.selectors import (
    events_in_force,
    latest_publication,
    latest_publication_from,
    published_events,
)

READ_SIZE = 1 << 22  # bytes of the request read at a time
HEADER = b"address,exempt,registration,events\n"
MISS = b",false,,\n"


@dataclass(frozen=True)
class Found:
    """The registration an address falls in, as an answer may tell of it: its reference and location,
    never its organisation."""

    reference: str
    district_id: int | None
    province_id: int | None


@dataclass(frozen=True)
class Answer:
    address: str
    exempt: bool
    registration: str | None
    events: list[RestrictionEvent]


def _events_for(found: Found, events: list[RestrictionEvent], scopes: dict) -> list[RestrictionEvent]:
    return [
        e
        for e in events
        if e.covers(
            district_id=found.district_id,
            province_id=found.province_id,
            districts=scopes[e.pk][0],
            provinces=scopes[e.pk][1],
        )
    ]


def _scopes(events: list[RestrictionEvent]) -> dict[int, tuple[set[int], set[int]]]:
    return {e.pk: ({d.pk for d in e.districts.all()}, {p.pk for p in e.provinces.all()}) for e in events}


@functools.cache
def _registration_sql(firsts: int) -> str:
    """The longest registration covering an address and active at a time, with its location.

    The same query as `Registration.objects.filter(covering_q(net), periods__start__lte=at,
    periods__end__gt=at).order_by("-first", "last", "id")`, as plain SQL: the operators' single checks
    come tens a second, and compiling the queryset cost more than running it.
    """
    q = connection.ops.quote_name
    reg, period, district = (q(m._meta.db_table) for m in (Registration, ActivePeriod, District))
    # The latest publication of an event (`latest_publication`) comes in the same round trip: an
    # exempt answer names the events in force, and this process's copy of them is current while
    # that is unchanged.
    latest = latest_publication_from()
    # Quoted names from the models; every value a parameter.
    return (
        f"SELECT r.{q('reference')}, r.{q('district_id')}, d.{q('province_id')}, "  # noqa: S608
        f"(SELECT {q('published_at')} {latest}), (SELECT {q('id')} {latest}) FROM {reg} r "
        f"JOIN {period} p ON p.{q('registration_id')} = r.{q('id')} "
        f"LEFT JOIN {district} d ON d.{q('id')} = r.{q('district_id')} "
        f"WHERE r.{q('family')} = %s AND r.{q('first')} IN ({', '.join(['%s'] * firsts)}) "
        f"AND r.{q('last')} >= %s AND p.{q('start')} <= %s AND p.{q('end')} > %s "
        f"ORDER BY r.{q('first')} DESC, r.{q('last')}, r.{q('id')} LIMIT 1"
    )


@dataclass(frozen=True)
class SingleCheck:
    """One address at one time, split in two: the read to make (`sql`, `params`), then the answer
    from its row. The fast path sends the read in one round trip with its caller's token."""

    address: str  # as parsed
    at: datetime
    sql: str
    params: list

    def run(self) -> Answer:
        return self.answer(fetch_prepared(self.sql, self.params))

    def answer(self, row: tuple | None) -> Answer:
        if row is None:
            return Answer(address=self.address, exempt=False, registration=None, events=[])
        found = Found(*row[:3])
        events, scopes = published_in_force(self.at, latest=tuple(row[3:]) if row[4] is not None else None)
        return Answer(
            address=self.address,
            exempt=True,
            registration=found.reference,
            events=_events_for(found, events, scopes),
        )


def single_check(address: str, at: datetime) -> SingleCheck:
    """The read that answers for one address at one time (ParseError for a bad address)."""
    parsed = parse_address(address)
    net = ipaddress.ip_network(parsed)
    family, _first, last = network_keys(net)
    firsts = ancestor_firsts(net)
    when = connection.ops.adapt_datetimefield_value(at)
    return SingleCheck(str(parsed), at, _registration_sql(len(firsts)), [family, *firsts, last, when, when])


def check_one(address: str, at: datetime) -> Answer:
    """One address at one time, by index seeks (the longest covering prefix wins)."""
    return single_check(address, at).run()


# Published events never change (a correction is a new event), so each process keeps those not yet
# over, with their scopes, and asks the database only which was published last.
_published: dict = {}
_published_lock = threading.Lock()


def published_in_force(at: datetime, *, latest: tuple | None = ...) -> tuple[list[RestrictionEvent], dict]:
    """`events_in_force(at)` and their scopes; for a time from now on, from this process's copy.

    `latest` is `latest_publication()` when the caller has read it already (None: no event has
    been published)."""
    key = latest_publication() if latest is ... else latest
    with _published_lock:
        held = dict(_published) if _published and _published["key"] == key else None
    if held is None:
        since = timezone.now()
        events = list(published_events().filter(ends_at__gt=since))
        held = {"key": key, "since": since, "events": events, "scopes": _scopes(events)}
        with _published_lock:
            _published.clear()
            _published.update(held)
    if at < held["since"]:  # the past: ask the database, which holds every event
        events = events_in_force(at)
        return events, _scopes(events)
    events = [e for e in held["events"] if e.starts_at <= at < e.ends_at and e.published_at <= at]
    return events, held["scopes"]


def _stretch(at: datetime) -> tuple:
    """The nearest changes around `at`: within them every address gets the same answer."""
    periods = ActivePeriod.objects
    published = RestrictionEvent.objects.filter(published_at__isnull=False)
    before = [
        periods.filter(start__lte=at).aggregate(v=Max("start"))["v"],
        periods.filter(end__lte=at).aggregate(v=Max("end"))["v"],
        published.filter(starts_at__lte=at).aggregate(v=Max("starts_at"))["v"],
        published.filter(ends_at__lte=at).aggregate(v=Max("ends_at"))["v"],
        published.filter(published_at__lte=at).aggregate(v=Max("published_at"))["v"],
    ]
    after = [
        periods.filter(start__gt=at).aggregate(v=Min("start"))["v"],
        periods.filter(end__gt=at).aggregate(v=Min("end"))["v"],
        published.filter(starts_at__gt=at).aggregate(v=Min("starts_at"))["v"],
        published.filter(ends_at__gt=at).aggregate(v=Min("ends_at"))["v"],
        published.filter(published_at__gt=at).aggregate(v=Min("published_at"))["v"],
    ]
    known_before = [v for v in before if v is not None]
    known_after = [v for v in after if v is not None]
    # The newest ids catch rows added exactly at a boundary already seen (two approvals in one instant).
    newest = (periods.aggregate(v=Max("id"))["v"], published.aggregate(v=Max("id"))["v"])
    return (max(known_before) if known_before else None, min(known_after) if known_after else None, *newest)


class TimeIndex:
    """Everything needed to answer for any address at one stretch of time."""

    def __init__(self, at: datetime):
        # No join beyond the registration: districts map to provinces through a small table.
        province_of = dict(District.objects.values_list("id", "province_id"))
        rows = list(
            ActivePeriod.objects.filter(start__lte=at, end__gt=at, registration__family__isnull=False)
            .order_by("registration_id")
            .values_list("registration__value", "registration__reference", "registration__district_id")
        )
        self.matches = [Found(ref, district, province_of.get(district)) for _, ref, district in rows]
        self.index = LookupIndex([value for value, *_ in rows])
        self.events = events_in_force(at)
        self._scopes = _scopes(self.events)
        self._suffix: dict[int, bytes] = {}

    def suffix(self, i: int) -> bytes:
        """The CSV columns after the address for registration number `i` (or a miss)."""
        if i < 0:
            return MISS
        cached = self._suffix.get(i)
        if cached is None:
            found = self.matches[i]
            events = ";".join(str(e.pk) for e in _events_for(found, self.events, self._scopes))
            cached = self._suffix[i] = f",true,{found.reference},{events}\n".encode()
        return cached

    def lookup(self, v4: np.ndarray, v6_hi: np.ndarray | None = None, v6_lo: np.ndarray | None = None):
        ids4 = self.index.lookup_v4(v4)
        ids6 = (
            self.index.lookup_v6(v6_hi, v6_lo) if v6_hi is not None and len(v6_hi) else np.zeros(0, np.int64)
        )
        return ids4, ids6


_CACHE: OrderedDict[tuple, TimeIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 3


def index_for(at: datetime) -> TimeIndex:
    key = _stretch(at)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    built = TimeIndex(at)
    with _CACHE_LOCK:
        _CACHE[key] = built
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built


def _whole_lines(stream: Iterable[bytes]) -> Iterator[bytes]:
    rest = b""
    for block in stream:
        block = rest + block
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut]
    if rest:
        yield rest + b"\n"


def read_stream(source, size: int = READ_SIZE) -> Iterator[bytes]:
    while block := source.read(size):
        yield block


def spool(source, *, memory: int = 8 << 20, size: int = READ_SIZE, limit: int | None = None):
    """The whole request body in a temporary file (in memory up to `memory` bytes, then on disk).

    Answers are written only once the body has been read: many HTTP clients send the whole body
    before they read any of the response, and a server that answered while still reading would
    fill its send buffer and wait for them forever. Memory stays bounded either way, and so does
    the disk: past `limit` bytes (EXEMPTIONS_MAX_BODY_BYTES) the body is refused with TooLarge.
    """
    if limit is None:
        limit = settings.EXEMPTIONS_MAX_BODY_BYTES
    spooled = tempfile.SpooledTemporaryFile(max_size=memory)  # noqa: SIM115 (the caller closes it)
    total = 0
    for block in read_stream(source, size):
        total += len(block)
        if total > limit:
            spooled.close()
            raise TooLarge(
                _("The list of addresses is larger than the %(limit)d bytes allowed.") % {"limit": limit}
            )
        spooled.write(block)
    spooled.seek(0)
    return spooled


def _answer_general(lines: list[bytes], values: list[str], index: TimeIndex) -> bytes:
    """Line by line through the strict parser: any mix of IPv4, IPv6, blanks, comments and errors."""
    out: list[bytes | None] = [None] * len(values)
    v4_pos, v4_val, v6_pos, v6_val = [], [], [], []
    for i, raw in enumerate(values):
        text = raw.strip()
        if not text or text.startswith("#"):
            out[i] = b""
            continue
        try:
            addr = parse_address(text)
        except ParseError as exc:
            reason = cell(address_error(exc)).replace('"', "'")
            out[i] = _csv_field(cell(text)) + f',error,,"{reason}"\n'.encode()
            continue
        (v4_pos if addr.version == 4 else v6_pos).append(i)
        (v4_val if addr.version == 4 else v6_val).append(int(addr))
    hi, lo = _u128.from_ints(v6_val) if v6_val else (None, None)
    ids4, ids6 = index.lookup(np.array(v4_val, np.uint32), hi, lo)
    for pos, i in zip(v4_pos + v6_pos, ids4.tolist() + ids6.tolist(), strict=True):
        out[pos] = _csv_field(values[pos].strip()) + index.suffix(i)
    return b"".join(o for o in out if o)


def _csv_field(text: str) -> bytes:
    if any(c in text for c in ',"\n'):
        return ('"' + text.replace('"', '""') + '"').encode()
    return text.encode()


def holds_no_address(body, *, column: int | None = None) -> bool:
    """Whether a spooled body has lines to check and none of them an address (in `column`).

    Such a body (`true`, a file of something else, the wrong column) is refused whole rather than
    answered line by line with errors. The scan stops at the first address, so a real list costs a
    line or two; the body is rewound for the answers.
    """
    content = False
    try:
        for raw in body:
            line = raw.decode("utf-8", "replace").strip()
            if not line or line.startswith("#"):
                continue
            content = True
            if column is not None:
                fields = line.split(",")
                line = fields[column - 1].strip().strip('"') if len(fields) >= column else ""
            try:
                parse_address(line)
            except ParseError:
                continue
            return False
        return content
    finally:
        body.seek(0)


def answer_stream(stream: Iterable[bytes], at: datetime, *, column: int | None = None) -> Iterator[bytes]:
    """CSV answers (address,exempt,registration,events) for a stream of addresses, one a line or in
    CSV column `column`; memory stays bounded however long the stream."""
    index = index_for(at)
    yield HEADER
    for chunk in _whole_lines(stream):
        if column is None:
            scan = scan_ipv4(chunk)
            blank = int((scan.line_end == scan.line_start).sum())
            if not len(scan.other_line) and not scan.slash.any() and not blank:
                # The common case: every line a canonical IPv4 address.
                ids, _ = index.lookup(scan.addr)
                lines = chunk.split(b"\n")
                suffix = index.suffix
                yield b"".join([line + suffix(i) for line, i in zip(lines, ids.tolist(), strict=False)])
                continue
            values = chunk.decode("utf-8", "replace").split("\n")[:-1]
        else:
            values = []
            for line in chunk.decode("utf-8", "replace").split("\n")[:-1]:
                fields = line.split(",")
                values.append(fields[column - 1].strip().strip('"') if len(fields) >= column else "")
        yield _answer_general(chunk.split(b"\n")[:-1], values, index)
