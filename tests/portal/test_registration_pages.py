"""Registration pages: who sees which, and the lifecycle steps from the portal."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase

from tests.auth import login
from tests.workflow import approved
from vpnregistry.registrations.models import Registration


@pytest.fixture
def registration(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = approved(world, "14.1.105.0/24")
    return Registration.objects.get(resource__application=application)


def as_user(user) -> Client:
    return login(Client(), user)


def test_holder_sees_own_registrations_and_another_organisation_does_not(world, registration):
    page = as_user(world.applicant).get("/registrations/").content.decode()
    assert registration.reference in page and "14.1.105.0/24" in page
    other = as_user(world.other_applicant)
    assert registration.reference not in other.get("/registrations/").content.decode()
    assert other.get(f"/registrations/{registration.pk}/").status_code == 404
    assert as_user(world.other_operator).get(f"/registrations/{registration.pk}/").status_code == 404
    assert as_user(world.agency).get("/registrations/").status_code == 404


def test_search_by_reference_or_value_and_state(world, registration):
    client = as_user(world.officer)
    assert (
        registration.reference in client.get(f"/registrations/?q={registration.reference}").content.decode()
    )
    assert registration.reference in client.get("/registrations/?q=14.1.105.0/24").content.decode()
    assert registration.reference not in client.get("/registrations/?q=14.1.106.0/24").content.decode()
    assert registration.reference not in client.get("/registrations/?state=revoked").content.decode()


def test_each_role_is_offered_only_its_own_steps(world, registration):
    url = f"/registrations/{registration.pk}/"
    holder = as_user(world.applicant).get(url).content.decode()
    assert "/surrender/" in holder and "/suspend/" not in holder and "/revoke/" not in holder
    officer = as_user(world.officer).get(url).content.decode()
    assert "/suspend/" in officer and "/revoke/" in officer and "/surrender/" not in officer
    assert "/reinstate/" not in officer  # only a suspended registration is reinstated
    operator = as_user(world.operator).get(url).content.decode()
    assert "/report-unassigned/" in operator and "/suspend/" not in operator
    auditor = as_user(world.auditor).get(url).content.decode()
    assert '<form method="post" action="/registrations/' not in auditor


def test_officer_suspends_with_a_reason_and_the_history_shows_it(world, registration):
    client = as_user(world.officer)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/registrations/{registration.pk}/suspend/", {"reason": "court order 12"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.state == "suspended"
    page = client.get(f"/registrations/{registration.pk}/").content.decode()
    assert "court order 12" in page and "registration.suspend" in page and "/reinstate/" in page


def test_a_step_without_its_reason_changes_nothing(world, registration):
    client = as_user(world.officer)
    response = client.post(f"/registrations/{registration.pk}/revoke/", {"reason": " "}, follow=True)
    registration.refresh_from_db()
    assert registration.state == "active"
    assert "reason" in response.content.decode()


def test_a_step_of_another_role_is_refused(world, registration):
    response = as_user(world.applicant).post(f"/registrations/{registration.pk}/revoke/", {"reason": "x"})
    assert response.status_code == 403
    registration.refresh_from_db()
    assert registration.state == "active"
    assert as_user(world.officer).post(f"/registrations/{registration.pk}/nonsense/").status_code == 404
