"""Reads of published snapshots and of who has fetched them."""

from __future__ import annotations

from django.db.models import ExpressionWrapper, F, IntegerField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from vpnregistry.accounts.models import Operator
from vpnregistry.allowlist.models import OperatorSync, SignedIndex, Snapshot


def snapshot_at(which: str) -> Snapshot | None:
    """`latest` or a serial number; without its content (the whole list), which serving a file never reads."""
    qs = Snapshot.objects.order_by("-serial").defer("content")
    if which == "latest":
        return qs.first()
    try:
        return qs.filter(serial=int(which)).first()
    except ValueError:
        return None


def latest_serial() -> int | None:
    return Snapshot.objects.order_by("-serial").values_list("serial", flat=True).first()


def signed_index() -> SignedIndex | None:
    return SignedIndex.objects.filter(id=1).first()


def note_download(*, operator_id: int, serial: int | None, name: str) -> None:
    """Remember an operator's latest download: one row per operator, updated in place."""
    now = timezone.now()
    updated = OperatorSync.objects.filter(operator_id=operator_id).update(
        last_serial=serial, last_file=name, last_seen=now, downloads=F("downloads") + 1
    )
    if not updated:
        OperatorSync.objects.get_or_create(
            operator_id=operator_id,
            defaults={"last_serial": serial, "last_file": name, "last_seen": now, "downloads": 1},
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
