"""Each role's main path in a real browser, once in English and once in Urdu, with screenshots.

Labels are looked up through the same catalogue the pages use, so one walk serves both languages;
the screenshots land in build/screenshots/<lang>-NN-<role>-<page>.png for a person to look at.
"""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.auth import totp_secret
from tests.browser.conftest import login
from vpnregistry.accounts.two_factor import must_use_totp
from vpnregistry.transparency.statistics import refresh_statistics

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def translator(lang: str):
    def t(message: str) -> str:
        with translation.override(lang):
            return translation.gettext(message)

    return t


class Walk:
    def __init__(self, page, base, lang, screenshot):
        self.page, self.base, self.lang, self.shot = page, base, lang, screenshot
        self.t = translator(lang)
        self.n = 0

    def snap(self, role: str, name: str) -> None:
        self.n += 1
        self.shot(self.page, f"{self.lang}-{self.n:02d}-{role}-{name}")

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def choose_language(self) -> None:
        self.open("/events/")
        if self.lang == "ur":
            self.page.locator("button[name=language][value=ur]").click()
        html = self.page.locator("html")
        assert html.get_attribute("lang") == self.lang
        assert html.get_attribute("dir") == ("rtl" if self.lang == "ur" else "ltr")

    def log_in(self, user) -> None:
        """The password, and for staff the code of their authenticator (the shared helper, translated)."""
        secret = totp_secret(user) if must_use_totp(user) else None
        login(self.page, self.base, user.username, totp_secret=secret, t=self.t)
        assert self.page.locator("h1").inner_text() == self.t("My work")

    def log_out(self) -> None:
        self.page.get_by_role("button", name=self.t("Log out")).click()

    def nav(self, label: str) -> None:
        self.page.get_by_role("navigation").get_by_role("link", name=self.t(label), exact=True).click()
        self.page.wait_for_load_state("domcontentloaded")


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_each_role_walks_its_main_path(live_server, world, browser_page, screenshot, lang):
    walk = Walk(browser_page, live_server.url, lang, screenshot)
    page, t = walk.page, walk.t
    walk.choose_language()

    # Applicant: a draft with an error named beside its field, corrected, then submitted.
    walk.log_in(world.applicant)
    walk.snap("applicant", "home")
    walk.nav("New application")
    page.get_by_label(f"{t('Address or prefix')} 1").fill("14.1.105.0/24")
    page.get_by_label(f"{t('Subscriber ID')} 1").fill("SUB-77")
    page.get_by_role("button", name=t("Add another resource")).click()
    page.get_by_label(f"{t('Address or prefix')} 2").fill("10.1.1.0/24")
    page.get_by_label(f"{t('Subscriber ID')} 2").fill("SUB-78")
    page.get_by_role("button", name=t("Save draft")).click()
    assert page.locator("#id_form-1-value-error").is_visible()
    walk.snap("applicant", "error-beside-field")
    page.get_by_label(f"{t('Address or prefix')} 2").fill("")
    page.get_by_label(f"{t('Subscriber ID')} 2").fill("")
    page.get_by_role("button", name=t("Save draft")).click()
    page.get_by_role("button", name=t("Submit application")).click()
    tracking = page.locator("#tracking-number").inner_text()
    assert tracking.startswith("VR-") and page.locator("#status-secret").is_visible()
    walk.snap("applicant", "submitted")
    walk.log_out()

    # Agency reviewer: the application waits in the queue; verify it.
    walk.log_in(world.agency)
    walk.snap("agency", "queue")
    page.get_by_role("link", name=tracking).click()
    page.get_by_label(t("Verified")).check()
    page.get_by_role("button", name=t("Record")).click()
    expect(page.locator("body")).to_contain_text(t("Done."))
    walk.snap("agency", "verified")
    walk.log_out()

    # Operator: attest the resource in its space; see the allowlist page.
    walk.log_in(world.operator)
    walk.snap("operator", "queue")
    page.get_by_role("link", name=tracking).click()
    page.get_by_label(t("Yes, assigned")).check()
    page.get_by_role("button", name=t("Record")).click()
    # 256 addresses: the fee applies before the decision.
    expect(page.locator("body")).to_contain_text(t("Awaiting payment"))
    walk.snap("operator", "attested")
    walk.nav("Allowlist")
    walk.snap("operator", "allowlist")
    walk.log_out()

    # Officer: record the fee's payment, approve with a reason; the registration appears; suspend it.
    walk.log_in(world.officer)
    walk.snap("officer", "queue")
    page.get_by_role("link", name=tracking).click()
    page.get_by_label(t("Payment reference")).fill("HBL-2026-000042")
    page.get_by_role("button", name=t("Record payment")).click()
    assert t("Awaiting decision") in page.locator("h1").inner_text()
    walk.snap("officer", "payment-recorded")
    page.get_by_label(t("Approve")).check()
    page.get_by_label(t("Reason (required to reject or return)")).fill("Documents and attestation in order.")
    page.get_by_role("button", name=t("Record")).click()
    assert t("Approved") in page.locator("h1").inner_text()
    walk.snap("officer", "approved")
    walk.nav("Registrations")
    walk.snap("officer", "registrations")
    page.locator("table a").first.click()
    page.get_by_label(t("Why is it suspended?")).fill("Court order 12/2026.")
    page.get_by_role("button", name=t("Suspend")).click()
    assert t("Suspended") in page.locator("h1").inner_text()
    walk.snap("officer", "suspended")
    walk.nav("Restriction events")
    walk.snap("officer", "events")
    walk.log_out()

    # Auditor: reads the audit log and the registrations, and is offered no step.
    walk.log_in(world.auditor)
    walk.nav("Audit log")
    expect(page.locator("body")).to_contain_text("registration.suspend")
    walk.snap("auditor", "audit-log")
    walk.nav("Registrations")
    page.locator("table a").first.click()
    assert page.locator("main form[method=post]").count() == 0
    walk.snap("auditor", "registration")
    walk.log_out()

    # The holder sees the suspension and its reason; the public pages in the same language.
    walk.log_in(world.applicant)
    walk.nav("Registrations")
    page.locator("table a").first.click()
    expect(page.locator("body")).to_contain_text("Court order 12/2026.")
    walk.snap("applicant", "registration")
    refresh_statistics()  # what the scheduled job does every 10 minutes
    walk.nav("Statistics")
    walk.snap("public", "statistics")


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_phone_width_has_no_sideways_scroll(live_server, world, browser_page, screenshot, lang):
    walk = Walk(browser_page, live_server.url, lang, screenshot)
    page = walk.page
    page.set_viewport_size({"width": 390, "height": 844})
    walk.choose_language()
    walk.log_in(world.officer)
    for path, name in [("/", "home"), ("/registrations/", "registrations"), ("/events/", "events")]:
        walk.open(path)
        # Wide tables scroll inside their own box; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        walk.snap("phone", name)


def test_keyboard_reaches_the_skip_link_and_the_form(live_server, world, browser_page):
    page, base = browser_page, live_server.url
    page.goto(f"{base}/events/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # On the login page the username has the focus, and every field of the login form has a label
    # a screen reader reads out.
    page.goto(f"{base}/login/")
    assert page.evaluate("document.activeElement.id") == "id_username"
    for field in page.locator("main input:not([type=hidden])").all():
        field_id = field.get_attribute("id")
        assert page.locator(f"label[for='{field_id}']").count() == 1, field_id
