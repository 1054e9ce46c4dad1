"""Invariant 3 held by PostgreSQL itself: overlapping active registrations of two organisations are refused
by an exclusion constraint, whatever code path writes them; a race that reaches it is the usual refusal."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from tests.workflow import approved, to_decision
from vpnregistry.applications import services
from vpnregistry.errors import WrongState
from vpnregistry.registrations.models import Registration

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="exclusion constraints exist on PostgreSQL only"
)


def _registration(application) -> Registration:
    return Registration.objects.get(resource__application=application)


def test_an_overlapping_row_written_around_the_services_is_refused(world):
    mine = _registration(approved(world, "14.1.105.0/24"))
    theirs = _registration(approved(world, "14.1.106.0/24", user=world.other_applicant))
    with pytest.raises(IntegrityError), transaction.atomic():
        # 14.1.105.128/25, inside the first organisation's /24.
        Registration.objects.filter(pk=theirs.pk).update(
            value="14.1.105.128/25", first=mine.first[:-2] + "80", last=mine.last
        )
    # The same organisation may overlap itself, and an inactive row may overlap anything.
    also_mine = _registration(approved(world, "14.1.107.0/24"))
    Registration.objects.filter(pk=also_mine.pk).update(first=mine.first, last=mine.last)
    Registration.objects.filter(pk=theirs.pk).update(state="revoked")
    Registration.objects.filter(pk=theirs.pk).update(first=mine.first, last=mine.last)


def test_the_same_mobile_number_active_for_two_organisations_is_refused(world):
    mine = _registration(approved(world, "14.1.105.0/24"))
    theirs = _registration(approved(world, "14.1.106.0/24", user=world.other_applicant))
    number = {"kind": "msisdn", "value": "+923001234567", "family": None, "first": "", "last": ""}
    Registration.objects.filter(pk=mine.pk).update(**number)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=theirs.pk).update(**number)


def test_an_approval_that_races_into_the_constraint_is_the_usual_refusal(world, monkeypatch):
    second = to_decision(world, "14.1.105.0/25", user=world.other_applicant)
    approved(world, "14.1.105.0/24")
    # As if the overlapping registration had been written after the check: only the database sees it.
    monkeypatch.setattr(services, "_clash", lambda resource, organisation: "")
    with pytest.raises(WrongState, match="another organisation"):
        services.decide_application(actor=world.officer, application=second, decision="approve")
    second.refresh_from_db()
    assert second.state == "awaiting_decision"
    assert Registration.objects.filter(organisation=world.other_org).count() == 0
