"""Invariant 3 held by PostgreSQL itself: overlapping active registrations of two organisations are refused
by an exclusion constraint, whatever code path writes them; a race that reaches it is the usual refusal."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from tests.workflow import approved, to_decision
from vpnregistry.applications import services
from vpnregistry.applications.services import decision
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
    monkeypatch.setattr(decision, "_clash", lambda resource, organisation: "")
    with pytest.raises(WrongState, match="another organisation"):
        services.application_decide(actor=world.officer, application=second, decision="approve")
    second.refresh_from_db()
    assert second.state == "awaiting_decision"
    assert Registration.objects.filter(organisation=world.other_org).count() == 0


@pytest.mark.django_db
def test_keys_become_the_numbers_they_write():
    """The constraint compares keys as numbers (migration 0011): all 128 bits, none signed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT registration_key_number(%s), registration_key_number(%s), registration_key_number(%s)",
            ["0" * 24 + "0e010000", "f" * 32, "8" + "0" * 31],
        )
        assert cursor.fetchone() == (0x0E010000, 2**128 - 1, 2**127)
        cursor.execute(
            "SELECT registration_key_range(%s, %s), registration_key_number(%s)",
            ["2" * 32, "1" * 32, "z" * 32],
        )
        assert cursor.fetchone() == (None, None)  # backwards, or not a key: no range
        cursor.execute(
            "SELECT upper(registration_v4_range(%s, %s)), registration_v4_range(%s, %s)",
            ["0" * 24 + "0e010000", "0" * 24 + "ffffffff", "0" * 23 + "1" + "0" * 8, "0" * 24 + "ffffffff"],
        )
        assert cursor.fetchone() == (2**32, None)  # [first, last] as [first, last + 1); beyond IPv4: none
        # Hex digits of either case are a key; 31 or 33 digits, a space or a "g" are not (migration 0012).
        cursor.execute(
            "SELECT registration_key_number(%s), registration_key_number(%s), registration_key_number(%s), "
            "registration_key_number(%s), lower(registration_v4_range(%s, %s)), "
            "registration_v4_range(%s, %s)",
            ["F" * 32, "0" * 31, "0" * 33, " " + "0" * 31, "0" * 24 + "ABCDEF01", "0" * 24 + "abcdef01",
             "0" * 24 + "0e01000g", "0" * 24 + "0e010000"],
        )  # fmt: skip
        assert cursor.fetchone() == (2**128 - 1, None, None, None, 0xABCDEF01, None)


def test_ipv6_overlaps_at_the_top_of_the_space_are_refused_and_neighbours_are_not(world):
    mine = _registration(approved(world, "14.1.105.0/24"))
    theirs = _registration(approved(world, "14.1.106.0/24", user=world.other_applicant))
    top = {"family": 6, "kind": "ipv6"}
    # ffff:...:/112 for the first organisation; the second takes the /112 just below it, then inside it.
    Registration.objects.filter(pk=mine.pk).update(
        **top, value="ffff::/112", first="ffff" + "0" * 28, last="ffff" + "0" * 24 + "ffff"
    )
    Registration.objects.filter(pk=theirs.pk).update(
        **top, value="fffe:ffff:ffff:ffff:ffff:ffff:ffff:0/112", first="f" * 3 + "e" + "f" * 24 + "0000",
        last="f" * 3 + "e" + "f" * 28,
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=theirs.pk).update(
            value="ffff::8000/113", first="ffff" + "0" * 24 + "8000", last="ffff" + "0" * 24 + "ffff"
        )
