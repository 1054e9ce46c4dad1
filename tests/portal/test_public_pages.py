"""The certificate pages and the public status page, through Django's test client."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import TestCase

from tests.api.test_public import local_minute
from tests.registrations.test_certificates import backdate, step
from tests.workflow import draft, registration
from vpnregistry.applications import services
from vpnregistry.applications.models import StepTarget
from vpnregistry.applications.status import public_status
from vpnregistry.codes import grouped
from vpnregistry.registrations import certificates
from vpnregistry.registrations.certificates import issue_certificate
from vpnregistry.registrations.models import Registration

# --- certificates -----------------------------------------------------------------------------


def test_the_holder_finds_the_certificate_on_the_application_page(login, world):
    reg = registration(world)
    application = reg.resource.application
    link = f"/registrations/{reg.pk}/certificate.pdf"
    page = login(world.applicant).get(f"/applications/{application.pk}/").content.decode()
    assert f'href="{link}"' in page
    response = login(world.applicant).get(link)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    # Others who may read the application do not get the holder's certificate.
    for user in (world.officer, world.auditor, world.operator):
        assert link not in login(user).get(f"/applications/{application.pk}/").content.decode()
        assert login(user).get(link).status_code == 404


def test_the_holder_finds_the_certificate_on_the_registration_page(login, world):
    reg = registration(world)
    link = f"/registrations/{reg.pk}/certificate.pdf"
    assert f'href="{link}"' in login(world.applicant).get(f"/registrations/{reg.pk}/").content.decode()
    for user in (world.officer, world.auditor, world.operator):
        assert link not in login(user).get(f"/registrations/{reg.pk}/").content.decode()


def test_another_organisation_and_anonymous_cannot_download(client, login, world):
    reg = registration(world)
    link = f"/registrations/{reg.pk}/certificate.pdf"
    anonymous = client.get(link)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert login(world.other_applicant).get(link).status_code == 404


def test_the_certificate_is_in_the_language_the_portal_is_used_in(login, world, monkeypatch):
    # The page WeasyPrint would print, handed back as it is: its language is what is checked here.
    monkeypatch.setattr(certificates, "html_to_pdf", lambda html, css: html.encode())
    link = f"/registrations/{registration(world).pk}/certificate.pdf"
    client = login(world.applicant)
    assert b'<html lang="en" dir="ltr">' in client.get(link).content
    client.cookies["django_language"] = "ur"
    assert b'<html lang="ur" dir="rtl">' in client.get(link).content


def test_a_typed_code_goes_to_its_check_page(client, world):
    code = issue_certificate(actor=world.applicant, registration=registration(world)).code
    assert client.get("/verify/").status_code == 200
    response = client.get("/verify/", {"code": grouped(code).lower()})
    assert response.status_code == 302 and response["Location"] == f"/verify/{code}/"
    bad = client.get("/verify/", {"code": "ABC"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.content.decode()
    unknown = client.get(f"/verify/{'0' * 20}/")
    assert (
        unknown.status_code == 404 and "No registration certificate has this code" in unknown.content.decode()
    )


def test_the_check_page_shows_validity_and_names_no_person(client, world):
    reg = backdate(registration(world))
    code = issue_certificate(actor=world.applicant, registration=reg).code
    page = client.get(f"/verify/{code}/").content.decode()
    assert "Valid: this registration is active now." in page
    assert "14.1.105.0/24" in page and "Ravi Software" in page and reg.reference in page
    assert "SUB-1" not in page and "applicant" not in page
    step(world.officer, reg, "suspend", "court order about this customer")
    suspended_at = Registration.objects.get(pk=reg.pk).state_changed_at
    page = client.get(f"/verify/{code}/").content.decode()
    assert "Not valid now: this registration is Suspended." in page
    assert "court order" not in page  # reasons may be personal
    before = client.get(f"/verify/{code}/", {"at": local_minute(suspended_at - timedelta(minutes=1))})
    after = client.get(f"/verify/{code}/", {"at": local_minute(suspended_at + timedelta(minutes=1))})
    assert "Active at " in before.content.decode()
    assert "Not active at " in after.content.decode()
    bad = client.get(f"/verify/{code}/", {"at": "soon"})
    assert bad.status_code == 400 and "soon is not a time" in bad.content.decode()
    assert "for example 2026-11-28T09:00" in bad.content.decode()
    step(world.officer, reg, "revoke", "fraud")
    assert "this registration is Revoked." in client.get(f"/verify/{code}/").content.decode()


def test_the_check_page_shows_expired(client, world):
    reg = backdate(registration(world), days=400)
    code = issue_certificate(actor=world.applicant, registration=reg).code
    page = client.get(f"/verify/{code}/").content.decode()
    assert "Not valid now: this registration is Expired." in page


def test_a_freelancer_is_not_named(client, world):
    reg = registration(world, "14.1.106.7/32", user=world.freelancer_applicant)
    code = issue_certificate(actor=world.freelancer_applicant, registration=reg).code
    page = client.get(f"/verify/{code}/").content.decode()
    assert "14.1.106.7/32" in page and "A Freelancer" not in page


def test_the_check_page_in_urdu_is_right_to_left(client, world):
    code = issue_certificate(actor=world.applicant, registration=registration(world)).code
    client.cookies["django_language"] = "ur"
    page = client.get(f"/verify/{code}/").content.decode()
    assert 'dir="rtl"' in page and f'dir="ltr" class="code">{grouped(code)}' in page


def same_page(response) -> str:
    """The page without its per-response CSRF token (masked afresh each time)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


