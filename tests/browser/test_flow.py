"""The whole flow through the portal in a real browser, as the four roles, ending in latest.txt."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.auth import totp_secret
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def test_whole_flow_in_the_browser(live_server, world, browser_page, screenshot):
    page, base = browser_page, live_server.url

    login(page, base, "applicant")
    screenshot(page, "01-applicant-home")
    page.get_by_role("link", name="New application").first.click()
    page.get_by_label("Address or prefix 1").fill("14.1.105.0/24")
    page.get_by_label("Subscriber ID 1").fill("SUB-77")
    page.get_by_role("button", name="Add another resource").click()  # one at a time, as on a phone
    assert page.get_by_label("Address or prefix 1").input_value() == "14.1.105.0/24"
    page.get_by_label("Address or prefix 2").fill("10.1.1.0/24")
    page.get_by_label("Subscriber ID 2").fill("SUB-78")
    page.get_by_role("button", name="Save draft").click()
    # The bad row is named beside its field, and nothing was saved.
    error = page.locator("#id_form-1-value-error")
    assert "private-use" in error.inner_text()
    screenshot(page, "02-applicant-error-beside-field")
    page.get_by_label("Address or prefix 2").fill("")
    page.get_by_label("Subscriber ID 2").fill("")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Submit application").click()
    tracking = page.locator("#tracking-number").inner_text()
    assert tracking.startswith("VR-") and page.locator("#status-secret").is_visible()
    screenshot(page, "03-applicant-submitted")
    log_out(page)

    login(page, base, "reviewer", totp_secret=totp_secret(world.agency))
    page.get_by_role("link", name=tracking).click()
    page.get_by_label("Verified").check()
    page.get_by_role("button", name="Record").click()
    expect(page.locator("body")).to_contain_text("Done.")
    screenshot(page, "04-agency-verified")
    log_out(page)

    login(page, base, "indus-staff", totp_secret=totp_secret(world.operator))
    page.get_by_role("link", name=tracking).click()
    page.get_by_label("Yes, assigned").check()
    page.get_by_role("button", name="Record").click()
    # 256 addresses: the fee applies before the decision.
    expect(page.locator("body")).to_contain_text("Awaiting payment")
    screenshot(page, "05-operator-attested")
    log_out(page)

    login(page, base, "officer", totp_secret=totp_secret(world.officer))
    page.goto(f"{base}/applications/?state=awaiting_payment")
    page.get_by_role("link", name=tracking).click()
    page.get_by_label("Payment reference").fill("HBL-2026-000042")
    page.get_by_role("button", name="Record payment").click()
    assert "Awaiting decision" in page.locator("h1").inner_text()
    screenshot(page, "06-officer-payment-recorded")
    page.get_by_label("Approve").check()
    page.get_by_label("Reason (required to reject or return)").fill("Documents and attestation in order.")
    page.get_by_role("button", name="Record").click()
    assert "Approved" in page.locator("h1").inner_text()
    screenshot(page, "07-officer-approved")

    page.get_by_role("link", name="Allowlist").click()
    expect(page.locator("body")).to_contain_text("Latest serial")
    screenshot(page, "08-officer-allowlist")

    page.goto(f"{base}/api/v1/allowlist/latest.txt")
    body = page.locator("body").inner_text()
    assert "14.1.105.0/24" in body.splitlines()
    assert "# serial: 1" in body
