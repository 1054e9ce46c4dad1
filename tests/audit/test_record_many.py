"""`record_many` appends, in one go, exactly the records `record` would append one by one."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import record, record_many, verify_chain

FIELDS = [
    "seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "from_state", "to_state", "reason", "data", "prev_hash", "hash",
]  # fmt: skip


class Undo(Exception):
    pass


def stored(events):
    return [AuditEvent.objects.filter(seq=e.seq).values(*FIELDS).get() for e in events]


def test_record_many_writes_byte_for_byte_what_record_would(world):
    record(actor=world.officer, action="setup", object_type="thing", object_id="1")
    at = datetime(2026, 3, 1, 4, 5, 6, 789012, tzinfo=UTC)
    events = [
        {
            "actor": world.officer,
            "action": "registration.import",
            "obj": world.org,
            "to_state": "active",
            "at": at,
            "data": {"value": "14.1.104.0/24", "line": 2, "cnic": "35202-1234567-1"},
        },
        {"actor": None, "action": "sweep", "object_type": "thing", "object_id": "7", "reason": "r", "at": at},
        {"actor": world.applicant, "action": "x", "obj": world.org, "from_state": "a", "to_state": "b"},
    ]
    try:
        with transaction.atomic():
            many = stored(record_many(events))
            assert verify_chain().ok
            raise Undo
    except Undo:
        pass
    events[2]["at"] = many[2]["at"]  # left to record_many to stamp: the same time, the same record
    one_by_one = stored([record(**event) for event in events])
    assert many == one_by_one
    assert [e["seq"] for e in many] == [2, 3, 4]
    assert many[0]["data"]["cnic"] != "35202-1234567-1"  # masked, as record masks it
    assert verify_chain().ok


def test_record_many_of_nothing_writes_nothing(world):
    assert record_many([]) == []
    assert not AuditEvent.objects.exists()
