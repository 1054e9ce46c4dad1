"""Publishing the allowlist: snapshots, deltas, every format, signatures and the signed index.

A snapshot is built from the registrations active at its own time. Its files are written into the
allowlist storage (each whole or not at all, each with a minisign signature whose trusted comment
names the serial and SHA-256) before its row is committed, so a snapshot is never visible
half-written: every route to a file goes through its serial's row. The signed index is a row of
its own, rewritten after the commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from operator import itemgetter
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connections, transaction
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import Cast, Concat, Substr
from django.utils import timezone

from vpnregistry import storage
from vpnregistry.accounts.models import Operator
from vpnregistry.allowlist.deltas import make_delta
from vpnregistry.allowlist.formats import FORMATS, Allowlist, CidrList, from_stored, render
from vpnregistry.allowlist.models import SignedIndex, Snapshot
from vpnregistry.audit.services import record
from vpnregistry.canonical import canonical
from vpnregistry.db import KEY_WIDTH, hold_lock
from vpnregistry.netblocks import IntervalSet
from vpnregistry.netblocks.textio import format_v4_cidrs, format_v6_cidrs, parse_hex128
from vpnregistry.registrations.models import Registration
from vpnregistry.registrations.selectors import active_at_q
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import prehash
from vpnregistry.timeutil import utc_iso

logger = logging.getLogger(__name__)

# The formats every operator may fetch; the mobile numbers go to each mobile operator separately.
IP_FORMATS = [name for name in FORMATS if name != "msisdn.csv"]
DELTA_NAME = "delta.json"
INDEX_NAME = "index.json"


def file_name(snapshot: Snapshot, name: str) -> str:
    """The file's name in the allowlist storage: `{session}/{serial}.{name}`."""
    return f"{snapshot.session}/{snapshot.serial}.{name}"


def file_path(snapshot: Snapshot, name: str) -> Path:
    """Where the file is on disk with the default folder storage (tests and tools read it there)."""
    return Path(storage.get(storage.ALLOWLIST).path(file_name(snapshot, name)))


def msisdn_name(operator_code: str) -> str:
    return f"msisdn.{operator_code}.csv"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        # A failed write (disk full, a signal) leaves no temporary file behind.
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def trusted_comment(*, session: str, serial: int, name: str, sha256: str) -> str:
    return f"vpnregistry session={session} serial={serial} file={name} sha256={sha256}"


def _publish_file(files, data: bytes, *, key, session: str, serial: int, name: str, hashing) -> dict:
    """Store one file of a serial and its signature by `key` in the allowlist storage `files`.

    Its two digests (SHA-256 for the index, BLAKE2b for the signature) are taken by the two threads
    of `hashing` while this one writes the file: all three let go of the GIL, so on two cores they
    overlap (at a million registrations, 270 MB of files a serial: 0.9 s of hashing became 0.6 s).
    The storage is used from this thread only, as an object store's client expects.
    """
    sha = hashing.submit(lambda: hashlib.sha256(data).hexdigest())
    digest = hashing.submit(prehash, data)
    stored = f"{session}/{serial}.{name}"
    files.save(stored, ContentFile(data))  # wraps the bytes without copying them
    comment = trusted_comment(session=session, serial=serial, name=name, sha256=sha.result())
    signature = key.sign_prehashed(digest.result(), trusted_comment=comment)
    files.save(f"{stored}.minisig", ContentFile(signature.encode()))
    return {"sha256": sha.result(), "size": len(data)}


def build_allowlist(*, session: str, serial: int, at: datetime) -> Allowlist:
    """The allowlist as the registrations active at `at` make it: aggregated CIDRs and numbers.

    Built from the stored keys, not the values: the (family, first, last) keys of the active IP
    registrations are read in chunks straight into arrays, merged and cut into CIDRs by `netblocks`,
    and printed from the integers, so that no object is made per registration or prefix.
    """
    # Imported here: registrations import applications, which import this module.
    active = Registration.objects.filter(active_at_q(at)).order_by()
    v4, v6, numbers = _read_active(active)
    cidrs = IntervalSet.from_ranges(v4[0], v4[1], v6[:2], v6[2:]).cidr_arrays()
    del v4, v6
    return Allowlist(
        session=session,
        serial=serial,
        generated_at=utc_iso(at, timespec="seconds"),
        ipv4=CidrList.from_text(format_v4_cidrs(cidrs.v4_start, cidrs.v4_len)),
        ipv6=CidrList.from_text(format_v6_cidrs(cidrs.v6_hi, cidrs.v6_lo, cidrs.v6_len)),
        msisdn={op: tuple(sorted(set(v))) for op, v in sorted(numbers.items())},
    )


