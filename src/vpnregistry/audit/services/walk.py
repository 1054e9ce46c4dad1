"""Walking the chain: the records read as plain rows a page at a time, each page hashed as `_digest`
hashes a record, each record checked against its link and hash. verify-log and checkpoints share it."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from vpnregistry.audit.models import AuditEvent, Checkpoint
from vpnregistry.canonical import canonical_text
from vpnregistry.timeutil import utc_iso


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # records 1 to `checked` are good: read now, or before `start` by an earlier run
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0
    start: int = 0  # an incremental run read only the records after this one, its anchor
    note: str = ""  # where an incremental run started, or why it read the whole log


def _walk(*, after: int, prev_hash: str, marks: dict[int, list[Checkpoint]], batch: int) -> ChainReport:
    """Check the records after seq `after` in order, the first one linking to `prev_hash`, and
    those that checkpoints counted against them. `checked` counts the good records read."""
    expected = after + 1
    checked = 0
    collecting = gc.isenabled()
    # Nothing here makes reference cycles, and collections that scan pages of tuples cost more
    # than the hashing (about a third of the run, measured).
    gc.disable()
    pages = _pages(after, batch)
    try:
        for rows, ats in pages:
            for row, digest in zip(rows, _digests(rows, ats), strict=True):
                seq, stored = row[0], row[10]
                if seq != expected:
                    return ChainReport(False, checked, expected, f"record {expected} is missing")
                if row[9] != prev_hash:
                    return ChainReport(False, checked, seq, "does not link to the record before it")
                if digest != stored:
                    return ChainReport(False, checked, seq, "its content does not match its hash")
                for checkpoint in marks.get(seq, ()):
                    if checkpoint.hash != stored:
                        return ChainReport(
                            False,
                            checked,
                            seq,
                            f"its hash differs from the one the checkpoint of {checkpoint.day} signed",
                        )
                prev_hash = stored
                expected += 1
                checked += 1
    finally:
        pages.close()
        if collecting:
            gc.enable()
    return ChainReport(True, checked)


# Reading records for verification: plain tuples in seq order, never model instances. Each row is
# (seq, at, actor_label, action, object, from_state, to_state, reason, data, prev_hash, hash), with
# `object` as "type:id" and `data` as JSON text; each `at` comes separately, as the JSON string
# _digest puts in the hash. PostgreSQL writes that itself (to_char); SQLite stores what Django
# wrote, "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, which is rearranged.

_PG_AT = "'\"' || to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') || '\"'"


def _sqlite_at(stored) -> str:
    if isinstance(stored, str) and stored[10:11] == " ":
        if len(stored) == 26:
            return f"{stored[:10]}T{stored[11:]}+00:00"
        if len(stored) == 19:
            return f"{stored[:10]}T{stored[11:]}.000000+00:00"
    # Anything else is read as Django's converter reads it.
    at = parse_datetime(stored) if isinstance(stored, str) else stored
    if not isinstance(at, datetime):
        return str(stored)
    return utc_iso(at if timezone.is_aware(at) else at.replace(tzinfo=UTC), timespec="microseconds", z=False)


def _query(*, seqs: int = 0) -> str:
    """The SELECT of a page (parameters: after which seq, how many) or of `seqs` given records."""
    quote = connection.ops.quote_name
    column = {field.name: quote(field.column) for field in AuditEvent._meta.concrete_fields}
    at = column["at"]
    data = column["data"]
    if connection.vendor == "postgresql":
        at = _PG_AT.format(at)
        data = f"{data}::text"
    seq = column["seq"]
    columns = [
        seq,
        at,
        column["actor_label"],
        column["action"],
        f"{column['object_type']} || ':' || {column['object_id']}",
        column["from_state"],
        column["to_state"],
        column["reason"],
        data,
        column["prev_hash"],
        column["hash"],
    ]
    # Quoted names and placeholders only: the values go in as parameters.
    table = quote(AuditEvent._meta.db_table)
    where = f"{seq} IN ({', '.join(['%s'] * seqs)})" if seqs else f"{seq} > %s"
    limit = "" if seqs else " LIMIT %s"
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {where} ORDER BY {seq}{limit}"  # noqa: S608


def _read(*, after: int = 0, limit: int = 0, seqs: list[int] | None = None):
    """Records after seq `after` (at most `limit`), or those whose seq is in `seqs`: (rows, ats)."""
    vendor = connection.vendor
    if vendor in ("postgresql", "sqlite"):
        query, params = (_query(seqs=len(seqs)), seqs) if seqs else (_query(), [after, limit])
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        if vendor == "postgresql":
            return rows, [row[1] for row in rows]
        return rows, [_ESCAPE(_sqlite_at(row[1])) for row in rows]
    # Any other database: through the ORM's converters, then back to JSON text.
    events = AuditEvent.objects.order_by("seq")
    events = events.filter(seq__in=seqs) if seqs else events.filter(seq__gt=after)[:limit]
    fields = ["seq", "at", "actor_label", "action", "object_type", "object_id", "from_state"]
    fields += ["to_state", "reason", "data", "prev_hash", "hash"]
    rows = [
        (*row[:4], f"{row[4]}:{row[5]}", *row[6:9], json.dumps(row[9]), *row[10:])
        for row in events.values_list(*fields)
    ]
    return rows, [_ESCAPE(utc_iso(row[1], timespec="microseconds", z=False)) for row in rows]


def _pages(after: int, size: int):
    """Pages of (rows, ats) after seq `after`, keyset-paged by seq. On PostgreSQL each next page
    is read in a thread, on the same connection, while the caller hashes this one: the server's
    work then overlaps Python's instead of adding to it."""
    if connection.vendor != "postgresql":
        while True:
            rows, ats = _read(after=after, limit=size)
            if not rows:
                return
            yield rows, ats
            after = rows[-1][0]
    connection.ensure_connection()
    raw = connection.connection  # psycopg's connection: thread-safe; Django's wrapper is not
    query = _query()

    def read(after: int):
        with raw.cursor() as cursor:
            cursor.execute(query, [after, size])
            rows = cursor.fetchall()
        return rows, [row[1] for row in rows]

    yield from _read_ahead(read, after)


