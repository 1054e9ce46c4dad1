"""Reads of published snapshots."""

from __future__ import annotations

from vpnregistry.allowlist.models import Snapshot


def snapshot_at(which: str) -> Snapshot | None:
    """`latest` or a serial number."""
    qs = Snapshot.objects.order_by("-serial")
    if which == "latest":
        return qs.first()
    try:
        return qs.filter(serial=int(which)).first()
    except ValueError:
        return None


def latest_serial() -> int | None:
    return Snapshot.objects.order_by("-serial").values_list("serial", flat=True).first()
