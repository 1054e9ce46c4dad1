"""Identifiers masked except to an application's reviewers, never in lists, logs or the audit log;
the registrant's export of everything held about its organisation."""

from __future__ import annotations

import json
import logging

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from tests.auth import login
from tests.http import as_json, body, text
from tests.workflow import approved, draft, to_decision
from vpnregistry.applications import services
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.models import Registration

CNIC, NTN, SECP, PSEB = "35202-1234567-1", "1234567-8", "0123456", "Z-10-12345/26"
MASKED_CNIC = "*****-*****67-1"
# Every way a full value could be written: dashed and bare.
FORMS = [CNIC, CNIC.replace("-", ""), NTN, NTN.replace("-", ""), SECP, PSEB]


def leaks(content: str | bytes) -> list[str]:
    content = content.decode() if isinstance(content, bytes) else content
    return [f for f in FORMS if f in content]


@pytest.fixture
def identified(world):
    org = world.org
    org.cnic, org.ntn, org.secp_number, org.pseb_number = CNIC, NTN, SECP, PSEB
    org.save()
    world.other_org.cnic, world.other_org.ntn = "42101-7654321-2", "7654321-0"
    world.other_org.save()
    return world


def _portal(user) -> Client:
    return login(Client(), user)  # staff with their TOTP step done


@pytest.mark.parametrize("who", ["agency", "officer"])
def test_reviewers_see_identifiers_in_full_on_the_detail(identified, who):
    world = identified
    application = to_decision(world, "14.1.105.0/24")
    user = getattr(world, who)
    api = as_json(world.client(user).get(f"/api/v1/applications/{application.pk}/"))
    assert api["identifiers"] == {
        "masked": False,
        "ntn": NTN,
        "secp_number": SECP,
        "pseb_number": PSEB,
        "cnic": CNIC,
    }
    page = text(_portal(user).get(f"/applications/{application.pk}/"))
    assert CNIC in page and NTN in page


@pytest.mark.parametrize("who", ["applicant", "operator", "auditor"])
def test_everyone_else_who_sees_the_application_sees_them_masked(identified, who):
    world = identified
    application = to_decision(world, "14.1.105.0/24")
    user = getattr(world, who)
    response = world.client(user).get(f"/api/v1/applications/{application.pk}/")
    assert response.status_code == 200
    assert as_json(response)["identifiers"]["cnic"] == MASKED_CNIC
    assert as_json(response)["identifiers"]["masked"] is True
    assert not leaks(body(response))
    page = _portal(user).get(f"/applications/{application.pk}/")
    assert page.status_code == 200 and MASKED_CNIC in text(page) and not leaks(body(page))


@pytest.mark.parametrize("who", ["other_applicant", "licensing_reviewer", "other_operator"])
def test_other_organisations_and_other_agencies_do_not_reach_the_application(identified, who):
    world = identified
    application = to_decision(world, "14.1.105.0/24")
    user = getattr(world, who)
    response = world.client(user).get(f"/api/v1/applications/{application.pk}/")
    assert response.status_code == 404 and not leaks(body(response))
    page = _portal(user).get(f"/applications/{application.pk}/")
    assert page.status_code == 404 and not leaks(body(page))


ROLES = ["applicant", "other_applicant", "agency", "operator", "officer", "officer2", "auditor"]
LISTS = [
    "/api/v1/applications/",
    "/api/v1/registrations/",
    "/api/v1/resources/",
    "/api/v1/complaints/",
    "/api/v1/me/",
]


def test_lists_never_carry_identifiers_for_anyone(identified, django_capture_on_commit_callbacks):
    world = identified
    approved(world, "14.1.105.0/24")
    to_decision(world, "14.1.106.0/24")
    services.application_submit(actor=world.applicant, application=draft(world, "14.1.107.0/24"))
    for who in ROLES:
        user = getattr(world, who)
        for url in LISTS:
            response = world.client(user).get(url)
            assert not leaks(body(response)), (who, url)
            if response.status_code == 200 and "results" in as_json(response):
                for item in as_json(response)["results"]:
                    assert "identifiers" not in item
        for url in ["/", "/applications/", "/complaints/", "/audit/", "/organisation/", "/statements/"]:
            assert not leaks(body(_portal(user).get(url))), (who, url)