ROWS_A_FETCH = 20000  # a server-side cursor on PostgreSQL holds this many rows at a time
_WIDTH = 1 + 2 * KEY_WIDTH  # a row as read: a mark, then the first and last keys (or a number)


def _read_active(active) -> tuple[tuple, tuple, dict[str, list[str]]]:
    """One scan of the registrations in `active`: IPv4 ranges as (first, last) int64 arrays, IPv6
    ranges as (first hi, first lo, last hi, last lo) uint64 arrays, and the mobile numbers of
    each mobile operator.

    Each row comes as one string of fixed width, so that a chunk of rows is one array of bytes: an
    IP registration as its family's digit and its two keys, a mobile number as "m", its operator's
    id and the number, padded. On PostgreSQL the rows come by `COPY ... TO STDOUT`, as blocks of
    bytes that NumPy reads in place (a cursor would make a Python tuple and string of each of a
    million rows); elsewhere through a chunked cursor. A key that is not 32 hex digits, or an IPv4
    key beyond the IPv4 space, is an error. (A number and its operator's id fit the width: `value`
    holds at most 43 characters.)
    """
    import numpy as np

    # Padded with spaces by cutting a longer string (SQLite's RPAD is a Python function Django adds).
    number = Concat(
        Value("m"),
        Cast("operator_id", CharField()),
        Value(" "),
        "value",
        Value(" " * _WIDTH),
        output_field=CharField(),
    )
    row = Case(
        When(kind="msisdn", then=Substr(number, 1, _WIDTH)),
        default=Concat(Cast("family", CharField()), "first", "last", output_field=CharField()),
    )
    rows = active.filter(Q(family__isnull=False) | Q(kind="msisdn")).annotate(row=row).values_list("row")
    sql, params = rows.query.sql_with_params()
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    by_operator: dict[int, list[str]] = {}
    connection = connections[rows.db]
    try:
        for raw in _row_blocks(connection, sql, params):
            parts.append(_parse_rows(raw, by_operator))
    except (ValueError, UnicodeError) as exc:
        raise ValueError(f"a registration's stored keys (or number) cannot be read: {exc}") from None
    family = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.uint8)
    hi = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.uint64)
    lo = np.concatenate([p[2] for p in parts]) if parts else np.empty(0, np.uint64)
    del parts
    four, six = family == ord("4"), family == ord("6")
    if not (four | six).all():
        raise ValueError("a registration's stored family is neither 4 nor 6")
    # Row i's first key is at 2i, its last at 2i + 1.
    v4_first, v4_last = lo[0::2][four].astype(np.int64), lo[1::2][four].astype(np.int64)
    if hi[0::2][four].any() or hi[1::2][four].any() or (v4_last > 0xFFFFFFFF).any():
        raise ValueError("an IPv4 registration's stored keys hold an address beyond the IPv4 space")
    v6 = (hi[0::2][six], lo[0::2][six], hi[1::2][six], lo[1::2][six])
    codes = dict(Operator.objects.filter(pk__in=by_operator).values_list("pk", "code"))
    return (v4_first, v4_last), v6, {codes[pk]: values for pk, values in by_operator.items()}


COPY_BLOCK = 4 << 20  # bytes of COPY output parsed at a time (about 60,000 rows)


def _row_blocks(connection, sql: str, params):
    """The rows of `sql`, each `_WIDTH` bytes, as uint8 arrays of shape (rows, _WIDTH)."""
    import numpy as np

    if connection.vendor == "postgresql":
        # COPY's text form ends each row with a newline and escapes nothing in these rows (digits,
        # hex, "m", "+" and spaces), so a row is its `_WIDTH` bytes and a newline.
        line = _WIDTH + 1
        pending = bytearray()
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
            for block in copy:
                pending += block
                if len(pending) >= COPY_BLOCK:
                    whole = len(pending) - len(pending) % line
                    yield _rows_of(np.frombuffer(pending, np.uint8, count=whole).copy(), line)
                    del pending[:whole]
        if pending:
            yield _rows_of(np.frombuffer(pending, np.uint8).copy(), line)
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(ROWS_A_FETCH):
            texts = list(map(itemgetter(0), chunk))
            if set(map(len, texts)) != {_WIDTH}:
                raise ValueError("a row is not a family's digit and two keys")
            yield np.frombuffer("".join(texts).encode("ascii"), np.uint8).reshape(-1, _WIDTH)


