"""`db.insert_rows`: the bulk writers' insert (COPY on PostgreSQL), row for row what the ORM writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from vpnregistry.audit.models import AuditEvent
from vpnregistry.db import insert_rows
from vpnregistry.registrations.models import PublicationDue

pytestmark = pytest.mark.django_db


def test_rows_get_their_ids_in_order_and_the_models_defaults(world):
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    fields = ["seq", "at", "actor_label", "action", "object_type", "object_id", "data", "prev_hash", "hash"]
    rows = [
        (n, at, "legacy-import", "registration.import", "registration", str(n),
         {"value": "14.1.104.0/24", "line": n, "name": "کراچی"}, f"{n - 1:064x}", f"{n:064x}")
        for n in range(1, 2501)
    ]  # fmt: skip
    ids = insert_rows(AuditEvent, fields, rows)
    assert len(ids) == len(set(ids)) == 2500 and ids == sorted(ids)
    stored = {e.pk: e for e in AuditEvent.objects.filter(pk__in=ids)}
    for pk, row in zip(ids, rows, strict=True):
        event = stored[pk]
        assert (event.seq, event.at, event.object_id, event.data, event.hash) == (
            row[0], row[1], row[5], row[6], row[8]
        )  # fmt: skip
        # Left out, so as the ORM would write them: the model's defaults.
        assert (event.actor_id, event.from_state, event.reason) == (None, "", "")
    assert insert_rows(AuditEvent, fields, []) == []


def test_the_sequence_moves_on_past_the_rows(world):
    """Rows saved through the ORM afterwards get fresh ids: COPY drew them from the sequence."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ids = insert_rows(PublicationDue, ["at", "application_id"], [(at, n) for n in range(3)])
    later = PublicationDue.objects.create(at=at)
    assert later.pk > max(ids)
    assert list(PublicationDue.objects.filter(pk__in=ids).values_list("reason", "application_id")) == [
        ("", 0), ("", 1), ("", 2)
    ]  # fmt: skip


def test_a_refused_row_writes_nothing(world):
    at = datetime(2026, 1, 1, tzinfo=UTC)
    before = PublicationDue.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(PublicationDue, ["at", "reason"], [(at, "fine"), (None, "no time")])
    assert PublicationDue.objects.count() == before
