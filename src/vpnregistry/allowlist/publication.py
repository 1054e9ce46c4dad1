"""When to publish: the durable wish to publish, and the publisher that consumes it.

Every change that affects the allowlist calls `request_publication` (registrations/outbox.py) inside
its own transaction: the wish is written below, by the layer that makes the change, and consumed here.
Nothing depends on the publisher it asks for arriving: whatever runs next (a worker, the scheduler's
periodic run, `vpnregistry publish` from cron, the sweep) publishes what is still due.

The publisher (`publish_pending`) takes the publication lock, reads the rows then pending, publishes
at a time no earlier than any of them, and deletes exactly the rows it read (by id: ids are handed
out when a row is inserted, not when it commits, so "every id up to the largest seen" could delete
a row whose change committed after the build had started). Changes that land while it runs leave
rows of their own, which cause exactly one more publication.

The same rows tell, without building anything, whether the allowlist may have changed since the
latest snapshot: it has not when none is pending and no validity window began or ended since that
snapshot's time (registrations come and go with time too, and the sweep only records their expiry
later). Both checks are index seeks.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from vpnregistry import storage
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.services import publish_snapshot
from vpnregistry.applications.models import Application
from vpnregistry.db import hold_lock
from vpnregistry.registrations.models import ActivePeriod, PublicationDue
from vpnregistry.registrations.services import SweepReport, registrations_expire_and_remind

logger = logging.getLogger(__name__)

DELETE_CHUNK = 5000  # ids per DELETE: below SQLite's limit on bound parameters


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest: datetime | None

    def as_dict(self, *, now: datetime | None = None) -> dict:
        age = (now or timezone.now()) - self.oldest if self.oldest else None
        return {
            "pending": self.pending,
            "oldest_at": self.oldest.isoformat() if self.oldest else None,
            "oldest_age_seconds": round(age.total_seconds(), 1) if age is not None else None,
        }


def backlog() -> Backlog:
    """How many changes wait to be published, and since when."""
    row = PublicationDue.objects.aggregate(pending=Count("id"), oldest=Min("at"))
    return Backlog(pending=row["pending"], oldest=row["oldest"])


def _latest() -> tuple[int, datetime] | None:
    """(serial, time) of the latest snapshot, without loading its content."""
    return Snapshot.objects.order_by("-serial").values_list("serial", "created_at").first()


def windows_changed(since: datetime, until: datetime) -> bool:
    """Whether any registration's active period began or ended in (since, until]: two index seeks."""
    return (
        ActivePeriod.objects.filter(start__gt=since, start__lte=until).exists()
        or ActivePeriod.objects.filter(end__gt=since, end__lte=until).exists()
    )


def is_due(*, at: datetime | None = None) -> bool:
    """Whether the allowlist at `at` (now) may differ from the latest snapshot; builds nothing."""
    latest = _latest()
    if latest is None or PublicationDue.objects.exists():
        return True
    return windows_changed(latest[1], at or timezone.now())


@dataclass(frozen=True)
class Outcome:
    due: bool  # something was due (or the run was forced)
    snapshot: Snapshot | None = None  # the new snapshot, when the allowlist had changed
    serial: int | None = None  # the latest serial after the run
    wait: float = 0.0  # seconds until the minimum interval allows a snapshot (nothing was done)
    consumed: int = 0  # pending rows covered by this run


def interval_wait(*, now: datetime | None = None) -> float:
    """Seconds until `VPNREGISTRY_ALLOWLIST_MIN_INTERVAL` allows the next snapshot (0: now)."""
    interval = timedelta(seconds=settings.ALLOWLIST_MIN_INTERVAL_SECONDS)
    latest = _latest()
    if not interval or latest is None:
        return 0.0
    left = latest[1] + interval - (now or timezone.now())
    return max(0.0, left.total_seconds())


def publish_pending(
    *,
    at: datetime | None = None,
    force: bool = False,
    reset_session: bool = False,
    actor=None,
    respect_interval: bool = False,
) -> Outcome:
    """Publish when anything is due (or when forced), and consume the wishes that publication covers.

    Safe to run any number of times, from any number of processes: one publisher at a time holds
    the publication lock, and one that finds nothing due returns without building the allowlist.
    With `respect_interval`, a run too soon after the latest snapshot does nothing and says how long
    to wait (the task schedules itself again then).
    """
    forced = force or reset_session
    if not forced and not is_due(at=at):
        latest = _latest()
        return Outcome(due=False, serial=latest[0] if latest else None)
    if respect_interval and not forced and (wait := interval_wait()):
        latest = _latest()
        return Outcome(due=True, serial=latest[0] if latest else None, wait=wait)
    with transaction.atomic():
        hold_lock("publication")
        pending = list(PublicationDue.objects.order_by("id").values_list("id", "at", "application_id"))
        # Taken after the rows were read: every change they name is visible and began before it.
        when = at or timezone.now()
        covered = [row for row in pending if row[1] <= when]
        latest = _latest()
        if not forced and not covered and latest is not None and not windows_changed(latest[1], when):
            # Another publisher covered it while this one waited for the lock.
            return Outcome(due=False, serial=latest[0])
        remove_stale_temporary_files()
        snapshot = publish_snapshot(at=when, actor=actor, force=force, reset_session=reset_session)
        serial = snapshot.serial if snapshot else (latest[0] if latest else None)
        applications = sorted({row[2] for row in covered if row[2] is not None})
        if applications and serial is not None:
            Application.objects.filter(pk__in=applications, published_serial__isnull=True).update(
                published_serial=serial
            )
        ids = [row[0] for row in covered]
        for start in range(0, len(ids), DELETE_CHUNK):
            PublicationDue.objects.filter(id__in=ids[start : start + DELETE_CHUNK]).delete()
    return Outcome(due=True, snapshot=snapshot, serial=serial, consumed=len(ids))


def sweep_temporary_files() -> list[Path]:
    """`remove_stale_temporary_files` under the publication lock: for the sweep, at any time."""
    with transaction.atomic():
        hold_lock("publication")
        return remove_stale_temporary_files()


def remove_stale_temporary_files() -> list[Path]:
    """Remove what a killed writer left of its files (`.{name}.tmp-{pid}`, see `storage.FolderStorage`).

    Called with the publication lock held, when no other writer of the allowlist's files can be
    running: any such file is a dead writer's. Only a folder storage has them: an object store makes
    an object visible once whole, and drops an upload cut off mid-way by itself.
    """
    files = storage.get(storage.ALLOWLIST)
    removed: list[Path] = []
    if not storage.is_local(files):
        return removed
    root = Path(files.location)
    if not root.is_dir():
        return removed
    directories = [root, *(Path(e.path) for e in os.scandir(root) if e.is_dir(follow_symlinks=False))]
    for directory in directories:
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and ".tmp-" in entry.name and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue
                removed.append(Path(entry.path))
    if removed:
        logger.warning("removed %d temporary file(s) a killed publisher left", len(removed))
    return removed


def sweep(*, now: datetime | None = None, batch: int = 1000) -> SweepReport:
    """For cron, idempotent: expire what has run out, send each reminder once (registrations'
    `registrations_expire_and_remind`), then publish when something is due."""
    now = now or timezone.now()
    report = registrations_expire_and_remind(now=now, batch=batch)
    snapshot = publish_pending(at=now).snapshot
    return replace(report, published_serial=snapshot.serial if snapshot else None)
