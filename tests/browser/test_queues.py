"""The queue, the turnaround report and notifications in a real browser, at desktop and phone width."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.auth import totp_secret
from tests.browser.conftest import login
from tests.browser.test_flow import log_out
from tests.workflow import draft
from vpnregistry.applications import services
from vpnregistry.applications.models import Application, StepTarget

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_queue_turnaround_and_notifications(live_server, world, browser_page, screenshot):
    page, base = browser_page, live_server.url
    late = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=late)
    Application.objects.filter(pk=late.pk).update(submitted_at=timezone.now() - timedelta(days=9))
    late.refresh_from_db()
    fresh = draft(world, "14.1.106.0/24")
    services.application_submit(actor=world.applicant, application=fresh)
    fresh.refresh_from_db()
    # Set here: a transactional test before this one may have flushed the seeded targets.
    StepTarget.objects.update_or_create(step="agency", defaults={"days": 5})
    StepTarget.objects.update_or_create(step="decision", defaults={"days": 3})

    login(page, base, "reviewer", totp_secret=totp_secret(world.agency))
    page.get_by_role("link", name="Queue").click()
    rows = page.locator("table.queue tbody tr")
    assert rows.nth(0).inner_text().startswith(late.tracking_number)
    assert "overdue" in rows.nth(0).inner_text() and "overdue" not in rows.nth(1).inner_text()
    screenshot(page, "20-agency-queue")
    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Filter").click()
    assert page.locator("table.queue tbody tr").count() == 1
    # The agency was told of both submissions: the unread count is in the navigation.
    page.get_by_role("link", name="Notifications").click()
    assert page.locator(".count").first.inner_text().startswith("2")
    screenshot(page, "21-agency-notifications")
    page.get_by_role("button", name="Mark all read").click()
    assert page.locator(".count").count() == 0
    log_out(page)

    page.set_viewport_size({"width": 375, "height": 800})
    login(page, base, "officer", totp_secret=totp_secret(world.officer))
    page.goto(f"{base}/turnaround/")
    assert page.get_by_label("Decision").input_value() == "3"
    page.get_by_label("Decision").fill("4")
    page.get_by_label("Decision").press("Enter")  # by keyboard: the form submits
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("Done.")
    screenshot(page, "22-officer-turnaround-phone")
    assert StepTarget.objects.get(step="decision").days == 4
