"""The portal's pages through Django's test client: each role's view, errors beside fields, privacy."""

from __future__ import annotations

import re

from tests.auth import login as sign_in
from tests.factories import PASSWORD
from tests.workflow import draft
from vpnregistry.applications.models import Application, Resource
from vpnregistry.registrations.models import Registration


def formset_data(rows):
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for i, (value, subscriber) in enumerate(rows):
        data[f"form-{i}-value"] = value
        data[f"form-{i}-subscriber_id"] = subscriber
    return data


def test_login_page_and_redirect(client, world):
    assert client.get("/").status_code == 302
    response = client.post("/login/", {"username": "applicant", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_new_application_saves_a_draft(login, world):
    client = login(world.applicant)
    response = client.post("/applications/new/", formset_data([("14.1.105.0/24", "SUB-1"), ("", "")]))
    assert response.status_code == 302
    application = Application.objects.get()
    assert response["Location"] == f"/applications/{application.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "14.1.105.0/24" in page and "Submit application" in page


def test_errors_are_shown_beside_the_field_and_nothing_is_saved(login, world):
    client = login(world.applicant)
    rows = [("14.1.105.0/24", "SUB-1"), ("", ""), ("10.0.0.0/24", "SUB-2"), ("14.1.106.0/24", "")]
    response = client.post("/applications/new/", formset_data(rows))
    assert response.status_code == 200
    html = response.content.decode()
    error_2 = re.search(r'id="id_form-2-value-error">([^<]*)<', html)
    assert error_2 and "private-use" in error_2.group(1)
    assert 'id="id_form-3-subscriber_id-error"' in html
    assert 'id="id_form-0-value-error"' not in html
    assert 'value="10.0.0.0/24"' in html  # what was typed is kept
    assert not Application.objects.exists() and not Resource.objects.exists()


def test_each_role_acts_from_the_application_page(login, world, django_capture_on_commit_callbacks):
    application = draft(world, "14.1.105.0/24")
    client = login(world.applicant)
    client.post(f"/applications/{application.pk}/submit/")
    application.refresh_from_db()
    assert application.state == "submitted"

    client = login(world.agency)
    assert "Agency verification" in client.get(f"/applications/{application.pk}/").content.decode()
    client.post(f"/applications/{application.pk}/verify/", {"decision": "approve"})
    client = login(world.operator)
    resource = application.resources.get()
    client.post(f"/resources/{resource.pk}/attest/", {"decision": "approve"})
    client = login(world.officer)
    # 256 addresses: the fee applies; the officer records the payment from the page.
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Record the fee&#x27;s payment" in page or "Record the fee's payment" in page
    client.post(f"/applications/{application.pk}/payment/", {"reference": "HBL-77"})
    application.refresh_from_db()
    assert application.state == "awaiting_decision" and application.payment_reference == "HBL-77"
    assert client.get("/").content.decode().count(application.tracking_number) == 1
    with django_capture_on_commit_callbacks(execute=True):
        decided = client.post(
            f"/applications/{application.pk}/decide/", {"decision": "approve", "reason": "fine"}, follow=True
        )
    application.refresh_from_db()
    assert application.state == "approved"
    # The officer is told which registration the approval made, and where it is published.
    made = Registration.objects.get(resource__application=application)
    told = decided.content.decode()
    assert f'Approved: 1 registration made, <bdi dir="ltr">{made.reference} (14.1.105.0/24)</bdi>.' in told
    assert "Done." not in told
    page = client.get(f"/applications/{application.pk}/").content.decode()
    # The history told as sentences, the reason typed beside its event.
    assert "<bdi>The regulator</bdi> approved the application" in page and "fine" in page
    assert f"published in serial {application.published_serial}" in page


def test_rejection_without_reason_is_explained(login, world):
    application = draft(world, "14.1.105.0/24")
    login(world.applicant).post(f"/applications/{application.pk}/submit/")
    client = login(world.agency)
    response = client.post(
        f"/applications/{application.pk}/verify/",
        {"decision": "reject", "reason_code": "documents-missing"},
        follow=True,
    )
    page = response.content.decode()
    assert response.redirect_chain == [(f"/applications/{application.pk}/#verify-form", 302)]
    # Listed at the top of the form, linked to the field, said beside it; what was chosen kept.
    summary = page.split('aria-labelledby="verify-problem"')[1].split("</div>")[0]
    assert '<a href="#verify-reason">' in summary and "A rejection needs a reason" in summary
    assert 'id="verify-reason-error"' in page
    assert 'value="reject" checked' in page and '<option value="documents-missing" selected>' in page
    application.refresh_from_db()
    assert application.state == "submitted"
    # Shown once: the page afterwards is the plain form again.
    assert 'id="verify-reason-error"' not in client.get(f"/applications/{application.pk}/").content.decode()


def test_another_organisations_page_is_404(login, world):
    application = draft(world, "14.1.105.0/24")
    client = login(world.other_applicant)
    assert client.get(f"/applications/{application.pk}/").status_code == 404
    assert client.post(f"/applications/{application.pk}/submit/").status_code == 404
    assert "14.1.105.0/24" not in client.get("/applications/").content.decode()


def test_staff_cannot_open_the_applicant_form(login, world):
    assert login(world.officer).get("/applications/new/").status_code == 404


def test_lists_page_by_keyset(login, world):
    client = login(world.applicant)
    for _ in range(27):
        Application.objects.create(organisation=world.org, category=world.company, created_by=world.applicant)
    first = client.get("/applications/").content.decode()
    match = re.search(r'href="\?before=(\d+)"', first)
    assert match
    second = client.get(f"/applications/?before={match.group(1)}").content.decode()
    assert 'href="?before=' not in second
    assert first.count("/applications/") - second.count("/applications/") == 25 - 2


def test_urdu_pages_are_right_to_left(client, world):
    sign_in(client, world.applicant)
    client.post("/i18n/setlang/", {"language": "ur", "next": "/"})
    html = client.get("/").content.decode()
    assert 'dir="rtl"' in html and 'lang="ur"' in html


def test_allowlist_page_for_staff_only(login, world):
    from tests.workflow import approved

    approved(world, "14.1.105.0/24")
    page = login(world.officer).get("/allowlist/").content.decode()
    assert "Latest serial" in page and "/api/v1/allowlist/1.nft" in page and "Latest serial fetched" in page
    operator_page = login(world.operator).get("/allowlist/").content.decode()
    assert "/api/v1/allowlist/1.txt" in operator_page and "Latest serial fetched" not in operator_page
    assert login(world.applicant).get("/allowlist/").status_code == 404
    assert login(world.agency).get("/allowlist/").status_code == 404


def test_the_form_takes_one_resource_and_adds_another_on_request(login, world):
    client = login(world.applicant)
    page = client.get("/applications/new/").content.decode()
    assert page.count('class="resource-entry"') == 1 and "Add another resource" in page
    typed = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-0-value": "not an address",
        "form-0-subscriber_id": "SUB-1",
        "add": "1",
    }
    page = client.post("/applications/new/", typed).content.decode()
    # One more, empty resource; what was typed kept and not judged yet; nothing saved.
    assert page.count('class="resource-entry"') == 2 and 'id="id_form-1-value"' in page
    assert 'value="not an address"' in page and 'class="error"' not in page
    assert not Application.objects.exists()


def test_a_refused_resource_is_listed_at_the_top_and_linked_to_its_field(login, world):
    typed = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-value": "14.1.105.0/24",
        "form-0-subscriber_id": "SUB-1",
        "form-1-value": "10.0.0.0/24",
        "form-1-subscriber_id": "SUB-2",
    }
    page = login(world.applicant).post("/applications/new/", typed).content.decode()
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert '<a href="#id_form-1-value">Resource 2: ' in summary and "private-use" in summary
    assert "<title>Error: " in page and 'value="10.0.0.0/24"' in page
