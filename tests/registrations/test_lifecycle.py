"""The registration lifecycle: each step, who may take it, and what it does to the allowlist and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from tests.workflow import registration
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.publication import sweep
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.registrations.services import registration_change_state
from vpnregistry.restrictions import exemptions


def published(snapshot=None):
    import json

    snapshot = snapshot or Snapshot.objects.latest()
    return json.loads(snapshot.content)["ipv4"]


def step(actor, reg, name, reason="because"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return registration_change_state(actor=actor, registration=reg, step=name, reason=reason)


def test_suspend_and_reinstate_follow_through_to_allowlist_and_history(world):
    reg = registration(world)
    assert published() == ["14.1.105.0/24"]
    before = timezone.now()
    step(world.officer, reg, "suspend", "court order")
    assert published() == []
    assert exemptions.check_one("14.1.105.1", timezone.now()).exempt is False
    assert exemptions.check_one("14.1.105.1", before).exempt is True  # the past stays as it was
    step(world.officer, reg, "reinstate", "order lifted")
    assert published() == ["14.1.105.0/24"]
    assert ActivePeriod.objects.filter(registration=reg).count() == 2
    actions = list(
        AuditEvent.objects.filter(object_type="registration", object_id=str(reg.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["registration.create", "registration.suspend", "registration.reinstate"]


def test_revoke_is_final(world):
    reg = registration(world)
    step(world.officer, reg, "revoke", "fraudulent documents")
    with pytest.raises(WrongState):
        step(world.officer, reg, "reinstate", "oops")
    assert Registration.objects.get(pk=reg.pk).state == "revoked"


def test_reasons_and_roles_are_required(world):
    reg = registration(world)
    with pytest.raises(InvalidInput):
        registration_change_state(actor=world.officer, registration=reg, step="suspend", reason=" ")
    for user in (world.applicant, world.agency, world.operator, world.auditor):
        with pytest.raises(NotAllowed):
            registration_change_state(actor=user, registration=reg, step="revoke", reason="x")
    with pytest.raises(NotAllowed):
        registration_change_state(actor=world.other_applicant, registration=reg, step="surrender")
    with pytest.raises(NotAllowed):
        registration_change_state(
            actor=world.other_operator, registration=reg, step="report-unassigned", reason="x"
        )


def test_holder_surrenders_and_operator_reports_unassigned(world):
    mine = registration(world)
    step(world.applicant, mine, "surrender", "")
    assert Registration.objects.get(pk=mine.pk).state == "surrendered"
    other = registration(world, "14.1.106.0/24")
    step(world.operator, other, "report-unassigned", "customer moved")
    other.refresh_from_db()
    assert other.state == "suspended" and other.state_reason == "customer moved"
    assert published() == []


def test_reinstating_into_space_taken_meanwhile_is_refused(world):
    reg = registration(world)
    step(world.officer, reg, "suspend", "check")
    registration(world, "14.1.105.128/25", user=world.other_applicant)
    with pytest.raises(WrongState, match="overlaps"):
        step(world.officer, reg, "reinstate", "fine")


def test_sweep_expires_reminds_once_and_republishes(world):
    reg = registration(world)
    soon = registration(world, "14.1.106.0/24")
    Registration.objects.filter(pk=soon.pk).update(valid_until=timezone.now() + timedelta(days=6))
    mail.outbox.clear()
    report = sweep()
    assert (soon.reference, 30) in report.reminded and (soon.reference, 7) in report.reminded
    assert len(mail.outbox) == 2
    again = sweep()
    assert again.reminded == [] and again.expired == [] and again.published_serial is None
    later = reg.valid_until + timedelta(seconds=1)
    report = sweep(now=later)
    assert set(report.expired) == {reg.reference, soon.reference}
    assert Registration.objects.filter(state="expired").count() == 2
    assert published() == [] and report.published_serial is not None


def test_lifecycle_over_the_api(world):
    reg = registration(world)
    api = world.client(world.officer)
    r = api.post(f"/api/v1/registrations/{reg.pk}/suspend/", {"reason": "audit"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "suspended"
    assert (
        api.post(f"/api/v1/registrations/{reg.pk}/suspend/", {"reason": "x"}, format="json").status_code
        == 409
    )
    assert api.post(f"/api/v1/registrations/{reg.pk}/reinstate/", {}, format="json").status_code == 400
    assert world.client(world.other_applicant).get(f"/api/v1/registrations/{reg.pk}/").status_code == 404
    assert world.client(world.other_operator).get(f"/api/v1/registrations/{reg.pk}/").status_code == 404
    assert world.client(world.agency).get("/api/v1/registrations/").json()["results"] == []
    mine = world.client(world.applicant).get("/api/v1/registrations/").json()["results"]
    assert [m["reference"] for m in mine] == [reg.reference]
    assert (
        world.client(world.applicant)
        .post(f"/api/v1/registrations/{reg.pk}/revoke/", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
