"""The workflow's portal pages: CSV upload and editing, bulk attestation, withdrawal, the fee voucher
and payment, return, appeals and renewal, each role from its own pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from tests.auth import login as sign_in
from tests.factories import OperatorFactory
from tests.workflow import approved, attested, draft, to_decision
from vpnregistry.accounts.models import Operator
from vpnregistry.applications import services
from vpnregistry.applications.models import Application, Resource
from vpnregistry.registrations.models import Registration


@pytest.fixture
def login(client):
    def _login(user):
        client.logout()
        sign_in(client, user)
        return client

    return _login


def refreshed(application):
    application.refresh_from_db()
    return application


def test_csv_upload_page(login, world):
    client = login(world.applicant)
    assert "value,subscriber_id,district,operator" in client.get("/applications/new/csv/").content.decode()
    bad = b"value,subscriber_id\n14.1.105.0/24,S-1\n10.0.0.0/24,S-2\n14.1.106.0/24,\n"
    response = client.post("/applications/new/csv/", {"file": SimpleUploadedFile("r.csv", bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "line 3, column value:" in page and "line 4, column subscriber_id:" in page
    assert "2 problems" in page
    assert not Application.objects.exists()
    good = b"value,subscriber_id\n14.1.105.0/24,S-1\n14.1.106.0/24,S-2\n"
    response = client.post("/applications/new/csv/", {"file": SimpleUploadedFile("r.csv", good)})
    application = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/applications/{application.pk}/"
    assert application.resources.count() == 2
    # Pasted text works as well.
    response = client.post("/applications/new/csv/", {"text": "value,subscriber_id\n27.0.184.0/24,S-3\n"})
    assert response.status_code == 302 and Application.objects.count() == 2


def test_mobile_number_from_the_new_application_form(login, world):
    OperatorFactory(code="jazz", name="Jazz", kind=Operator.Kind.MOBILE)
    client = login(world.freelancer_applicant)
    assert '<option value="jazz">Jazz</option>' in client.get("/applications/new/").content.decode()
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-value": "0300 1234567",
        "form-0-subscriber_id": "M-1",
        "form-0-operator": "",
    }
    response = client.post("/applications/new/", data)
    assert response.status_code == 200 and "name the mobile operator that" in response.content.decode()
    data["form-0-operator"] = "jazz"
    assert client.post("/applications/new/", data).status_code == 302
    assert Resource.objects.get().value == "+923001234567"


def test_returned_application_is_edited_and_resubmitted(login, world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    client = login(world.agency)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert 'value="return"' in page and 'name="reason_code"' in page
    client.post(f"/applications/{application.pk}/verify/", {"decision": "return", "reason": "Add the branch"})
    assert refreshed(application).state == "returned"
    client = login(world.applicant)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Add the branch" in page and "Edit resources" in page and "Submit again" in page
    form = client.get(f"/applications/{application.pk}/resources/").content.decode()
    assert "14.1.105.0/24,SUB-1,,indus" in form
    response = client.post(
        f"/applications/{application.pk}/resources/",
        {"text": "value,subscriber_id\n14.1.105.0/24,SUB-1\n10.1.0.0/24,X\n"},
    )
    assert response.status_code == 400 and "line 3, column value:" in response.content.decode()
    response = client.post(
        f"/applications/{application.pk}/resources/",
        {"text": "value,subscriber_id\n14.1.105.0/24,SUB-1\n14.1.106.0/24,X\n"},
    )
    assert response.status_code == 302
    assert sorted(application.resources.values_list("value", flat=True)) == ["14.1.105.0/24", "14.1.106.0/24"]
    client.post(f"/applications/{application.pk}/submit/")
    assert refreshed(application).state == "submitted"
    # Another organisation's applicant cannot open the editor; an officer is refused.
    assert login(world.other_applicant).get(f"/applications/{application.pk}/resources/").status_code == 404
    assert login(world.officer).get(f"/applications/{application.pk}/resources/").status_code == 403


def test_operator_attests_many_from_its_queue(login, world):
    apps = []
    for value in ("14.1.105.0/24", "14.1.106.0/24", "14.192.130.0/24"):
        application = draft(world, value)
        services.application_submit(actor=world.applicant, application=application)
        apps.append(application)
    client = login(world.operator)
    page = client.get("/attestations/").content.decode()
    assert "14.1.105.0/24" in page and "14.1.106.0/24" in page and "14.192.130.0/24" not in page
    ids = [str(a.resources.get().pk) for a in apps[:2]]
    # Another operator's resource among the ticked ones refuses the lot.
    theirs = str(apps[2].resources.get().pk)
    response = client.post("/attestations/", {"resource": [*ids, theirs], "decision": "approve"}, follow=True)
    assert "not a resource in your address space" in response.content.decode()
    assert not Resource.objects.filter(state="confirmed").exists()
    response = client.post("/attestations/", {"resource": ids, "decision": "approve"}, follow=True)
    assert "2 resources attested." in response.content.decode()
    assert Resource.objects.filter(state="confirmed").count() == 2
    page = login(world.other_operator).get("/attestations/").content.decode()
    assert '<code dir="ltr">14.192.130.0/24</code>' in page
    assert login(world.applicant).get("/attestations/").status_code == 404


def test_withdraw_from_the_page(login, world):
    application = draft(world, "14.1.105.0/24")
    client = login(world.applicant)
    assert "Withdraw this application" in client.get(f"/applications/{application.pk}/").content.decode()
    client.post(f"/applications/{application.pk}/withdraw/", {"reason": "Not needed"})
    assert refreshed(application).state == "withdrawn"
    assert login(world.other_applicant).post(f"/applications/{application.pk}/withdraw/").status_code == 404


def test_fee_voucher_and_payment(login, world):
    application = attested(world, "14.1.105.0/24")
    client = login(world.applicant)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Fee voucher" in page
    voucher = client.get(f"/applications/{application.pk}/voucher/").content.decode()
    assert "PKR 256000.00" in voucher and application.tracking_number in voucher
    assert login(world.other_applicant).get(f"/applications/{application.pk}/voucher/").status_code == 404
    assert login(world.agency).get(f"/applications/{application.pk}/voucher/").status_code == 403
    assert (
        login(world.applicant)
        .post(f"/applications/{application.pk}/payment/", {"reference": "R-1"})
        .status_code
        == 403
    )
    client = login(world.officer)
    response = client.post(f"/applications/{application.pk}/payment/", {"reference": "x"}, follow=True)
    assert "reference:" in response.content.decode() and refreshed(application).state == "awaiting_payment"
    client.post(f"/applications/{application.pk}/payment/", {"reference": "HBL-9"})
    assert refreshed(application).state == "awaiting_decision"
    # An application without a fee has no voucher.
    small = to_decision(world, "14.1.106.0/30", user=world.other_applicant)
    assert login(world.other_applicant).get(f"/applications/{small.pk}/voucher/").status_code == 404


def test_reject_with_a_reason_then_appeal_from_the_pages(login, world):
    application = to_decision(world, "14.1.105.0/24")
    login(world.officer).post(
        f"/applications/{application.pk}/decide/",
        {"decision": "reject", "reason": "Letter expired", "reason_code": "documents-invalid"},
    )
    assert refreshed(application).rejection_reason.code == "documents-invalid"
    client = login(world.applicant)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Appeal the rejection" in page and "could not be verified" in page
    client.post(f"/applications/{application.pk}/appeal/", {"grounds": "Renewed"})
    assert refreshed(application).state == "appealed"
    assert (
        login(world.officer)
        .post(f"/applications/{application.pk}/appeal-decision/", {"decision": "uphold", "reason": "r"})
        .status_code
        == 403
    )
    client = login(world.officer2)
    assert "Decide the appeal" in client.get(f"/applications/{application.pk}/").content.decode()
    client.post(f"/applications/{application.pk}/appeal-decision/", {"decision": "dismiss", "reason": "No"})
    assert refreshed(application).state == "rejected"
    assert (
        "Appeal the rejection"
        not in login(world.applicant).get(f"/applications/{application.pk}/").content.decode()
    )


def test_renew_button(login, world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get()
    client = login(world.applicant)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert registration.reference in page and f"/registrations/{registration.pk}/renew/" in page
    own_page = client.get(f"/registrations/{registration.pk}/").content.decode()
    assert f"/registrations/{registration.pk}/renew/" in own_page
    response = client.post(f"/registrations/{registration.pk}/renew/")
    renewal = Application.objects.exclude(pk=application.pk).get()
    assert response["Location"] == f"/applications/{renewal.pk}/"
    assert renewal.resources.get().renews == registration
    response = client.post(f"/registrations/{registration.pk}/renew/", follow=True)
    assert "renewal under way" in response.content.decode()
    assert login(world.other_applicant).post(f"/registrations/{registration.pk}/renew/").status_code == 404
    assert login(world.operator).post(f"/registrations/{registration.pk}/renew/").status_code == 403
