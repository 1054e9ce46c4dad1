"""DESIGN.md's invariants, each pinned by a test named after it."""

from __future__ import annotations

import ipaddress
import json

import pytest
from django.db import connection

from tests.workflow import approved, draft, to_decision
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.services import publish_snapshot
from vpnregistry.applications import services
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import verify_chain
from vpnregistry.errors import InvalidInput, WrongState
from vpnregistry.netblocks import special_purpose
from vpnregistry.registrations.models import Registration


def _published(snapshot) -> list:
    doc = json.loads(snapshot.content)
    return [ipaddress.ip_network(p) for p in doc["ipv4"] + doc["ipv6"]]


def test_invariant_1_only_active_registrations_are_published(world):
    approved(world, "14.1.105.0/24")
    approved(world, "14.1.106.0/24")
    Registration.objects.filter(value="14.1.106.0/24").update(state=Registration.State.SUSPENDED)
    snapshot = publish_snapshot()
    assert _published(snapshot) == [ipaddress.ip_network("14.1.105.0/24")]
    active = [ipaddress.ip_network(r.value) for r in Registration.objects.filter(state="active")]
    for net in _published(snapshot):
        assert any(net.subnet_of(a) or net == a for a in active) or all(
            any(sub.subnet_of(a) for a in active) for sub in net.subnets(new_prefix=24)
        )


@pytest.mark.parametrize(
    "value",
    [
        "10.0.0.0/24",
        "127.0.0.0/24",
        "169.254.1.0/24",
        "224.0.0.0/24",
        "192.0.2.0/24",
        "100.64.0.0/24",
        "198.18.0.0/24",
        "240.0.0.0/24",
        "0.0.0.0/0",
        "::/0",
        "fe80::/64",
        "2001:db8::/48",
        "14.1.0.0/16",
        "2001:dd8::/32",
    ],
)
def test_invariant_2_special_purpose_or_broad_space_is_never_accepted(world, value):
    with pytest.raises(InvalidInput):
        draft(world, value)


def test_invariant_2_nothing_published_is_special_purpose(world):
    approved(world, "14.1.105.0/24", "2001:dd8:1c:1::/64")
    for net in _published(Snapshot.objects.latest()):
        assert special_purpose(net) is None
        assert net.prefixlen >= (24 if net.version == 4 else 48)


def test_invariant_3_other_organisations_cannot_overlap(world):
    approved(world, "14.1.105.0/24")
    # Entry does not tell whether somebody holds it (docs/privacy.md); the approval refuses it.
    held = to_decision(world, "14.1.105.7", user=world.other_applicant)
    with pytest.raises(WrongState, match="registered to another organisation"):
        services.application_decide(actor=world.officer, application=held, decision="approve")
    assert Registration.objects.filter(organisation=world.other_org).count() == 0
    # The same organisation may hold overlapping registrations (a renewal, say).
    draft(world, "14.1.105.0/25")


def test_invariant_3_second_of_two_overlapping_approvals_loses(world):
    first = to_decision(world, "14.1.105.0/24")
    second = to_decision(world, "14.1.105.128/25", user=world.other_applicant)
    services.application_decide(actor=world.officer, application=first, decision="approve")
    with pytest.raises(WrongState):
        services.application_decide(actor=world.officer, application=second, decision="approve")
    second.refresh_from_db()
    assert second.state == "awaiting_decision"
    assert Registration.objects.count() == 1


def test_invariant_4_parsing_is_strict(world):
    for value in ["014.1.105.0/24", "0x0e.1.105.0/24", "14.1.105.1/24"]:
        with pytest.raises(InvalidInput):
            draft(world, value)
    assert draft(world, "::ffff:14.1.105.0/120").resources.get().value == "14.1.105.0/24"


def test_invariant_5_serials_only_grow(world):
    approved(world, "14.1.105.0/24")
    approved(world, "14.1.106.0/24")
    assert publish_snapshot() is None  # nothing changed, no new serial
    forced = publish_snapshot(force=True)
    serials = list(Snapshot.objects.order_by("id").values_list("serial", flat=True))
    assert serials == sorted(serials) and len(set(serials)) == len(serials)
    assert forced.serial == serials[-1]
    assert len({s.session for s in Snapshot.objects.all()}) == 1


def test_invariant_7_audit_chain_verifies_and_detects_an_edit(world):
    approved(world, "14.1.105.0/24")
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count()
    with pytest.raises(PermissionError):
        AuditEvent.objects.first().save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    victim = AuditEvent.objects.order_by("seq")[2]
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET reason = %s WHERE id = %s", ["forged", victim.id])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == victim.seq


def test_invariant_7_deleted_record_is_detected(world):
    approved(world, "14.1.105.0/24")
    victim = AuditEvent.objects.order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [victim.id])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == victim.seq


def test_invariant_8_rejected_request_changes_nothing(world):
    approved(world, "14.1.105.0/24")
    counts = [m.objects.count() for m in (AuditEvent, Registration, Snapshot)]
    with pytest.raises(InvalidInput):
        draft(world, "14.1.106.0/24", "10.0.0.0/8")
    assert [m.objects.count() for m in (AuditEvent, Registration, Snapshot)] == counts
