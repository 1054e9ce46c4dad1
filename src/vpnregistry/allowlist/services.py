"""Publishing snapshots of the allowlist from the registrations active at their time."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vpnregistry.allowlist.models import Snapshot
from vpnregistry.db import serialise
from vpnregistry.netblocks import aggregate

logger = logging.getLogger(__name__)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _active_networks(at: datetime) -> list[str]:
    # Imported here: registrations depend on applications, which call into this module.
    from vpnregistry.registrations.models import Registration
    from vpnregistry.registrations.selectors import active_at_q

    return list(
        Registration.objects.filter(active_at_q(at), family__isnull=False)
        .values_list("value", flat=True)
        .iterator(chunk_size=20000)
    )


def build_document(*, session: str, serial: int, at: datetime, networks: list) -> str:
    """The canonical JSON of a snapshot: the bytes that are hashed, signed and served."""
    prefixes = aggregate(networks)
    doc = {
        "format": "vpnregistry-allowlist/1",
        "session": session,
        "serial": serial,
        "generated_at": _iso(at),
        "ipv4": [str(p) for p in prefixes if p.version == 4],
        "ipv6": [str(p) for p in prefixes if p.version == 6],
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n"


def latest_snapshot() -> Snapshot | None:
    return Snapshot.objects.order_by("-serial").first()


def publish_snapshot(*, at: datetime | None = None, actor=None, force: bool = False) -> Snapshot | None:
    """Write the next snapshot when the allowlist has changed since the latest one (or when forced)."""
    from vpnregistry.audit.services import record

    at = at or timezone.now()
    with transaction.atomic():
        serialise("publication")
        latest = latest_snapshot()
        session = latest.session if latest else str(uuid.uuid4())
        serial = latest.serial + 1 if latest else 1
        content = build_document(session=session, serial=serial, at=at, networks=_active_networks(at))
        doc = json.loads(content)
        if latest and not force:
            previous = json.loads(latest.content)
            if previous["ipv4"] == doc["ipv4"] and previous["ipv6"] == doc["ipv6"]:
                return None
        snapshot = Snapshot.objects.create(
            session=session,
            serial=serial,
            created_at=at,
            content=content,
            sha256=hashlib.sha256(content.encode()).hexdigest(),
            ipv4_count=len(doc["ipv4"]),
            ipv6_count=len(doc["ipv6"]),
        )
        record(
            actor=actor,
            action="snapshot.publish",
            obj=snapshot,
            at=at,
            data={
                "serial": serial,
                "sha256": snapshot.sha256,
                "ipv4": snapshot.ipv4_count,
                "ipv6": snapshot.ipv6_count,
            },
        )
    return snapshot


def request_publication(*, reason: str = "") -> None:
    """Publish once the current transaction commits, unless a snapshot was published too recently.

    Changes close together go into one snapshot: with a minimum interval set, the cron job
    (`vpnregistry publish`) picks up what was left waiting.
    """

    def _publish() -> None:
        latest = latest_snapshot()
        interval = timedelta(seconds=settings.ALLOWLIST_MIN_INTERVAL_SECONDS)
        if latest and interval and timezone.now() - latest.created_at < interval:
            logger.info("publication deferred (%s): latest snapshot is recent", reason)
            return
        publish_snapshot()

    transaction.on_commit(_publish)


def render_txt(snapshot: Snapshot) -> str:
    doc = json.loads(snapshot.content)
    lines = [
        "# vpnregistry allowlist",
        f"# session: {doc['session']}",
        f"# serial: {doc['serial']}",
        f"# generated: {doc['generated_at']}",
        f"# entries: {len(doc['ipv4'])} IPv4, {len(doc['ipv6'])} IPv6",
        *doc["ipv4"],
        *doc["ipv6"],
    ]
    return "\n".join(lines) + "\n"


RENDERERS = {
    "json": ("application/json", lambda s: s.content),
    "txt": ("text/plain; charset=utf-8", render_txt),
}