def test_the_organisation_page_shows_its_own_identifiers_masked(identified):
    page = text(_portal(identified.applicant).get("/organisation/"))
    assert MASKED_CNIC in page and "*****67-8" in page and not leaks(page)
    assert "/organisation/export/" in page


def _walk_everything(world):
    """Every step with the identifiers in play: apply, review, attest, decide, suspend, export."""
    world.org.save()  # written again: its SQL and parameters are in the log
    applicant, agency, operator, officer = (
        world.client(u) for u in (world.applicant, world.agency, world.operator, world.officer)
    )
    app = as_json(
        applicant.post(
            "/api/v1/applications/",
            {"resources": [{"value": "14.1.105.0/24", "subscriber_id": "SUB-1"}]},
            format="json",
        )
    )
    pk = app["id"]
    applicant.post(f"/api/v1/applications/{pk}/submit/")
    agency.get(f"/api/v1/applications/{pk}/")  # identifiers in full, in the response only
    agency.post(f"/api/v1/applications/{pk}/verify/", {"decision": "approve"}, format="json")
    resource = as_json(operator.get("/api/v1/resources/"))["results"][0]
    operator.post(f"/api/v1/resources/{resource['id']}/attest/", {"decision": "approve"}, format="json")
    # A /24 takes the organisation past the fee threshold: another officer records the payment.
    world.client(world.officer2).post(
        f"/api/v1/applications/{pk}/payment/", {"reference": "PAY-1"}, format="json"
    )
    officer.get(f"/api/v1/applications/{pk}/")
    officer.post(f"/api/v1/applications/{pk}/decide/", {"decision": "approve", "reason": "ok"}, format="json")
    registration = Registration.objects.get(resource__application_id=pk)
    officer.post(f"/api/v1/registrations/{registration.pk}/suspend/", {"reason": "check"}, format="json")
    officer.post(f"/api/v1/registrations/{registration.pk}/reinstate/", {"reason": "ok"}, format="json")
    # Refusals and mistakes are logged by Django (4xx): they must not carry identifiers either.
    world.client(world.other_applicant).get(f"/api/v1/applications/{pk}/")
    agency.post(f"/api/v1/applications/{pk}/verify/", {"decision": "maybe"}, format="json")
    _portal(world.agency).get(f"/applications/{pk}/")
    _portal(world.auditor).get("/audit/")
    export = applicant.get("/api/v1/organisation/export/")
    assert CNIC in text(export)  # its own, in full
    _portal(world.applicant).get("/organisation/export/")


def test_no_identifier_reaches_the_logs_the_audit_log_or_email(
    identified, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own loggers stop at INFO otherwise
    connection.force_debug_cursor = True  # every SQL statement and its parameters, logged
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _walk_everything(identified)
    finally:
        connection.force_debug_cursor = False
    assert "SELECT" in caplog.text  # the SQL log really was captured
    assert not leaks(caplog.text)
    for event in AuditEvent.objects.all():
        assert not leaks(json.dumps(event.data) + event.reason), event
    for message in mail.outbox:
        assert not leaks(message.subject + message.body)


def test_identifiers_under_their_names_in_audit_data_are_stored_masked(world):
    from vpnregistry.audit.services import record

    event = record(
        actor=world.officer, action="test", obj=world.org, data={"cnic": CNIC, "nested": [{"NTN": NTN}]}
    )
    event.refresh_from_db()
    assert event.data == {"cnic": MASKED_CNIC, "nested": [{"NTN": "*****67-8"}]}


def test_a_template_context_dump_shows_identifiers_masked(identified):
    # Django logs the whole context at DEBUG when a template variable is missing.
    from vpnregistry.identifiers import ShownIdentifiers

    shown = ShownIdentifiers.of(identified.org, masked=False)
    assert shown.cnic == CNIC and shown.as_dict()["ntn"] == NTN
    assert not leaks(repr({"identifiers": shown})) and not leaks(str(shown))
    assert MASKED_CNIC in repr(shown)
