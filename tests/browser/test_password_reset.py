"""A forgotten password in a real browser, on a phone's width: ask, read the email, choose, log in.

The email goes through the console mail backend, as on a development machine, and the test reads the
link from what it printed.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW = "a-new-long-passphrase-47"


def test_a_person_resets_a_forgotten_password_on_a_phone(
    live_server, world, browser_page, screenshot, settings, capsys
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.SITE_URL = live_server.url
    user = world.applicant
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.locator("main").get_by_role("button", name="Log in").click()
    assert page.get_by_label("Username").input_value() == user.username  # kept after the failure
    page.get_by_role("link", name="Forgotten your password?").click()

    page.get_by_role("button", name="Email me a link").click()  # nothing typed: the summary names it
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "id_email"
    page.get_by_label("Email address").fill(user.email)
    page.get_by_role("button", name="Email me a link").click()
    # (the address keeps the #id_email the summary's link added: browsers carry it through redirects)
    page.wait_for_url(re.compile(r"/password-reset/sent/"))
    screenshot(page, "en-password-reset-sent-390")

    printed = capsys.readouterr().out
    link = re.search(rf"{re.escape(base)}/password-reset/\S+/\S+/", printed)
    assert link, printed
    page.goto(link.group(0))
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password confirmation").fill(NEW)
    page.get_by_role("button", name="Save the new password").click()
    page.wait_for_url(f"{base}/password-reset/done/")
    screenshot(page, "en-password-reset-done-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    login(page, base, user.username, NEW)
    assert page.locator("h1").inner_text() == "My work"
