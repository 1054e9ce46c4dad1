"""Checkpoints: the log's length and latest hash, signed once a day with the registry's key, each
naming the one before it, so that a log cut short or rewritten up to a checkpoint shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from vpnregistry.audit.models import AuditEvent, Checkpoint
from vpnregistry.audit.services.appending import GENESIS
from vpnregistry.audit.services.walk import _walk
from vpnregistry.canonical import canonical_text
from vpnregistry.db import hold_lock
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import PublicKey, SignatureError, verify
from vpnregistry.timeutil import utc_iso


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
