"""Values that read right in a real browser: in Urdu a fact's value stays beside its label, and a
prefix reads "14.1.105.0/24" (not "24/14.1.105.0"), at desktop and at phone width; screenshots of
each page in both languages land in build/screenshots/bidi-*.png for a person to look at."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import translation

from tests.browser.conftest import login
from tests.workflow import approved
from vpnregistry.registrations.models import Registration
from vpnregistry.transparency.statistics import refresh_statistics

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = "14.1.105.0/24"

# Where a fact's value is drawn, against its label: the rectangles of the label (dt) and of the text
# of its value (the dd's contents, not the dd's box, which may be as wide as its column).
FACT = """([dl, label]) => {
  const dt = [...dl.querySelectorAll('dt')].find(d => d.textContent.trim() === label);
  const range = document.createRange();
  range.selectNodeContents(dt.nextElementSibling);
  const a = dt.getBoundingClientRect(), b = range.getBoundingClientRect();
  return {dt: [a.left, a.right, a.top, a.bottom], value: [b.left, b.right, b.top, b.bottom]};
}"""

# The prefix's element: its direction, what isolates it, and the on-screen x of its first character,
# of its "/" and of its last character (left to right on screen means it reads "x.x.x.x/24").
RUN = """(el) => {
  const text = el.firstChild, at = i => {
    const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
    return r.getBoundingClientRect().left;
  };
  const s = getComputedStyle(el);
  return {text: el.textContent, direction: s.direction, unicodeBidi: s.unicodeBidi,
          ltrRun: el.closest('[dir="ltr"]') !== null,
          xs: [at(0), at(text.length - 3), at(text.length - 1)]};
}"""


def t(lang: str, message: str) -> str:
    with translation.override(lang):
        return translation.gettext(message)


def fact(page, label: str) -> dict:
    return page.locator("dl.facts").first.evaluate(f"(dl, label) => ({FACT})([dl, label])", label)


def test_a_value_stays_beside_its_label_and_a_prefix_reads_left_to_right(
    live_server, world, browser_page, screenshot
):
    page, base = browser_page, live_server.url
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = approved(world, PREFIX)
    registration = Registration.objects.get(resource__application=application)
    cache.clear()
    refresh_statistics()
    for lang in ("ur", "en"):
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
        page.set_viewport_size({"width": 1280, "height": 900})
        login(page, base, world.applicant.username, t=lambda m, lang=lang: t(lang, m))
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ur" else "ltr")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/registrations/{registration.pk}/")
            # An English name, a prefix and a time, each against its label.
            for label in ("Organisation", "Resource", "Valid from"):
                box = fact(page, t(lang, label))
                (dt_left, dt_right, _, dt_bottom), (left, right, top, _) = box["dt"], box["value"]
                if width == 1280:  # beside the label, on the side the language reads towards
                    gap = dt_left - right if lang == "ur" else left - dt_right
                    assert 0 <= gap <= 40, (lang, label, box)
                else:  # under the label, from the same side
                    edge = abs(right - dt_right) if lang == "ur" else abs(left - dt_left)
                    assert edge <= 2 and top >= dt_bottom - 2, (lang, label, box)
            run = page.locator("dl.facts dd code", has_text=PREFIX).evaluate(RUN)
            assert run["text"] == PREFIX and run["ltrRun"], run
            assert run["direction"] == "ltr" and run["unicodeBidi"] == "isolate", run
            first, slash, last = run["xs"]
            assert first < slash < last, run  # on screen: "14.1.105.0/24", not "24/14.1.105.0"
            time = page.locator("dl.facts dd time").first
            assert time.inner_text().endswith(" PKT") and time.get_attribute("dir") == "ltr"
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            screenshot(page, f"bidi-{lang}-{width}-registration")
            page.goto(f"{base}/applications/{application.pk}/")
            screenshot(page, f"bidi-{lang}-{width}-application")
            page.goto(f"{base}/statistics/")
            small = page.locator("table.stat td.n bdi", has_text="<5").first
            assert small.inner_text() == "<5" and small.get_attribute("dir") == "ltr"
            screenshot(page, f"bidi-{lang}-{width}-statistics")
        page.get_by_role("button", name=t(lang, "Log out")).click()
    cache.clear()
