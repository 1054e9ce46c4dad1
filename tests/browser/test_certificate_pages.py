"""The certificate check and public status pages in a real browser: phone width, keyboard, no CSP errors."""

from __future__ import annotations

import pytest

from tests.workflow import draft, registration
from vpnregistry.applications import services
from vpnregistry.codes import grouped
from vpnregistry.registrations.certificates import issue_certificate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_a_code_and_a_status_at_phone_width_by_keyboard(live_server, browser_page, screenshot, world):
    page, base = browser_page, live_server.url
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_viewport_size({"width": 390, "height": 844})
    code = issue_certificate(actor=world.applicant, registration=registration(world)).code
    application = draft(world, "14.1.106.0/24")
    secret = services.application_submit(actor=world.applicant, application=application).status_secret
    application.refresh_from_db()

    page.goto(f"{base}/verify/")
    page.get_by_label("Verification code").fill(grouped(code).lower())
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/verify/{code}/")
    assert "Valid: this registration is active now." in page.inner_text("main")
    when = page.get_by_label("Date and time", exact=False)
    when.fill("2020-01-01T10:00")
    when.press("Enter")
    page.wait_for_url("**at=*")
    assert "Not active at" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than a phone
    screenshot(page, "30-certificate-check-phone")

    page.goto(f"{base}/status/")
    page.get_by_label("Tracking number").fill(application.tracking_number)
    page.get_by_label("Status secret").fill(secret)
    page.get_by_label("Status secret").press("Enter")
    page.wait_for_selector("ol.history li")
    assert "Submitted" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "31-public-status-phone")
    violations = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not violations, violations