def _rows_of(data, line: int):
    """COPY's bytes as rows of `_WIDTH` bytes, each checked to end in its newline."""
    if len(data) % line:
        raise ValueError("a row is not a family's digit and two keys")
    rows = data.reshape(-1, line)
    if not (rows[:, -1] == ord("\n")).all():
        raise ValueError("a row is not a family's digit and two keys")
    return rows[:, :-1]


def _parse_rows(raw, by_operator: dict[int, list[str]]):
    """One block of rows: the mobile numbers put by operator, the IP rows parsed into their family
    digit and their keys' high and low halves."""
    import numpy as np

    mobile = raw[:, 0] == ord("m")
    if mobile.any():
        numbers = raw[mobile, 1:].tobytes().decode("ascii")
        for offset in range(0, len(numbers), _WIDTH - 1):
            operator, value = numbers[offset : offset + _WIDTH - 1].split()
            by_operator.setdefault(int(operator), []).append(value)
        raw = raw[~mobile]
    hi, lo = parse_hex128(np.ascontiguousarray(raw[:, 1:]))
    return raw[:, 0].copy(), hi, lo


def latest_snapshot() -> Snapshot | None:
    return Snapshot.objects.order_by("-serial").first()


def publish_snapshot(
    *, at: datetime | None = None, actor=None, force: bool = False, reset_session: bool = False
) -> Snapshot | None:
    """Write the next snapshot when the allowlist has changed since the latest one (or when forced)."""
    at = at or timezone.now()
    with transaction.atomic():
        hold_lock("publication")
        # The latest snapshot's document (tens of MB at a million registrations) is read only to be
        # parsed, and the previous list is held only until the delta against it is made: neither
        # is in memory while the formats are written.
        latest = Snapshot.objects.defer("content").order_by("-serial").first()
        session = str(uuid.uuid4()) if reset_session or latest is None else latest.session
        serial = latest.serial + 1 if latest else 1
        allowlist = build_allowlist(session=session, serial=serial, at=at)
        unchanged, delta = _against_latest(latest, allowlist, force=force or reset_session)
        if unchanged:
            snapshot = None
        else:
            snapshot = _write_snapshot(
                allowlist,
                delta,
                at=at,
                mobile=list(Operator.objects.filter(kind="mobile").values_list("code", flat=True)),
            )
            _record_publication(snapshot, actor=actor, at=at)
        if (
            snapshot is not None
            or not SignedIndex.objects.filter(serial=latest.serial if latest else 0).exists()
        ):
            write_index(at=at)
    return snapshot


def _against_latest(
    latest: Snapshot | None, allowlist: Allowlist, *, force: bool
) -> tuple[bool, bytes | None]:
    """Whether `allowlist` holds what the latest snapshot holds (never when `force`), and else the
    delta from that snapshot, when both are of one session."""
    # The previous document is this registry's own, known by its digest: read without the
    # checks a document from elsewhere gets (`from_stored`).
    previous = (
        from_stored(*Snapshot.objects.values_list("content", "sha256").get(pk=latest.pk)) if latest else None
    )
    unchanged = (
        previous is not None
        and not force
        and (previous.ipv4, previous.ipv6, previous.msisdn)
        == (allowlist.ipv4, allowlist.ipv6, allowlist.msisdn)
    )
    delta = (
        canonical(make_delta(previous, allowlist), ensure_ascii=True, newline=True)
        if previous is not None and previous.session == allowlist.session and not unchanged
        else None
    )
    return unchanged, delta


def _record_publication(snapshot: Snapshot, *, actor, at: datetime) -> None:
    record(
        actor=actor,
        action="snapshot.publish",
        obj=snapshot,
        at=at,
        data={
            "session": snapshot.session,
            "serial": snapshot.serial,
            "sha256": snapshot.sha256,
            "ipv4": snapshot.ipv4_count,
            "ipv6": snapshot.ipv6_count,
            "msisdn": snapshot.msisdn_count,
            "files": {k: v["sha256"] for k, v in snapshot.files.items()},
        },
    )


