"""The registrant's export: everything held about its own organisation, to its own members only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.auth import login
from tests.http import as_json, body
from tests.workflow import approved, draft
from vpnregistry.applications import services
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.models import Registration
from vpnregistry.restrictions.complaints import complaint_file
from vpnregistry.restrictions.services import event_create
from vpnregistry.restrictions.statements import statement_issue

CNIC, NTN = "35202-1234567-1", "1234567-8"


@pytest.fixture
def held(world, django_capture_on_commit_callbacks):
    world.org.cnic, world.org.ntn = CNIC, NTN
    world.org.save()
    world.other_org.cnic = "42101-7654321-2"
    world.other_org.save()
    application = approved(world, "14.1.105.0/24", "14.1.106.0/24")
    services.application_submit(actor=world.applicant, application=draft(world, "14.1.107.0/24"))
    approved(world, "27.0.184.0/24", user=world.other_applicant)
    registration = Registration.objects.filter(resource__application=application).order_by("pk").first()
    event = event_create(
        actor=world.officer,
        title="Polling day",
        legal_reference="Order 1",
        starts_at=timezone.now() - timedelta(minutes=5),
        ends_at=timezone.now() + timedelta(hours=1),
        services=["mobile-data"],
        national=True,
        publish=True,
    )
    complaint = complaint_file(
        actor=world.applicant,
        registration=registration,
        event=event,
        happened_at=timezone.now(),
        description="blocked at 09:05",
        service="mobile-data",
    )
    statement = statement_issue(actor=world.applicant, event=event)
    return {
        "application": application,
        "registration": registration,
        "complaint": complaint,
        "statement": statement,
    }


def test_the_export_holds_everything_about_the_organisation(world, held):
    response = world.client(world.applicant).get("/api/v1/organisation/export/")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    doc = as_json(response)
    assert doc["format"] == "vpnregistry-organisation-export/1"
    assert doc["organisation"]["name"] == "Ravi Software"
    assert doc["organisation"]["cnic"] == CNIC and doc["organisation"]["ntn"] == NTN
    assert [m["username"] for m in doc["members"]] == ["applicant"]
    assert all("password" not in m for m in doc["members"])
    assert b"md5$" not in body(world.client(world.applicant).get("/api/v1/organisation/export/"))
    apps = {a["id"]: a for a in doc["applications"]}
    assert len(apps) == 2
    done = apps[held["application"].pk]
    assert sorted(r["value"] for r in done["resources"]) == ["14.1.105.0/24", "14.1.106.0/24"]
    assert all(r["attestations"][0]["decision"] == "approve" for r in done["resources"])
    assert [rv["stage"] for rv in done["reviews"]] == ["agency", "decision"]
    regs = {r["reference"]: r for r in doc["registrations"]}
    assert len(regs) == 2 and regs[held["registration"].reference]["active_periods"]
    assert [c["id"] for c in doc["complaints"]] == [held["complaint"].pk]
    assert doc["complaints"][0]["messages"][0]["text"] == "blocked at 09:05"
    assert [s["id"] for s in doc["exemption_statements"]] == [str(held["statement"].pk)]
    objects = {e["object"] for e in doc["audit_events"]}
    assert f"application:{held['application'].pk}" in objects
    assert f"registration:{held['registration'].pk}" in objects
    assert f"complaint:{held['complaint'].pk}" in objects
    assert f"organisation:{world.org.pk}" in objects  # the export itself is recorded
    # Nothing of the other organisation.
    assert "27.0.184.0/24" not in str(doc) and "42101-7654321-2" not in str(doc)
    assert "Other Software" not in str(doc)


def test_the_export_is_audited(world, held):
    world.client(world.applicant).get("/api/v1/organisation/export/")
    event = AuditEvent.objects.filter(action="organisation.export").get()
    assert event.actor == world.applicant and event.object_id == str(world.org.pk)


def test_another_organisation_gets_only_its_own(world, held):
    doc = as_json(world.client(world.other_applicant).get("/api/v1/organisation/export/"))
    assert doc["organisation"]["name"] == "Other Software"
    assert [r["value"] for a in doc["applications"] for r in a["resources"]] == ["27.0.184.0/24"]
    text = str(doc)
    assert CNIC not in text and NTN not in text and "14.1.105.0/24" not in text
    assert not doc["complaints"] and not doc["exemption_statements"]


@pytest.mark.parametrize("who", ["agency", "operator", "officer", "auditor"])
def test_every_other_role_is_refused(world, held, who):
    user = getattr(world, who)
    response = world.client(user).get("/api/v1/organisation/export/")
    assert response.status_code == 403 and CNIC not in response.content.decode()
    portal = login(Client(), user)
    assert portal.get("/organisation/export/").status_code == 403
    assert portal.get("/organisation/").status_code == 403
    assert not AuditEvent.objects.filter(action="organisation.export").exists()


def test_anonymous_is_refused(world, held):
    assert world.client(None).get("/api/v1/organisation/export/").status_code == 401
    response = Client().get("/organisation/export/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_portal_download_is_the_same_document(world, held):
    portal = login(Client(), world.applicant)
    doc = as_json(portal.get("/organisation/export/"))
    assert doc["organisation"]["cnic"] == CNIC and len(doc["applications"]) == 2


def test_queries_do_not_grow_with_the_number_of_resources(world, django_capture_on_commit_callbacks):
    draft(world, "14.1.105.0/24")
    with CaptureQueriesContext(connection) as few:
        b"".join(world.client(world.applicant).get("/api/v1/organisation/export/").streaming_content)
    values = [f"14.1.{104 + i // 256}.{i % 256}/32" for i in range(40)]
    services.application_create(
        actor=world.freelancer_applicant,
        resources=[{"value": v, "subscriber_id": "S"} for v in values],
    )
    with CaptureQueriesContext(connection) as many:
        doc = as_json(world.client(world.freelancer_applicant).get("/api/v1/organisation/export/"))
    assert len(doc["applications"][0]["resources"]) == 40
    assert len(many) <= len(few) + 2, (len(few), len(many))
