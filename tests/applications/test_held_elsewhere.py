"""A resource another organisation holds: not refused at entry (no oracle), shown to its reviewers,
rejected at review, never approved; and the hourly limit on resources an organisation enters."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.auth import login
from tests.workflow import approved, draft, to_decision
from vpnregistry.applications import bulk, services
from vpnregistry.applications.selectors import conflicts_shown
from vpnregistry.errors import TooMany, WrongState


def test_entry_answers_the_same_whether_or_not_a_resource_is_held(world):
    approved(world, "14.1.105.0/24")
    held = draft(world, "14.1.105.7", user=world.other_applicant)
    free = draft(world, "14.1.106.7", user=world.other_applicant)
    assert held.state == free.state == "draft"
    # Submission checks the resources again, and again says nothing.
    services.application_submit(actor=world.other_applicant, application=held)
    assert conflicts_shown(world.other_applicant, held) == []


def test_reviewers_see_the_holder_and_reject_it(world):
    approved(world, "14.1.105.0/24")
    held = to_decision(world, "14.1.105.7", user=world.other_applicant)
    for user in (world.agency, world.officer):
        (conflict,) = conflicts_shown(user, held)
        assert (conflict.resource, conflict.value, conflict.organisation) == (
            "14.1.105.7/32",
            "14.1.105.0/24",
            "Ravi Software",
        )
    for user in (world.other_applicant, world.operator, world.auditor):
        assert conflicts_shown(user, held) == []
    api = world.client(world.officer).get(f"/api/v1/applications/{held.pk}/").json()
    assert api["conflicts"][0]["organisation"] == "Ravi Software"
    own = world.client(world.other_applicant).get(f"/api/v1/applications/{held.pk}/").json()
    assert own["conflicts"] == [] and "Ravi" not in str(own)
    page = login(Client(), world.officer).get(f"/applications/{held.pk}/").content.decode()
    assert 'id="conflicts"' in page and "Ravi Software" in page
    page = login(Client(), world.other_applicant).get(f"/applications/{held.pk}/").content.decode()
    assert 'id="conflicts"' not in page and "Ravi Software" not in page
    # The officer cannot approve it, and rejects it with the reason from the list.
    with pytest.raises(WrongState, match="cannot be approved"):
        services.application_decide(actor=world.officer, application=held, decision="approve")
    services.application_decide(
        actor=world.officer, application=held, decision="reject", reason="held", reason_code="overlap"
    )
    held.refresh_from_db()
    assert held.state == "rejected" and held.rejection_reason.code == "overlap"


@pytest.fixture
def limited(settings):
    settings.RESOURCES_PER_HOUR = 5
    cache.clear()
    yield
    cache.clear()


def test_resources_entered_an_hour_are_limited_per_organisation(world, limited):
    draft(world, "14.1.105.1", "14.1.105.2", "14.1.105.3")
    with pytest.raises(TooMany, match="at most 5 resources an hour") as exc:
        draft(world, "14.1.105.4", "14.1.105.5", "14.1.105.6")
    assert 0 < exc.value.retry_after <= 3600
    # A refused request is not counted; another organisation has its own count.
    draft(world, "14.1.105.4", "14.1.105.5")
    draft(world, "14.1.106.1", "14.1.106.2", "14.1.106.3", user=world.other_applicant)
    with pytest.raises(TooMany):
        draft(world, "14.1.105.9")


def test_every_row_of_a_csv_counts_and_the_api_says_429(world, limited):
    rows = "".join(f"14.1.105.{i},S\n" for i in range(1, 7))
    with pytest.raises(TooMany):
        bulk.application_create_from_csv(actor=world.applicant, data="value,subscriber_id\n" + rows)
    response = world.client(world.applicant).post(
        "/api/v1/applications/",
        {"resources": [{"value": f"14.1.105.{i}", "subscriber_id": "S"} for i in range(1, 7)]},
        format="json",
    )
    assert response.status_code == 429 and "5 resources an hour" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    page = login(Client(), world.applicant).post(
        "/applications/new/csv/", {"text": "value,subscriber_id\n" + rows}
    )
    assert "5 resources an hour" in page.content.decode()