# --- public status ----------------------------------------------------------------------------


def test_submitting_shows_the_secret_once(login, world):
    application = draft(world, "14.1.105.0/24")
    StepTarget.objects.update_or_create(step="agency", defaults={"days": 5})
    client = login(world.applicant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/applications/{application.pk}/submit/", follow=True)
    page = response.content.decode()
    application.refresh_from_db()
    assert response.redirect_chain == [(f"/applications/{application.pk}/submitted/", 302)]
    assert f'<strong dir="ltr" id="tracking-number">{application.tracking_number}</strong>' in page
    secret = page.split('<code id="status-secret" dir="ltr">')[1].split("<")[0]
    assert len(secret.replace("-", "")) == 20
    assert public_status(application.tracking_number, secret) is not None
    assert "it is shown only once" in page and 'data-copy="status-secret"' in page and "data-print" in page
    # What happens next, with the regulator's target where one is set; no "Done." beside the panel.
    assert "Agency verification</strong> · usually within 5 days" in page and "Done." not in page
    # Once only: neither the confirmation again nor the application's page shows it.
    again = client.get(f"/applications/{application.pk}/submitted/").content.decode()
    assert secret not in again and 'id="status-secret"' not in again and application.tracking_number in again
    assert secret not in client.get(f"/applications/{application.pk}/").content.decode()
    # Submitting again is refused and shows no secret.
    again = client.post(f"/applications/{application.pk}/submit/", follow=True)
    assert again.redirect_chain == [(f"/applications/{application.pk}/", 302)]
    assert "status-secret" not in again.content.decode()
    assert "Only a draft or a returned application can be submitted." in again.content.decode()


def test_the_confirmation_is_the_applicants_own(login, world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    assert login(world.other_applicant).get(f"/applications/{application.pk}/submitted/").status_code == 404
    unsubmitted = draft(world, "14.1.106.0/24")
    answer = login(world.applicant).get(f"/applications/{unsubmitted.pk}/submitted/")
    assert answer.status_code == 302 and answer["Location"] == f"/applications/{unsubmitted.pk}/"


def test_status_page_shows_state_and_history_for_the_right_pair_only(client, world):
    application = draft(world, "14.1.105.0/24")
    secret = services.application_submit(actor=world.applicant, application=application).status_secret
    services.application_verify(actor=world.agency, application=application, decision="approve")
    application.refresh_from_db()
    assert 'method="post"' in client.get("/status/").content.decode()
    page = client.post("/status/", {"tracking_number": application.tracking_number, "secret": secret})
    html = page.content.decode()
    assert page.status_code == 200 and application.tracking_number in html
    assert "In review" in html and "Draft → Submitted" in html and "Submitted → In review" in html
    for personal in ("Ravi Software", "SUB-1", "14.1.105.0/24", "reviewer", "applicant"):
        assert personal not in html
    wrong = client.post("/status/", {"tracking_number": application.tracking_number, "secret": "0" * 20})
    unknown = client.post("/status/", {"tracking_number": "VR-2026-999999", "secret": secret})
    assert "No application matches" in wrong.content.decode()
    assert same_page(wrong) == same_page(unknown).replace("VR-2026-999999", application.tracking_number)
    assert wrong.status_code == unknown.status_code == 200
    # The secret is never echoed back into the form.
    assert secret not in wrong.content.decode()


def test_status_page_at_phone_width_has_labels(client, db):
    html = client.get("/status/").content.decode()
    assert '<label for="id_tracking_number">' in html and '<label for="id_secret">' in html
    assert 'name="viewport"' in html and "style=" not in html
    # No script of its own: only the portal's one enhancement file, which the page works without.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/portal/portal.js" defer>']
