"""Playwright driving the system's Chromium; never a downloaded browser."""

from __future__ import annotations

import json
import os
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connections

from tests.auth import fresh_code
from tests.conftest import require_tool
from tests.factories import PASSWORD
from vpnregistry import demo
from vpnregistry.accounts.models import User

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Git-ignored, and apart from var/ (the registry's own data, which a test run leaves alone).
SCREENSHOTS = Path(os.environ.get("VPNREGISTRY_SCREENSHOTS", "build/screenshots"))


@pytest.fixture
def browser_page(monkeypatch, request):
    chromium = os.environ.get("VPNREGISTRY_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        require_tool("chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        # Tests that inject a checker of their own (axe-core) ask the page's CSP to let it run.
        bypass_csp = request.node.get_closest_marker("inject_scripts") is not None
        context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=bypass_csp)
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # Django keeps connections per context (asgiref's Local), and the test ran its ORM calls
            # under Playwright's greenlets: close what they opened here, or it outlives the test and
            # keeps PostgreSQL from dropping the test database at the end of the run.
            connections.close_all()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return _shot


def login(
    page, base: str, username: str, password: str = PASSWORD, totp_secret: str | None = None, t=str
) -> None:
    """Log in as a person does: the password, then (staff) the code an authenticator shows for the secret.

    `t` translates the labels, for walks in another language. A second login of the same user types
    the next code, as the registry never takes one twice.
    """
    page.goto(f"{base}/login/")
    page.get_by_label(t("Username")).fill(username)
    page.get_by_label(t("Password")).fill(password)
    page.locator("main").get_by_role("button", name=t("Log in")).click()
    if totp_secret is not None:
        page.wait_for_url(f"{base}/login/otp/**")
        page.get_by_label(t("Code from your authenticator app")).fill(fresh_code(totp_secret))
        page.locator("main").get_by_role("button", name=t("Verify")).click()
    page.wait_for_url(f"{base}/")


# The reference data the migrations seed, by the migrations' own steps (module, function).
SEEDING_STEPS = [
    ("vpnregistry.accounts.migrations.0002_province_district", "load_districts"),
    ("vpnregistry.restrictions.migrations.0001_initial", "load_services"),
    ("vpnregistry.applications.migrations.0004_workflow", "seed_reasons"),
    ("vpnregistry.accounts.migrations.0009_urdu_names", "fill_urdu_names"),
    ("vpnregistry.applications.migrations.0009_rejection_reason_urdu_name", "fill_urdu_names"),
    ("vpnregistry.restrictions.migrations.0004_service_urdu_name", "fill_urdu_names"),
]


@pytest.fixture
def demo_accounts(settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch):
    """The demo world (every role, every category, applications in every state) and its accounts.

    Its people read Urdu: what is written for them as it loads (notifications) is in Urdu, as it
    would be for people who had chosen Urdu before (stored text keeps the language it was written in).
    A transactional test's flush removes what the migrations seeded (districts, services, rejection
    reasons): their own seeding steps put it back first.
    """
    for module, step in SEEDING_STEPS:
        getattr(import_module(module), step)(django_apps, None)
    settings.DEBUG = True  # the demo refuses to load without it (pytest-django turns it off)
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(User._meta.get_field("language"), "default", "ur")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    return json.loads(demo.accounts_path().read_text())
