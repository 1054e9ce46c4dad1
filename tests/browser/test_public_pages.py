"""Public pages and the API docs render in a real browser under the Content-Security-Policy."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_pages_and_docs_render_without_policy_violations(live_server, browser_page, screenshot):
    page, base = browser_page, live_server.url
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{base}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)  # the operations were drawn by its script
    assert page.locator(".swagger-ui .opblock").count() > 10
    screenshot(page, "20-api-docs")
    for path, name in [("/events/", "21-events"), ("/statistics/", "22-statistics")]:
        page.goto(f"{base}{path}")
        screenshot(page, name)
    violations = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not violations, violations
