"""An organisation signs itself up in a real browser, at phone width: confirm, log in, file documents."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.auth import totp_secret
from tests.browser.conftest import login
from vpnregistry.accounts.models import Document, User
from vpnregistry.accounts.sample_files import minimal_pdf, minimal_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unusual passphrase 2026"


def test_signup_confirm_and_file_documents_at_phone_width(
    live_server, world, browser_page, screenshot, tmp_path
):
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="Register an organisation").click()
    page.get_by_label("Organisation name").fill("Shalimar Software (Pvt) Ltd")
    page.get_by_label("Category").select_option("company")
    page.get_by_label("Email").fill("admin@shalimar.example")
    page.get_by_label("Username").fill("shalimar")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Register").click()
    # The refusal is beside the field, and the page still fits the phone.
    assert page.locator("#err_password").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "onboarding-01-signup-error-phone")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert not User.objects.get(username="shalimar").is_active

    link = re.search(r"http://\S+/signup/verify/\S+/", mail.outbox[-1].body).group(0)
    page.goto(base + link[link.index("/signup/") :])
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Username").fill("shalimar")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")

    page.get_by_text("Menu", exact=True).click()  # on a phone the menu folds behind one button
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    screenshot(page, "onboarding-02-documents-missing-phone")
    scan = tmp_path / "cnic.png"
    scan.write_bytes(minimal_png(64, 40))
    page.get_by_label("Document", exact=True).select_option("cnic")
    page.get_by_label("File: PDF, PNG or JPEG, up to 5 MB").set_input_files(str(scan))
    page.get_by_label("Valid until (if the document has an expiry date)").fill("2099-12-31")
    page.get_by_role("button", name="Upload").click()
    certificate = tmp_path / "incorporation.pdf"
    certificate.write_bytes(minimal_pdf("Certificate of incorporation"))
    page.get_by_label("Document", exact=True).select_option("incorporation")
    page.get_by_label("File: PDF, PNG or JPEG, up to 5 MB").set_input_files(str(certificate))
    page.get_by_role("button", name="Upload").click()
    assert "missing" not in page.locator("table").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "onboarding-03-documents-on-file-phone")
    types = set(
        Document.objects.filter(organisation__name="Shalimar Software (Pvt) Ltd").values_list(
            "content_type", flat=True
        )
    )
    assert types == {"image/png", "application/pdf"}

    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("navigation").get_by_role("link", name="Members").click()
    page.get_by_label("Their email address").fill("colleague@shalimar.example")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("body")).to_contain_text("colleague@shalimar.example")
    screenshot(page, "onboarding-04-organisation-phone")


def test_the_admin_works_under_the_content_security_policy(live_server, world, browser_page, screenshot):
    from tests.factories import PASSWORD as STAFF_PASSWORD

    page, base = browser_page, live_server.url
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, base, "officer", STAFF_PASSWORD, totp_secret=totp_secret(world.officer))
    page.goto(f"{base}/admin/accounts/category/{world.company.pk}/change/")
    screenshot(page, "onboarding-05-admin-category")
    page.get_by_role("heading", name="Document requirements").wait_for()
    # The two-box chooser of document types is built by the admin's script: it ran.
    assert page.locator(".selector-available").count() >= 1
    screenshot(page, "onboarding-05-admin-category")
    assert violations == []
