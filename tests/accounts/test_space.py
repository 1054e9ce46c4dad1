"""Operators' changes to their own address space: proposal, approval, rejection, and every refusal."""

from __future__ import annotations

import ipaddress

import pytest
from django.http import Http404
from django.test import Client

from tests.auth import login
from tests.workflow import approved
from vpnregistry.accounts.models import AddressSpace, AddressSpaceChange
from vpnregistry.accounts.selectors import operator_for_network
from vpnregistry.audit.models import AuditEvent
from vpnregistry.db import visible_or_404
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.registrations import space

NEW = "103.4.92.0/22"


def held_by(prefix):
    return operator_for_network(ipaddress.ip_network(prefix))


def test_an_added_prefix_joins_the_space_once_an_officer_approves(world):
    change = space.space_change_propose(
        actor=world.operator, action="add", prefix=NEW, note="new POP in Multan"
    )
    assert change.state == "pending" and change.operator == world.indus and change.prefix == NEW
    assert held_by("103.4.93.0/24") is None  # not before the approval
    space.space_change_approve(actor=world.officer, change=change)
    change.refresh_from_db()
    assert change.state == "approved" and change.decided_by == world.officer
    assert held_by("103.4.93.0/24") == world.indus
    actions = list(
        AuditEvent.objects.filter(object_id=str(change.pk), object_type="addressspacechange").values_list(
            "action", flat=True
        )
    )
    assert actions == ["space.propose", "space.approve"]
    with pytest.raises(WrongState):
        space.space_change_approve(actor=world.officer, change=change)
    with pytest.raises(WrongState):
        space.space_change_reject(actor=world.officer, change=change, reason="late")


def test_a_rejection_needs_a_reason_and_changes_nothing(world):
    change = space.space_change_propose(actor=world.operator, action="add", prefix=NEW)
    with pytest.raises(InvalidInput):
        space.space_change_reject(actor=world.officer, change=change, reason=" ")
    space.space_change_reject(actor=world.officer, change=change, reason="Not assigned to you by the RIR.")
    change.refresh_from_db()
    assert change.state == "rejected" and change.reason == "Not assigned to you by the RIR."
    assert held_by("103.4.93.0/24") is None


def test_a_prefix_is_removed_from_the_space(world):
    AddressSpace.objects.create(operator=world.indus, **_keys(NEW))
    change = space.space_change_propose(actor=world.operator, action="remove", prefix=NEW)
    space.space_change_approve(actor=world.officer, change=change)
    assert held_by("103.4.93.0/24") is None


def _keys(prefix):
    row = AddressSpace()
    row.set_network(ipaddress.ip_network(prefix))
    return {"prefix": row.prefix, "family": row.family, "first": row.first, "last": row.last}


@pytest.mark.parametrize(
    "action, prefix, why",
    [
        ("add", "14.192.128.0/24", "another operator"),  # inside the other operator's space
        ("add", "14.0.0.0/8", "another operator"),  # around it
        ("add", "14.1.104.0/24", "already in your space"),
        ("add", "10.0.0.0/16", "private"),
        ("add", "103.4.92.1/22", "103.4.92.0/22"),  # host bits set: names the network meant
        ("add", "nonsense", ""),
        ("add", "2.0.0.0/7", "broader"),
        ("remove", "103.4.92.0/22", "not one of the prefixes"),
        ("remove", "14.192.128.0/19", "not one of the prefixes"),  # the other operator's
        ("move", NEW, ""),
    ],
)
def test_refusals_of_a_proposal(world, action, prefix, why):
    with pytest.raises(InvalidInput) as exc:
        space.space_change_propose(actor=world.operator, action=action, prefix=prefix)
    assert why in " ".join(str(m) for ms in exc.value.errors.values() for m in ms)
    assert not AddressSpaceChange.objects.exists()


def test_a_prefix_with_a_standing_registration_is_not_removed(world):
    approved(world, "14.1.105.0/24")
    with pytest.raises(InvalidInput) as exc:
        space.space_change_propose(actor=world.operator, action="remove", prefix="14.1.104.0/22")
    assert "report it unassigned first" in exc.value.errors["prefix"][0]


