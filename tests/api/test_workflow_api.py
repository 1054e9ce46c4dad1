"""The workflow beyond the five steps over the API: each endpoint, its refusals, and that a refused
request changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from tests.factories import OperatorFactory, UserFactory
from tests.workflow import approved, attested, draft, to_decision
from vpnregistry.accounts.models import Operator, Role
from vpnregistry.applications import services
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.models import Registration

API = "/api/v1/applications"


def state_of(application):
    application.refresh_from_db()
    return application.state, application.version, AuditEvent.objects.count()


def post(world, user, url, body=None):
    return world.client(user).post(url, body or {}, format="json")


def test_csv_upload_as_a_body_or_a_file(world):
    body = b"value,subscriber_id,district\n14.1.105.0/24,S-1,pb-lahore\n14.1.106.0/24,S-2,\n"
    response = world.client(world.applicant).generic("POST", f"{API}/csv/", body, content_type="text/csv")
    assert response.status_code == 201, response.json()
    assert [r["value"] for r in response.json()["resources"]] == ["14.1.105.0/24", "14.1.106.0/24"]
    upload = SimpleUploadedFile("r.csv", b"value,subscriber_id\n27.0.184.0/24,S-3\n", content_type="text/csv")
    response = world.client(world.applicant).post(f"{API}/csv/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert Application.objects.count() == 2


def test_csv_upload_refusals_change_nothing(world):
    bad = b"value,subscriber_id\n14.1.105.0/24,S-1\n192.168.0.0/24,S-2\n14.1.106.0/24,\n"
    response = world.client(world.applicant).generic("POST", f"{API}/csv/", bad, content_type="text/csv")
    assert response.status_code == 400
    errors = response.json()["csv"]
    assert errors[0].startswith("line 3, column value: ") and errors[1].startswith(
        "line 4, column subscriber_id: "
    )
    response = world.client(world.agency).generic("POST", f"{API}/csv/", bad, content_type="text/csv")
    assert response.status_code == 403
    assert world.client(world.applicant).post(f"{API}/csv/", {}, format="json").status_code == 415
    assert not Application.objects.exists()


def test_bulk_attestation(world):
    apps = []
    for value in ("14.1.105.0/24", "14.1.106.0/24", "14.192.130.0/24"):
        application = draft(world, value)
        services.application_submit(actor=world.applicant, application=application)
        apps.append(application)
    mine = [a.resources.get().pk for a in apps[:2]]
    theirs = apps[2].resources.get().pk
    before = [state_of(a) for a in apps]
    response = post(
        world,
        world.operator,
        "/api/v1/resources/attest/",
        {"resources": [*mine, theirs], "decision": "approve"},
    )
    assert response.status_code == 400 and str(theirs) in response.json()["resources"][0]
    response = post(
        world, world.agency, "/api/v1/resources/attest/", {"resources": mine, "decision": "approve"}
    )
    assert response.status_code == 403
    response = post(
        world, world.operator, "/api/v1/resources/attest/", {"resources": mine, "decision": "reject"}
    )
    assert response.status_code == 400 and "reason" in response.json()
    assert [state_of(a) for a in apps] == before
    assert not Resource.objects.exclude(state="pending").exists()
    response = post(
        world, world.operator, "/api/v1/resources/attest/", {"resources": mine, "decision": "approve"}
    )
    assert response.status_code == 200, response.json()
    assert [r["state"] for r in response.json()] == ["confirmed", "confirmed"]
    response = post(
        world, world.operator, "/api/v1/resources/attest/", {"resources": mine, "decision": "approve"}
    )
    assert response.status_code == 409


def test_mobile_number_over_the_api(world):
    jazz = OperatorFactory(code="jazz", kind=Operator.Kind.MOBILE)
    staff = UserFactory(username="jazz-staff", role=Role.OPERATOR, operator=jazz)
    response = post(
        world,
        world.freelancer_applicant,
        API + "/",
        {"resources": [{"value": "0321 1234567", "subscriber_id": "M-1", "operator": "jazz"}]},
    )
    assert response.status_code == 201, response.json()
    resource = response.json()["resources"][0]
    assert (resource["kind"], resource["value"], resource["operator"]) == ("msisdn", "+923211234567", "jazz")
    # The mobile operator sees it in its list once submitted.
    post(world, world.freelancer_applicant, f"{API}/{response.json()['id']}/submit/")
    listed = world.client(staff).get("/api/v1/resources/?state=pending").json()["results"]
    assert [r["value"] for r in listed] == ["+923211234567"]
    assert world.client(world.operator).get("/api/v1/resources/").json()["results"] == []


def test_payment_endpoint(world):
    application = attested(world, "14.1.105.0/24")
    url = f"{API}/{application.pk}/payment/"
    detail = world.client(world.applicant).get(f"{API}/{application.pk}/").json()
    assert detail["state"] == "awaiting_payment" and detail["fee_amount"] == "256000.00"
    before = state_of(application)
    assert post(world, world.applicant, url, {"reference": "R-123"}).status_code == 403
    assert post(world, world.agency, url, {"reference": "R-123"}).status_code == 403
    assert post(world, world.officer, url, {}).status_code == 400
    assert post(world, world.officer, url, {"reference": "no spaces"}).status_code == 400
    assert state_of(application) == before
    response = post(world, world.officer, url, {"reference": "R-123"})
    assert response.status_code == 200 and response.json()["payment_reference"] == "R-123"
    assert post(world, world.officer, url, {"reference": "R-124"}).status_code == 409
    other = attested(world, "14.1.106.0/24")
    response = post(world, world.officer, f"{API}/{other.pk}/payment/", {"reference": "R-123"})
    assert response.status_code == 400 and "reference" in response.json()


def test_return_on_verify_and_decide_then_resources_replaced(world):
    application = draft(world, "14.1.105.0/24")
    post(world, world.applicant, f"{API}/{application.pk}/submit/")
    response = post(world, world.agency, f"{API}/{application.pk}/verify/", {"decision": "return"})
    assert response.status_code == 400 and "reason" in response.json()
    response = post(
        world,
        world.agency,
        f"{API}/{application.pk}/verify/",
        {"decision": "return", "reason": "Add the branch"},
    )
    assert response.status_code == 200 and response.json()["state"] == "returned"
    url = f"{API}/{application.pk}/resources/"
    items = {
        "resources": [
            {"value": "14.1.105.0/24", "subscriber_id": "SUB-1"},
            {"value": "14.1.106.0/24", "subscriber_id": "B"},
        ]
    }
    before = state_of(application)
    assert world.client(world.other_applicant).put(url, items, format="json").status_code == 404
    assert world.client(world.agency).put(url, items, format="json").status_code == 403
    bad = {"resources": [{"value": "10.0.0.0/24", "subscriber_id": "B"}]}
    assert world.client(world.applicant).put(url, bad, format="json").status_code == 400
    assert world.client(world.applicant).put(url, {"resources": "x"}, format="json").status_code == 400
    assert state_of(application) == before
    response = world.client(world.applicant).put(url, items, format="json")
    assert response.status_code == 200, response.json()
    assert sorted(r["value"] for r in response.json()["resources"]) == ["14.1.105.0/24", "14.1.106.0/24"]
    csv = b"value,subscriber_id\n14.1.105.0/24,SUB-1\n"
    response = world.client(world.applicant).generic("PUT", url, csv, content_type="text/csv")
    assert response.status_code == 200
    live = [r for r in response.json()["resources"] if r["state"] != "removed"]
    assert [r["value"] for r in live] == ["14.1.105.0/24"]
    assert post(world, world.applicant, f"{API}/{application.pk}/submit/").json()["state"] == "submitted"
    # Not editable once submitted.
    assert world.client(world.applicant).put(url, items, format="json").status_code == 409

    awaiting = to_decision(world, "27.0.184.0/24")
    response = post(
        world,
        world.officer,
        f"{API}/{awaiting.pk}/decide/",
        {"decision": "return", "reason": "Wrong district"},
    )
    assert response.status_code == 200 and response.json()["state"] == "returned"
    history = [h["action"] for h in response.json()["history"]]
    assert history[-1] == "application.return"


def test_withdraw_endpoint(world):
    application = draft(world, "14.1.105.0/24")
    post(world, world.applicant, f"{API}/{application.pk}/submit/")
    url = f"{API}/{application.pk}/withdraw/"
    before = state_of(application)
    assert post(world, world.other_applicant, url).status_code == 404
    assert post(world, world.officer, url).status_code == 403
    assert state_of(application) == before
    response = post(world, world.applicant, url, {"reason": "Not needed"})
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    assert post(world, world.applicant, url).status_code == 409


def test_rejection_reasons_and_appeals(world):
    codes = [
        r["code"] for r in world.client(world.applicant).get("/api/v1/rejection-reasons/").json()["results"]
    ]
    assert "other" in codes and "documents-missing" in codes
    application = to_decision(world, "14.1.105.0/24")
    decide = f"{API}/{application.pk}/decide/"
    before = state_of(application)
    response = post(
        world, world.officer, decide, {"decision": "reject", "reason": "x", "reason_code": "nope"}
    )
    assert response.status_code == 400 and "reason_code" in response.json()
    assert state_of(application) == before
    response = post(
        world,
        world.officer,
        decide,
        {"decision": "reject", "reason": "Expired", "reason_code": "documents-invalid"},
    )
    assert response.status_code == 200 and response.json()["rejection_reason"] == "documents-invalid"
    appeal = f"{API}/{application.pk}/appeal/"
    assert post(world, world.applicant, appeal, {}).status_code == 400
    assert post(world, world.other_applicant, appeal, {"grounds": "g"}).status_code == 404
    assert post(world, world.officer, appeal, {"grounds": "g"}).status_code == 403
    response = post(world, world.applicant, appeal, {"grounds": "Renewed in March"})
    assert response.status_code == 200 and response.json()["state"] == "appealed"
    assert post(world, world.applicant, appeal, {"grounds": "again"}).status_code == 409
    ruling = f"{API}/{application.pk}/appeal-decision/"
    assert post(world, world.officer, ruling, {"decision": "uphold", "reason": "r"}).status_code == 403
    assert post(world, world.applicant, ruling, {"decision": "uphold", "reason": "r"}).status_code == 403
    assert post(world, world.officer2, ruling, {"decision": "maybe", "reason": "r"}).status_code == 400
    response = post(world, world.officer2, ruling, {"decision": "uphold", "reason": "Seen the new letter"})
    assert response.status_code == 200 and response.json()["state"] == "awaiting_decision"
    assert post(world, world.officer, decide, {"decision": "approve"}).status_code == 403
    assert post(world, world.officer2, decide, {"decision": "approve"}).json()["state"] == "approved"


def test_renew_endpoint(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=application)
    url = f"/api/v1/registrations/{registration.pk}/renew/"
    assert post(world, world.other_applicant, url).status_code == 404
    assert post(world, world.operator, url).status_code == 403
    assert post(world, world.officer, url).status_code == 403
    assert Application.objects.count() == 1
    response = post(world, world.applicant, url)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and body["resources"][0]["renews"] == registration.reference
    assert post(world, world.applicant, url).status_code == 409


@pytest.mark.parametrize("path", ["withdraw/", "appeal/", "resources/"])
def test_another_organisations_application_is_out_of_reach(world, path):
    application = draft(world, "14.1.105.0/24")
    client = world.client(world.other_applicant)
    response = (
        client.put(f"{API}/{application.pk}/{path}", {}, format="json")
        if path == "resources/"
        else client.post(f"{API}/{application.pk}/{path}", {"grounds": "g"}, format="json")
    )
    assert response.status_code == 404