def _read_ahead(read, after: int):
    ahead: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def reader():
        position = after
        try:
            while not stop.is_set():
                page = read(position)
                ahead.put(page)
                if not page[0]:
                    return
                position = page[0][-1][0]
        except BaseException as exc:  # handed to the caller, which raises it
            ahead.put(exc)

    thread = threading.Thread(target=reader, name="verify-log read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            page = ahead.get()
            if isinstance(page, BaseException):
                raise page
            if not page[0]:
                return
            yield page
    finally:
        # The caller stopped early (a broken record) or finished: let the reader go and wait for
        # it, so that nothing else uses the connection while it still might.
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.05)
        thread.join()


# Hashing a page: the bytes _digest hashes (canonical JSON, UTF-8), without building a dict per
# record. The outer object is written out with its keys in sorted order and each string escaped by
# the function json.dumps (ensure_ascii=False) uses; `data` is parsed and re-encoded a whole page at
# a time by the same canonical writer, since one json call per record costs more than the work it does.

_ESCAPE = json.encoder.encode_basestring
_CANONICAL = functools.partial(canonical_text, ensure_ascii=False, newline=False)
_SPACER = "\x00"  # between a page's values when they are encoded together
_SPACER_JSON = ',"\\u0000",'


def _digests(rows: list[tuple], ats: list[str]) -> list[str]:
    """Each row's hash as _digest computes it."""
    escape, sha256 = _ESCAPE, hashlib.sha256
    datas = _canonical_data([row[8] for row in rows])
    return [
        sha256(
            f'{{"action":{escape(action)},"actor":{escape(actor)},"at":{at},"data":{data},'
            f'"from":{escape(from_state)},"object":{escape(obj)},"prev":{escape(prev)},'
            f'"reason":{escape(reason)},"seq":{seq},"to":{escape(to_state)}}}'.encode()
        ).hexdigest()
        for (seq, _, actor, action, obj, from_state, to_state, reason, _, prev, _), at, data in zip(
            rows, ats, datas, strict=True
        )
    ]


def _canonical_data(texts: list[str]) -> list[str]:
    """Each `data` JSON text as _digest encodes its value.

    On PostgreSQL (jsonb) each text is exactly one JSON value, so the page's texts are parsed
    as one array and the values encoded as one array with a spacer string between them, then
    split at the spacers. No value can contain the spacer (jsonb refuses \\u0000, and a text that
    has one is done alone), and a count that does not come out right is done alone too.
    """
    if texts and connection.vendor == "postgresql":
        joined = ",".join(texts)
        if "\\u0000" not in joined:
            try:
                values = json.loads(f"[{joined}]")
            except ValueError:
                values = []
            if len(values) == len(texts):
                spaced = [_SPACER] * (2 * len(values) - 1)
                spaced[::2] = values
                encoded = _CANONICAL(spaced)[1:-1].split(_SPACER_JSON)
                if len(encoded) == len(texts):
                    return encoded
    return [_canonical_one(text) for text in texts]


def _canonical_one(text: str) -> str:
    if text == "{}":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text  # what Django's JSONField reads when the text is not JSON
    return _CANONICAL(value)
