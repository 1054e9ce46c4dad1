"""Reads of published snapshots and of who has fetched them."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import ExpressionWrapper, F, IntegerField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from vpnregistry.accounts.models import Operator
from vpnregistry.allowlist.models import OperatorSync, SignedIndex, Snapshot
from vpnregistry.db import raw_first, whole_number


def snapshot_at(which: str) -> Snapshot | None:
    """`latest` or a serial number; without its content (the whole list), which serving a file never reads.

    Every poll asks this, so it runs as plain SQL (`raw_first`) rather than a compiled queryset.
    """
    if which == "latest":
        return raw_first(Snapshot, 'ORDER BY "serial" DESC LIMIT 1', exclude=("content",))
    serial = whole_number(which)
    if serial is None or serial >= 1 << 63:  # past a 64-bit column: no such serial, and no driver error
        return None
    return raw_first(Snapshot, 'WHERE "serial" = %s', (serial,), exclude=("content",))


def latest_serial() -> int | None:
    return Snapshot.objects.order_by("-serial").values_list("serial", flat=True).first()


def signed_index() -> SignedIndex | None:
    return raw_first(SignedIndex, 'WHERE "id" = 1')


# Downloads noted by this process but not yet written: operator id -> (serial, file, count, written at).
_unwritten: dict[int, tuple[int | None, str, int, float]] = {}
_unwritten_lock = threading.Lock()


def note_download(*, operator_id: int, serial: int | None, name: str) -> None:
    """Remember an operator's latest download: one row per operator, updated in place.

    Hundreds of operators poll every minute; a write per poll would make every poll a writer. A
    process writes an operator's row when the serial it fetched changes, and otherwise at most once
    every DOWNLOAD_NOTE_SECONDS, adding the downloads it counted in between; so who runs behind is
    exact, and last_seen and the count lag by at most that long.
    """
    interval = settings.DOWNLOAD_NOTE_SECONDS
    now = time.monotonic()
    with _unwritten_lock:
        previous = _unwritten.get(operator_id)
        if previous and previous[0] == serial and now - previous[3] < interval:
            _unwritten[operator_id] = (serial, name, previous[2] + 1, previous[3])
            return
        count = (previous[2] if previous else 0) + 1
        _unwritten[operator_id] = (serial, name, 0, now)
    seen = timezone.now()
    updated = OperatorSync.objects.filter(operator_id=operator_id).update(
        last_serial=serial, last_file=name, last_seen=seen, downloads=F("downloads") + count
    )
    if not updated:
        OperatorSync.objects.get_or_create(
            operator_id=operator_id,
            defaults={"last_serial": serial, "last_file": name, "last_seen": seen, "downloads": count},
        )


def operator_sync_status():
    """Every operator with its latest download and how many serials it runs behind, most behind first."""
    latest = latest_serial() or 0
    return (
        Operator.objects.select_related("sync")
        .annotate(
            behind=ExpressionWrapper(
                Value(latest) - Coalesce(F("sync__last_serial"), Value(0)), output_field=IntegerField()
            )
        )
        .order_by("-behind", "name")
    )
