"""Appending to the audit log and checking its chain."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from vpnregistry.audit.models import AuditEvent, Checkpoint, VerifyRun
from vpnregistry.canonical import canonical, canonical_text
from vpnregistry.db import hold_lock, insert_rows
from vpnregistry.identifiers import IDENTIFIER_FIELDS
from vpnregistry.identifiers import mask as mask_identifier
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import PublicKey, SignatureError, verify
from vpnregistry.timeutil import shown, utc_iso

GENESIS = "0" * 64


def _without_identifiers(value):
    """`data` with any value under an identifier's name (cnic, ntn, ...) masked: the log is kept for
    years and read by auditors, and never needs an identifier in full (DESIGN: privacy)."""
    if isinstance(value, dict):
        return {
            k: (
                mask_identifier(str(v))
                if str(k).lower() in IDENTIFIER_FIELDS and v
                else _without_identifiers(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_identifiers(v) for v in value]
    return value


def _digest(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    from_state: str,
    to_state: str,
    reason: str,
    data: dict,
    prev_hash: str,
) -> str:
    body = canonical(
        {
            "seq": seq,
            "at": utc_iso(at, timespec="microseconds", z=False),
            "actor": actor,
            "action": action,
            "object": f"{object_type}:{object_id}",
            "from": from_state,
            "to": to_state,
            "reason": reason,
            "data": data,
            "prev": prev_hash,
        },
        ensure_ascii=False,
        newline=False,
    )
    return hashlib.sha256(body).hexdigest()


def _event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """An event as `record` takes it, not yet placed in the chain (no seq, links or hash)."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
    return AuditEvent(
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=_without_identifiers(data or {}),
    )


def _chain(rows: list[AuditEvent]) -> None:
    """Give `rows`, in order, the next places in the log; the caller holds the audit lock."""
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    seq = last.seq if last else 0
    prev_hash = last.hash if last else GENESIS
    for row in rows:
        seq += 1
        row.seq, row.prev_hash = seq, prev_hash
        row.hash = prev_hash = _event_digest(row)


def record(**event) -> AuditEvent:
    """Append one event; runs inside the caller's transaction, so it commits or rolls back with it.

    The event is given by keyword: `actor`, `action`, and optionally `obj` (or `object_type` and
    `object_id`), `from_state`, `to_state`, `reason`, `data` and `at` (see `_event`).
    """
    row = _event(**event)
    with transaction.atomic():
        hold_lock("audit")
        _chain([row])
        row.save()
    return row


# The columns `record_many` writes: every field of a record but its id.
EVENT_FIELDS = [
    "seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "from_state", "to_state",
    "reason", "data", "prev_hash", "hash",
]  # fmt: skip


def record_many(events: Iterable[dict]) -> list[AuditEvent]:
    """Append several events in their order, each exactly as `record` would append it (the same
    fields, so the same hashes), with the audit lock taken once and one bulk insert.

    Each event is a dict of `record`'s keyword arguments. Runs inside the caller's transaction, so
    the lock is held until it ends: for bulk writers (the legacy import) that write in batches.
    """
    rows = [_event(**event) for event in events]
    if not rows:
        return []
    with transaction.atomic():
        hold_lock("audit")
        _chain(rows)
        ids = insert_rows(AuditEvent, EVENT_FIELDS, [[getattr(row, f) for f in EVENT_FIELDS] for row in rows])
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
    return rows