def test_the_same_pending_change_twice_is_refused(world):
    space.space_change_propose(actor=world.operator, action="add", prefix=NEW)
    with pytest.raises(InvalidInput):
        space.space_change_propose(actor=world.operator, action="add", prefix=NEW)


def test_an_overlap_that_appeared_since_the_proposal_stops_the_approval(world):
    mine = space.space_change_propose(actor=world.operator, action="add", prefix=NEW)
    theirs = space.space_change_propose(actor=world.other_operator, action="add", prefix="103.4.93.0/24")
    space.space_change_approve(actor=world.officer, change=theirs)
    with pytest.raises(WrongState) as exc:
        space.space_change_approve(actor=world.officer, change=mine)
    assert "another operator" in exc.value.message
    mine.refresh_from_db()
    assert mine.state == "pending" and held_by("103.4.92.0/24") is None


def test_roles(world):
    for outsider in (world.applicant, world.agency, world.officer, world.auditor):
        with pytest.raises(NotAllowed):
            space.space_change_propose(actor=outsider, action="add", prefix=NEW)
    change = space.space_change_propose(actor=world.operator, action="add", prefix=NEW)
    for not_officer in (world.operator, world.other_operator, world.auditor, world.applicant):
        with pytest.raises(NotAllowed):
            space.space_change_approve(actor=not_officer, change=change)
        with pytest.raises(NotAllowed):
            space.space_change_reject(actor=not_officer, change=change, reason="no")
    # Another operator's changes are out of sight; officers and auditors see all.
    with pytest.raises(Http404):
        visible_or_404(AddressSpaceChange.objects.visible_to(world.other_operator), change.pk)
    assert not AddressSpaceChange.objects.visible_to(world.other_operator).exists()
    assert not AddressSpaceChange.objects.visible_to(world.applicant).exists()
    assert visible_or_404(AddressSpaceChange.objects.visible_to(world.auditor), change.pk) == change


def test_api_and_portal(world):
    operator = world.client(world.operator)
    created = operator.post("/api/v1/space-changes/", {"action": "add", "prefix": NEW}, format="json")
    assert created.status_code == 201 and created.json()["state"] == "pending"
    pk = created.json()["id"]
    refused = operator.post(
        "/api/v1/space-changes/", {"action": "add", "prefix": "14.192.128.0/24"}, format="json"
    )
    assert refused.status_code == 400 and "prefix" in refused.json()
    assert world.client(world.other_operator).get(f"/api/v1/space-changes/{pk}/").status_code == 404
    assert world.client(world.other_operator).post(f"/api/v1/space-changes/{pk}/approve/").status_code == 404
    assert operator.post(f"/api/v1/space-changes/{pk}/approve/").status_code == 403
    officer = world.client(world.officer)
    assert officer.post(f"/api/v1/space-changes/{pk}/reject/", {}, format="json").status_code == 400
    assert officer.post(f"/api/v1/space-changes/{pk}/approve/", {}, format="json").status_code == 200
    assert held_by("103.4.93.0/24") == world.indus

    portal = Client()
    login(portal, world.operator)
    assert portal.post("/space/", {"action": "remove", "prefix": NEW}).status_code == 302
    page = portal.get("/space/?state=all")
    assert page.status_code == 200 and NEW.encode() in page.content
    bad = portal.post("/space/", {"action": "add", "prefix": "10.0.0.0/8"})
    assert bad.status_code == 400 and b'aria-invalid="true"' in bad.content
    change = AddressSpaceChange.objects.get(action="remove")
    officer_portal = Client()
    login(officer_portal, world.officer)
    assert b"Approve" in officer_portal.get("/space/").content  # pending ones first
    officer_portal.post(f"/space/{change.pk}/decide/", {"decision": "reject", "reason": "Still in use."})
    change.refresh_from_db()
    assert change.state == "rejected"
    assert held_by("103.4.93.0/24") == world.indus
