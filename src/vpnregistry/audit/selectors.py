"""Reading the audit log: filtered pages by seq, masked for auditors, and its checkpoints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from vpnregistry.audit.models import AuditEvent, Checkpoint, VerifyRun

PAGE_SIZE = 50

# A CNIC is 13 digits (printed 12345-1234567-1); an NTN 7 digits with an optional check digit.
# Neighbouring letters or digits rule a match out, so that hashes and serials are left alone.
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
CNIC_RE = re.compile(_EDGE_BEFORE + r"(?:\d{5}-\d{7}-\d|\d{13})" + _EDGE_AFTER)
NTN_RE = re.compile(_EDGE_BEFORE + r"(?:\d{7}-\d|\d{7,8})" + _EDGE_AFTER)
IDENTIFIER_KEYS = {"cnic", "ntn"}
MASK = "•••"


def mask_text(text: str) -> str:
    return NTN_RE.sub(MASK, CNIC_RE.sub(MASK, text))


def mask(value):
    """A copy of `value` (JSON data) with anything that looks like a CNIC or NTN masked."""
    if isinstance(value, dict):
        return {k: (MASK if k.lower() in IDENTIFIER_KEYS and v else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 13:
        return MASK
    return value


@dataclass(frozen=True)
class LogFilter:
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None  # inclusive

    def apply(self, qs):
        if self.action:
            # "application." selects every action on applications; a full name selects one.
            qs = (
                qs.filter(action__startswith=self.action)
                if self.action.endswith(".")
                else qs.filter(action=self.action)
            )
        if self.object_type:
            qs = qs.filter(object_type=self.object_type)
        if self.object_id:
            qs = qs.filter(object_id=self.object_id)
        if self.actor:
            qs = qs.filter(actor_label=self.actor)
        tz = timezone.get_current_timezone()
        if self.since:
            qs = qs.filter(at__gte=datetime.combine(self.since, time.min, tzinfo=tz))
        if self.until:
            qs = qs.filter(at__lt=datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=tz))
        return qs


@dataclass
class LogPage:
    events: list[AuditEvent]
    next_before: int | None


def log_page(*, filters: LogFilter, before: int | None = None, size: int = PAGE_SIZE) -> LogPage:
    """One page of the log, newest first: a seek on seq, never a COUNT or an OFFSET."""
    qs = filters.apply(AuditEvent.objects.all())
    if before is not None:
        qs = qs.filter(seq__lt=before)
    events = list(qs.order_by("-seq")[: size + 1])
    more = len(events) > size
    events = events[:size]
    return LogPage(events=events, next_before=events[-1].seq if more else None)


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


def latest_verify_run() -> VerifyRun | None:
    return VerifyRun.objects.order_by("-id").first()


@dataclass
class CheckpointPage:
    checkpoints: list[Checkpoint]
    next_before: int | None


def checkpoint_page(*, before: int | None = None, size: int = PAGE_SIZE) -> CheckpointPage:
    qs = Checkpoint.objects.order_by("-id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    items = list(qs.defer("body", "signature")[: size + 1])
    more = len(items) > size
    items = items[:size]
    return CheckpointPage(checkpoints=items, next_before=items[-1].id if more else None)
