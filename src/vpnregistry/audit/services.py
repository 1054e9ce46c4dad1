"""Appending to the audit log and checking its chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import models, transaction
from django.utils import timezone

from vpnregistry.audit.models import AuditEvent
from vpnregistry.db import serialise

GENESIS = "0" * 64


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
    body = json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object": f"{object_type}:{object_id}",
            "from": from_state,
            "to": to_state,
            "reason": reason,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
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
    """Append one event; runs inside the caller's transaction, so it commits or rolls back with it."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
    at = at or timezone.now()
    data = data or {}
    actor_label = getattr(actor, "username", "") or "system"
    with transaction.atomic():
        serialise("audit")
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        seq = last.seq + 1 if last else 1
        prev_hash = last.hash if last else GENESIS
        digest = _digest(
            seq=seq,
            at=at,
            actor=actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=data,
            prev_hash=prev_hash,
        )
        return AuditEvent.objects.create(
            seq=seq,
            at=at,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=data,
            prev_hash=prev_hash,
            hash=digest,
        )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(*, batch: int = 5000) -> ChainReport:
    """Walk the whole log in order; name the first record whose content, link or position is wrong."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch):
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"record {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(False, checked, event.seq, "does not link to the record before it")
        digest = _digest(
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
        if digest != event.hash:
            return ChainReport(False, checked, event.seq, "its content does not match its hash")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    return ChainReport(True, checked)