def _rendered(allowlist: Allowlist, delta: bytes | None, mobile: list[str]) -> Iterator[tuple[str, bytes]]:
    """Every file of a serial, by name, each rendered when asked for: the IP formats, each mobile
    operator's numbers, and the delta from the previous serial if there is one."""
    for name in IP_FORMATS:
        yield name, render(name, allowlist).encode()
    for code in sorted(set(mobile) | set(allowlist.msisdn)):
        yield msisdn_name(code), render("msisdn.csv", allowlist, operator=code).encode()
    if delta is not None:
        yield DELTA_NAME, delta


def _write_snapshot(
    allowlist: Allowlist, delta: bytes | None, *, at: datetime, mobile: list[str]
) -> Snapshot:
    """Store every file of the serial (and `delta`, the change from the previous serial of the
    session, if any), then the row that names them."""
    session, serial = allowlist.session, allowlist.serial
    target = storage.get(storage.ALLOWLIST)
    key = keys.current_key()
    files = {}
    # One file in memory at a time: each is let go before the next is rendered (the largest are
    # 60 MB at a million registrations).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish-hash") as hashing:
        for name, data in _rendered(allowlist, delta, mobile):
            files[name] = _publish_file(
                target, data, key=key, session=session, serial=serial, name=name, hashing=hashing
            )
            del data
    # The files are stored, durably, before the row that names them exists. If the database goes
    # away before that row commits, they stay as orphans no route serves (every route goes through
    # a row), and the next publication takes the same serial and replaces them. They are not removed
    # here on failure: a commit cut off mid-way may yet have committed, and its files must stay.
    storage.make_durable(target, session)
    content = allowlist.to_json()
    return Snapshot.objects.create(
        session=session,
        serial=serial,
        created_at=at,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        ipv4_count=len(allowlist.ipv4),
        ipv6_count=len(allowlist.ipv6),
        msisdn_count=sum(len(v) for v in allowlist.msisdn.values()),
        files=files,
    )


def file_url(serial: int, name: str) -> str:
    return f"/api/v1/allowlist/{serial}.{name}"


def index_document(*, at: datetime | None = None) -> dict | None:
    latest = latest_snapshot()
    if latest is None:
        return None
    recent = (
        Snapshot.objects.filter(session=latest.session, serial__lte=latest.serial)
        .order_by("-serial")
        .values_list("serial", "files")[: settings.ALLOWLIST_INDEX_DELTAS]
    )
    deltas = [
        {
            "from": serial - 1,
            "to": serial,
            "url": file_url(serial, DELTA_NAME),
            "sha256": files[DELTA_NAME]["sha256"],
            "size": files[DELTA_NAME]["size"],
        }
        for serial, files in recent
        if DELTA_NAME in files
    ]
    deltas.sort(key=lambda d: d["to"])
    current = keys.current_key().public
    announced = keys.next_key()
    doc = {
        "format": "vpnregistry-index/1",
        "session": latest.session,
        "serial": latest.serial,
        "generated_at": utc_iso(at or timezone.now(), timespec="seconds"),
        "snapshot": {
            "serial": latest.serial,
            "generated_at": utc_iso(latest.created_at, timespec="seconds"),
            "files": {
                name: {"url": file_url(latest.serial, name), **meta}
                for name, meta in sorted(latest.files.items())
                if name != DELTA_NAME
            },
        },
        "deltas": deltas,
        "keys": {
            "current": current.to_minisign(),
            "current_id": current.key_id_hex,
            "next": announced.key.public.to_minisign() if announced else None,
            "next_id": announced.key.public.key_id_hex if announced else None,
        },
    }
    return doc


def write_index(*, at: datetime | None = None) -> SignedIndex | None:
    """Rebuild and sign the index from the database; safe at any time (cron, after a key rotation)."""
    at = at or timezone.now()
    doc = index_document(at=at)
    if doc is None:
        return None
    data = canonical(doc, ensure_ascii=True, newline=True)
    sha = hashlib.sha256(data).hexdigest()
    signature = keys.current_key().sign(
        data,
        trusted_comment=trusted_comment(
            session=doc["session"], serial=doc["serial"], name=INDEX_NAME, sha256=sha
        ),
    )
    # The document and its signature change together, in one row, so no reader sees a mismatched pair.
    index, _ = SignedIndex.objects.update_or_create(
        id=1,
        defaults={
            "session": doc["session"],
            "serial": doc["serial"],
            "content": data.decode(),
            "signature": signature,
            "sha256": sha,
            "updated_at": at,
        },
    )
    return index
