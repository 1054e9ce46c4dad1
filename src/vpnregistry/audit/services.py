"""Appending to the audit log and checking its chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from vpnregistry.accounts.identifiers import IDENTIFIER_FIELDS
from vpnregistry.accounts.identifiers import mask as mask_identifier
from vpnregistry.allowlist import keys
from vpnregistry.allowlist.signing import PublicKey, SignatureError, SigningKey, verify
from vpnregistry.audit.models import AuditEvent, Checkpoint, VerifyRun
from vpnregistry.db import serialise

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
    data = _without_identifiers(data or {})
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


def record_many(events: Iterable[dict]) -> list[AuditEvent]:
    """Append several events in their order, each exactly as `record` would append it (the same
    fields, so the same hashes), with the audit lock taken once and one bulk insert.

    Each event is a dict of `record`'s keyword arguments. Runs inside the caller's transaction, so
    the lock is held until it ends: for bulk writers (the legacy import) that write in batches.
    """

    def prepared(
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
        if obj is not None:
            object_type = object_type or obj._meta.model_name
            object_id = object_id or str(obj.pk)
        actor_label = getattr(actor, "username", "") or "system"
        return AuditEvent(
            at=at or timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=_without_identifiers(data or {}),
        )

    rows = [prepared(**event) for event in events]
    if not rows:
        return []
    with transaction.atomic():
        serialise("audit")
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        seq = last.seq if last else 0
        prev_hash = last.hash if last else GENESIS
        for row in rows:
            seq += 1
            row.seq, row.prev_hash = seq, prev_hash
            row.hash = prev_hash = _event_digest(row)
        return AuditEvent.objects.bulk_create(rows, batch_size=1000)


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
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0


def verify_chain(*, batch: int = 5000, checkpoints: bool = True) -> ChainReport:
    """Walk the whole log in order; name the first record whose content, link or position is wrong.

    With `checkpoints`, every signed checkpoint is checked too: its signature, and that record
    `count` exists and has the hash it states. A log cut short after a checkpoint fails here, since
    a chain that merely ends earlier would verify on its own.
    """
    marks: dict[int, list[Checkpoint]] = {}
    problems: list[tuple[int, str]] = []
    all_checkpoints = list(Checkpoint.objects.order_by("id")) if checkpoints else []
    trusted = trusted_keys() if all_checkpoints else []
    previous_body = ""
    for checkpoint in all_checkpoints:
        problem = _checkpoint_problem(checkpoint, trusted, previous_body)
        if problem:
            # A checkpoint that is not what was signed proves nothing about the records.
            problems.append((checkpoint.count, problem))
        else:
            marks.setdefault(checkpoint.count, []).append(checkpoint)
        previous_body = checkpoint.body
    report = _verify_records(marks=marks, batch=batch)
    found = [(report.first_bad_seq, report.problem)] if not report.ok else []
    if problems or found:
        seq, problem = min(problems + found, key=lambda p: p[0])
        seq = max(seq, 1)
        return ChainReport(False, min(report.checked, seq - 1), seq, problem, len(all_checkpoints))
    return ChainReport(True, report.checked, checkpoints=len(all_checkpoints))


def _verify_records(*, marks: dict[int, list[Checkpoint]], batch: int) -> ChainReport:
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for checkpoint in marks.get(0, []):
        if checkpoint.hash != GENESIS:
            return ChainReport(False, 0, 1, f"the checkpoint of {checkpoint.day} names an empty log wrongly")
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch):
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"record {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(False, checked, event.seq, "does not link to the record before it")
        if _event_digest(event) != event.hash:
            return ChainReport(False, checked, event.seq, "its content does not match its hash")
        for checkpoint in marks.get(event.seq, []):
            if checkpoint.hash != event.hash:
                return ChainReport(
                    False,
                    checked,
                    event.seq,
                    f"its hash differs from the one the checkpoint of {checkpoint.day} signed",
                )
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    longest = max(marks, default=0)
    if longest > checked:
        return ChainReport(
            False,
            checked,
            checked + 1,
            f"records {checked + 1} to {longest} are missing: a signed checkpoint counted {longest}",
        )
    return ChainReport(True, checked)


# ---------------------------------------------------------------------------------------------
# Checkpoints


def trusted_keys() -> list[PublicKey]:
    """The registry's public keys that may have signed a checkpoint: current, announced and retired."""
    found = [keys.current_key().public]
    if (announced := keys.next_key()) is not None:
        found.append(announced.key.public)
    retired = Path(settings.ALLOWLIST_KEYS_DIR) / "retired"
    if retired.is_dir():
        for path in sorted(retired.glob("*.json")):
            found.append(SigningKey.from_json(json.loads(path.read_text())).public)
    return found


def checkpoint_body(*, count: int, hash: str, at: datetime, day, key_id: str, previous: str) -> str:
    """The JSON a checkpoint signs; `previous` is the SHA-256 of the checkpoint before it."""
    return (
        json.dumps(
            {
                "log": "vpnregistry audit log",
                "count": count,
                "hash": hash,
                "at": at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "day": day.isoformat(),
                "key_id": key_id,
                "previous": previous,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
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
        serialise("audit")
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
    expected = start + 1
    for event in AuditEvent.objects.filter(seq__gt=start).order_by("seq").iterator(chunk_size=5000):
        if event.seq != expected:
            return f"record {expected} is missing"
        if event.prev_hash != prev_hash or _event_digest(event) != event.hash:
            return f"record {event.seq} does not match its hash or link"
        prev_hash = event.hash
        expected += 1
    return ""


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
