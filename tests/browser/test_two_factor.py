"""Staff log in with a TOTP code in a real browser, and set up an authenticator on their first login."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth import code, totp_secret
from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_log_in_with_a_code_and_set_one_up_first(live_server, world, browser_page, screenshot):
    page, base = browser_page, live_server.url
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    # An auditor with an authenticator: a wrong code is refused beside the field, the right one lets in.
    secret = totp_secret(world.auditor)
    page.goto(f"{base}/audit/")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/login/otp/**")
    field = page.get_by_label("Code from your authenticator app")
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert field.get_attribute("inputmode") == "numeric"
    near = {code(secret, steps_ahead=k) for k in (-2, -1, 0, 1, 2)}
    field.fill(next(c for c in ("000000", "111111", "222222") if c not in near))
    page.get_by_role("button", name="Verify").click()
    assert "not right" in page.get_by_role("alert").inner_text()
    screenshot(page, "30-staff-totp-refused")
    TOTPDevice.objects.filter(user=world.auditor).update(throttling_failure_count=0)  # skip the wait
    page.get_by_label("Code from your authenticator app").fill(code(secret))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/audit/")  # where the auditor was going
    page.get_by_role("button", name="Log out").click()

    # Through the shared helper, as the other browser tests log staff in.
    login(page, base, "officer", totp_secret=totp_secret(world.officer))
    page.get_by_role("button", name="Log out").click()

    # A reviewer without one sets it up: a scannable code and the secret to type, then a code from it.
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/login/otp/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-factor authentication"
    qr = page.get_by_role("img", name="QR code of the secret below")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "31-staff-totp-enrol")
    typed = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from your authenticator app").fill(code(typed))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(f"{base}/")
    assert "Two-factor authentication is set up" in page.get_by_role("status").inner_text()
    assert TOTPDevice.objects.get(user=world.agency).confirmed

    violations = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not violations, violations
