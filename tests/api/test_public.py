"""The certificate and public status endpoints: the holder's PDF, the public check, the status lookup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from tests.registrations.test_certificates import backdate, step
from tests.workflow import draft, registration
from vpnregistry.applications import services
from vpnregistry.registrations import certificates
from vpnregistry.registrations.certificates import issue_certificate
from vpnregistry.registrations.models import Registration


def local_minute(at) -> str:
    """A time as a person in the registry's zone types it: naive, to the minute."""
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_submission_answers_with_the_status_secret_once(world):
    api = world.client(world.applicant)
    application = draft(world, "14.1.105.0/24")
    with TestCase.captureOnCommitCallbacks(execute=True):
        body = api.post(f"/api/v1/applications/{application.pk}/submit/").json()
    secret = body["status_secret"]
    assert len(secret.replace("-", "")) == 20
    assert "status_secret" not in api.get(f"/api/v1/applications/{application.pk}/").json()
    found = APIClient().post(
        "/api/v1/status/", {"tracking_number": body["tracking_number"], "secret": secret}, format="json"
    )
    assert found.status_code == 200
    data = found.json()
    assert data["state"] == "submitted" and data["tracking_number"] == body["tracking_number"]
    assert [h["to_state"] for h in data["history"]] == ["draft", "submitted"]
    # The category by its English name, and by its Urdu one beside it (the world's "Company" keeps
    # the Urdu name the seed gave the real category).
    assert data["category"] == "Company" and data["category_ur"] == "کمپنی / سافٹ ویئر ہاؤس"
    assert set(data) == {
        "tracking_number",
        "category",
        "category_ur",
        "state",
        "submitted_at",
        "verified_at",
        "decided_at",
        "history",
    }


def test_status_refusals_say_nothing_about_which_half_was_wrong(world):
    application = draft(world, "14.1.105.0/24")
    secret = services.application_submit(actor=world.applicant, application=application).status_secret
    application.refresh_from_db()
    public = APIClient()
    wrong_secret = public.post(
        "/api/v1/status/",
        {"tracking_number": application.tracking_number, "secret": "0" * 20},
        format="json",
    )
    unknown_number = public.post(
        "/api/v1/status/", {"tracking_number": "VR-2026-999999", "secret": secret}, format="json"
    )
    assert wrong_secret.status_code == unknown_number.status_code == 404
    assert wrong_secret.json() == unknown_number.json()
    assert public.post("/api/v1/status/", {}, format="json").status_code == 400
    # POST only: a secret never goes into a URL.
    query = f"/api/v1/status/?tracking_number={application.tracking_number}&secret={secret}"
    assert public.get(query).status_code == 405


def test_public_lookups_need_no_csrf_token_from_a_signed_in_browser(world):
    application = draft(world, "14.1.105.0/24")
    secret = services.application_submit(actor=world.applicant, application=application).status_secret
    application.refresh_from_db()
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(world.officer)
    response = browser.post(
        "/api/v1/status/", {"tracking_number": application.tracking_number, "secret": secret}, format="json"
    )
    assert response.status_code == 200


def test_certificate_pdf_for_the_holder_only(world):
    reg = registration(world)
    url = f"/api/v1/registrations/{reg.pk}/certificate.pdf"
    response = world.client(world.applicant).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"certificate-{reg.reference}.pdf" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert APIClient().get(url).status_code == 401
    for user in (world.other_applicant, world.operator, world.officer, world.auditor, world.agency):
        assert world.client(user).get(url).status_code == 404, user
    assert (
        world.client(world.applicant).get("/api/v1/registrations/999999/certificate.pdf").status_code == 404
    )


def test_certificate_check_answers_now_and_at_a_local_time(world):
    reg = backdate(registration(world))
    code = issue_certificate(actor=world.applicant, registration=reg).code
    public = APIClient()
    body = public.get(f"/api/v1/certificates/{code}/").json()
    assert body["valid_now"] is True and body["state"] == "active" and body["active_at"] is None
    assert body["organisation"] == "Ravi Software" and body["resource"] == "14.1.105.0/24"
    assert body["category"] == "Company" and body["category_ur"] == "کمپنی / سافٹ ویئر ہاؤس"
    assert set(body) == {
        "code",
        "reference",
        "resource",
        "kind",
        "category",
        "category_ur",
        "organisation",
        "state",
        "valid_from",
        "valid_until",
        "valid_now",
        "checked_at",
        "at",
        "active_at",
    }
    step(world.officer, reg, "suspend", "court order")
    suspended_at = Registration.objects.get(pk=reg.pk).state_changed_at
    before = public.get(
        f"/api/v1/certificates/{code}/", {"at": local_minute(suspended_at - timedelta(minutes=1))}
    ).json()
    after = public.get(
        f"/api/v1/certificates/{code}/", {"at": local_minute(suspended_at + timedelta(minutes=1))}
    ).json()
    assert before["active_at"] is True and after["active_at"] is False
    assert after["valid_now"] is False and after["state"] == "suspended"
    assert public.get(f"/api/v1/certificates/{code}/", {"at": "yesterday"}).status_code == 400
    assert public.get(f"/api/v1/certificates/{'0' * 20}/").status_code == 404
    assert public.get("/api/v1/certificates/not-a-code/").status_code == 404


@pytest.fixture
def lookup_limit(settings):
    cache.clear()
    settings.THROTTLE_RATES = {"anon": None, "user": None, "lookup": "3/min"}
    yield
    cache.clear()


def test_lookups_are_limited_per_address_across_api_and_portal(world, lookup_limit, client):
    code = issue_certificate(actor=world.applicant, registration=registration(world)).code
    public = APIClient()
    assert public.get(f"/api/v1/certificates/{code}/").status_code == 200
    assert client.get(f"/verify/{code}/").status_code == 200
    assert (
        public.post("/api/v1/status/", {"tracking_number": "x", "secret": "y"}, format="json").status_code
        == 404
    )
    refused = public.get(f"/api/v1/certificates/{code}/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    page = client.get(f"/verify/{code}/")
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert client.post("/status/", {"tracking_number": "x", "secret": "y"}).status_code == 429
    # Another address has its own budget.
    elsewhere = APIClient(REMOTE_ADDR="192.0.2.7")
    assert elsewhere.get(f"/api/v1/certificates/{code}/").status_code == 200


def test_a_forged_forwarded_for_header_gets_no_fresh_budget(world, lookup_limit):
    code = issue_certificate(actor=world.applicant, registration=registration(world)).code
    public = APIClient()
    codes = [
        public.get(f"/api/v1/certificates/{code}/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_certificate_pdf_in_the_language_asked_for(world, monkeypatch):
    # The page WeasyPrint would print, handed back as it is: its language is what is checked here.
    monkeypatch.setattr(certificates, "html_to_pdf", lambda html, css: html.encode())
    reg = registration(world)
    url = f"/api/v1/registrations/{reg.pk}/certificate.pdf"
    client = world.client(world.applicant)
    assert b'<html lang="ur" dir="rtl">' in client.get(url + "?lang=ur").content
    assert b'<html lang="en" dir="ltr">' in client.get(url + "?lang=en").content
    assert b'<html lang="en" dir="ltr">' in client.get(url).content
    assert b'<html lang="ur" dir="rtl">' in client.get(url, HTTP_ACCEPT_LANGUAGE="ur").content
    assert b'<html lang="en" dir="ltr">' in client.get(url + "?lang=en", HTTP_ACCEPT_LANGUAGE="ur").content
    wrong = client.get(url + "?lang=fr")
    assert wrong.status_code == 400 and "lang" in wrong.json()
