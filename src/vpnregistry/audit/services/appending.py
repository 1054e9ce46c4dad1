"""Appending to the audit log: each event masked, placed after the log's last record and hashed into
the chain, one at a time (`record`) or in bulk (`record_many`), both under the audit lock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone

from vpnregistry.audit.models import AuditEvent
from vpnregistry.canonical import canonical
from vpnregistry.db import hold_lock, insert_rows
from vpnregistry.identifiers import IDENTIFIER_FIELDS
from vpnregistry.identifiers import mask as mask_identifier
from vpnregistry.timeutil import utc_iso

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