def _event_digest(event: AuditEvent) -> str:
    return _digest(
        seq=event.seq,
        at=event.at,
        actor=event.actor_label,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        from_state=event.from_state,
        to_state=event.to_state,
        reason=event.reason,
        data=event.data,
        prev_hash=event.prev_hash,
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # records 1 to `checked` are good: read now, or before `start` by an earlier run
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0
    start: int = 0  # an incremental run read only the records after this one, its anchor
    note: str = ""  # where an incremental run started, or why it read the whole log


def verify_chain(*, batch: int = 10_000, checkpoints: bool = True, incremental: bool = False) -> ChainReport:
    """Walk the log in order; name the first record whose content, link or position is wrong.

    With `checkpoints`, every signed checkpoint is checked too: its signature, and that record
    `count` exists and has the hash it states; and the log must be at least as long as the last
    successful run found it. A log cut short fails here, since a chain that merely ends earlier
    would verify on its own.

    `incremental` reads only the records after an anchor: the newest valid checkpoint that the
    latest run, if it succeeded, had verified. The anchor record and every checkpointed record
    before it are still checked one by one (present, the signed hash, content matching it), so a
    truncation or a rewrite up to a checkpoint shows; an edit to any other record before the
    anchor does not (a full run's job). Without such an anchor the whole log is read.
    """
    all_checkpoints = list(Checkpoint.objects.order_by("id")) if checkpoints else []
    trusted = trusted_keys() if all_checkpoints else []
    valid: list[Checkpoint] = []
    problems: list[tuple[int, str]] = []
    previous_body = ""
    for checkpoint in all_checkpoints:
        problem = _checkpoint_problem(checkpoint, trusted, previous_body)
        if problem:
            # A checkpoint that is not what was signed proves nothing about the records.
            problems.append((checkpoint.count, problem))
        else:
            valid.append(checkpoint)
        previous_body = checkpoint.body
    anchor, note = _anchor(valid) if incremental else (None, "")
    start, prev_hash = (anchor.count, anchor.hash) if anchor else (0, GENESIS)
    problems += _checkpointed_records([c for c in valid if c.count <= start])
    marks: dict[int, list[Checkpoint]] = {}
    for checkpoint in valid:
        if checkpoint.count > start:
            marks.setdefault(checkpoint.count, []).append(checkpoint)
    report = _walk(after=start, prev_hash=prev_hash, marks=marks, batch=batch)
    head = start + report.checked
    if not report.ok:
        problems.append((report.first_bad_seq, report.problem))
    else:
        longest = max(marks, default=0)
        if longest > head:
            missing = f"records {head + 1} to {longest} are missing"
            problems.append((head + 1, f"{missing}: a signed checkpoint counted {longest}"))
        last = VerifyRun.objects.filter(ok=True).order_by("-id").first() if checkpoints else None
        if last is not None and last.checked > head:
            missing = f"records {head + 1} to {last.checked} are missing"
            problems.append((head + 1, f"{missing}: the run of {shown(last.at)} counted {last.checked}"))
    count = len(all_checkpoints)
    if problems:
        seq, problem = min(problems, key=lambda p: p[0])
        seq = max(seq, 1)
        return ChainReport(False, min(head, seq - 1), seq, problem, count, start, note)
    return ChainReport(True, head, checkpoints=count, start=start, note=note)


def _anchor(valid: list[Checkpoint]) -> tuple[Checkpoint | None, str]:
    """Where an incremental run starts: the newest valid checkpoint that the latest run verified
    (it existed then and counted no more records than that run found), if that run succeeded.
    After a failed run, the whole log is read again: a break found before the anchor would
    otherwise be forgotten."""
    run = VerifyRun.objects.order_by("-id").first()
    if run is None:
        return None, "no earlier run: the whole log was read"
    if not run.ok:
        return None, f"the last run, of {shown(run.at)}, found the chain broken: the whole log was read"
    covered = [c for c in valid if c.count <= run.checked and c.at <= run.at]
    if not covered:
        return None, f"no checkpoint that the last run, of {shown(run.at)}, verified: the whole log was read"
    anchor = max(covered, key=lambda c: (c.count, c.id))
    return anchor, (
        f"read from record {anchor.count + 1} on: the checkpoint of {anchor.day} counted "
        f"{anchor.count} and the run of {shown(run.at)} verified them"
    )


def _checkpointed_records(checkpoints: list[Checkpoint]) -> list[tuple[int, str]]:
    """Each record that a checkpoint counted, looked up on its own: present, with the hash the
    checkpoint signed and content that matches it. An incremental run reads no other record up to
    its anchor."""
    problems = []
    for checkpoint in checkpoints:
        if checkpoint.count == 0 and checkpoint.hash != GENESIS:
            problems.append((1, f"the checkpoint of {checkpoint.day} names an empty log wrongly"))
    counts = sorted({c.count for c in checkpoints if c.count})
    found: dict[int, tuple[str, str]] = {}
    for first in range(0, len(counts), 500):
        rows, ats = _read(seqs=counts[first : first + 500])
        for row, digest in zip(rows, _digests(rows, ats), strict=True):
            found[row[0]] = (row[10], digest)
    for checkpoint in sorted(checkpoints, key=lambda c: (c.count, c.id)):
        if not checkpoint.count:
            continue
        stored, digest = found.get(checkpoint.count, (None, None))
        if stored is None:
            problem = f"record {checkpoint.count} is missing: the checkpoint of {checkpoint.day} counted it"
        elif stored != checkpoint.hash:
            problem = f"its hash differs from the one the checkpoint of {checkpoint.day} signed"
        elif digest != stored:
            problem = "its content does not match its hash"
        else:
            continue
        problems.append((checkpoint.count, problem))
    return problems


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


# ---------------------------------------------------------------------------------------------
# Checkpoints


def trusted_keys() -> list[PublicKey]:
    """The registry's public keys that may have signed a checkpoint: current, announced and retired
    (these from the database, so that any server verifies what another server's key signed)."""
    return keys.known_public_keys()


def checkpoint_body(*, count: int, hash: str, at: datetime, day, key_id: str, previous: str) -> str:
    """The JSON a checkpoint signs; `previous` is the SHA-256 of the checkpoint before it."""
    return canonical_text(
        {
            "log": "vpnregistry audit log",
            "count": count,
            "hash": hash,
            "at": utc_iso(at, timespec="seconds"),
            "day": day.isoformat(),
            "key_id": key_id,
            "previous": previous,
        },
        ensure_ascii=True,
        newline=True,
        indent=2,
    )


def trusted_comment(*, count: int, hash: str, day) -> str:
    return f"vpnregistry audit checkpoint day={day.isoformat()} count={count} hash={hash}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def _checkpoint_problem(checkpoint: Checkpoint, trusted: list[PublicKey], previous_body: str) -> str:
    """Why a stored checkpoint cannot be trusted, or "" when it can."""
    try:
        _key, comment = verify(checkpoint.body.encode(), checkpoint.signature, trusted)
    except SignatureError as exc:
        return f"the checkpoint of {checkpoint.day} does not verify: {exc}"
    body = json.loads(checkpoint.body)
    if (body.get("count"), body.get("hash")) != (checkpoint.count, checkpoint.hash) or comment != (
        trusted_comment(count=checkpoint.count, hash=checkpoint.hash, day=checkpoint.day)
    ):
        return f"the checkpoint of {checkpoint.day} was changed after it was signed"
    if body.get("previous") != _sha256(previous_body):
        return f"the checkpoint before the one of {checkpoint.day} is missing or changed"
    return ""


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint
    created: bool


def make_checkpoint(*, force: bool = False, now: datetime | None = None) -> CheckpointResult:
    """Sign the log's current length and latest hash; once per UTC day unless forced.

    Only the records added since the previous checkpoint are checked first (a full check is
    `verify-log`'s job), so that a broken chain is never signed as if it were whole.
    """
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    with transaction.atomic():
        # The audit lock: no record can be appended between reading the tail and signing it.
        hold_lock("audit")
        previous = Checkpoint.objects.order_by("-id").first()
        if previous is not None and previous.day == day and not force:
            return CheckpointResult(previous, created=False)
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        count, head = (last.seq, last.hash) if last else (0, GENESIS)
        problem = _check_since(previous)
        if problem:
            raise ValueError(f"the audit chain is broken, no checkpoint made: {problem}")
        key = keys.current_key()
        body = checkpoint_body(
            count=count,
            hash=head,
            at=now,
            day=day,
            key_id=key.public.key_id_hex,
            previous=_sha256(previous.body) if previous else "",
        )
        signature = key.sign(
            body.encode(),
            trusted_comment=trusted_comment(count=count, hash=head, day=day),
            untrusted_comment="vpnregistry audit checkpoint",
        )
        checkpoint = Checkpoint.objects.create(
            count=count,
            hash=head,
            at=now,
            day=day,
            key_id=key.public.key_id_hex,
            body=body,
            signature=signature,
        )
    return CheckpointResult(checkpoint, created=True)


def _check_since(previous: Checkpoint | None) -> str:
    start = previous.count if previous else 0
    prev_hash = previous.hash if previous else GENESIS
    if previous is not None and start:
        at_mark = AuditEvent.objects.filter(seq=start).values_list("hash", flat=True).first()
        if at_mark != prev_hash:
            return f"record {start} no longer has the hash the previous checkpoint signed"
    report = _walk(after=start, prev_hash=prev_hash, marks={}, batch=10_000)
    if report.ok:
        return ""
    if report.problem.startswith("record"):
        return report.problem
    return f"record {report.first_bad_seq}: {report.problem}"


def record_verify_run(report: ChainReport, *, at: datetime | None = None) -> VerifyRun:
    """Keep a verify-log result, so that the auditors' page can show it without a scan."""
    return VerifyRun.objects.create(
        at=at or timezone.now(),
        ok=report.ok,
        checked=report.checked,
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        checkpoints=report.checkpoints,
    )
