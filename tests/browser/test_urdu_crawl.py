"""Every page each role reaches, read in Urdu: no English word may sit outside a left-to-right run.

The crawl loads the demo world (every role, every category, applications in every state), signs in as
each of its accounts with Urdu chosen, and follows every link of the portal it finds (GET only, so it
changes nothing), a few pages of each shape (`/registrations/17/` and `/registrations/18/` are one
shape). On each page it reads the text a person sees: text nodes, buttons, placeholders, the title.

A word counts as English when it is Latin letters outside an isolated left-to-right run (`<bdi>`, an
element with `dir="ltr"`, `<code>`): names of people and organisations, addresses, codes and hashes
are shown in such runs, so the only English left is words that should have been translated. Acronyms
(PKT, CSV, IPv4) and values with digits (A-2026-000017) are codes, not words.

Besides failing, the crawl writes what it found to build/urdu-crawl.json (per role: pages, English
words, the worst pages with examples), and with VPNREGISTRY_CRAWL_SCREENSHOTS=1 a screenshot of each
page at 390 px and 1280 px to build/screenshots/crawl/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Error as PlaywrightError

from tests.auth import fresh_code
from tests.browser.conftest import SCREENSHOTS
from vpnregistry import demo
from vpnregistry.accounts.models import User

# serialized_rollback: the reference data the migrations seeded (districts, reasons) stays for the demo.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Pages per role, and pages of one shape (digits replaced), read at most: the crawl ends by itself.
PAGES_PER_ROLE = 80
PAGES_PER_SHAPE = 2
REPORT = Path("build") / "urdu-crawl.json"
# Links the crawl does not follow: files (CSV, JSON, PDF), the API, the admin, static files.
SKIP = re.compile(
    r"^/(api|admin|static|media|i18n)/|\.(csv|json|pdf|txt|sig|minisig|nft|ipset|conf|ics|png|svg)$|/download/"
)
# The text of every element a person can read, with whether it sits in a left-to-right run. Runs a
# tree walker over text nodes, then the values of buttons and the placeholders of fields.
READ_PAGE = """
() => {
  const LTR = 'bdi, [dir=ltr], code, kbd, samp, pre, script, style, noscript, template, [hidden]';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest(LTR)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    out.push(node.textContent);
  }
  const FIELDS = 'input[type=submit], input[type=button], [placeholder], [aria-label], img[alt]';
  for (const el of document.querySelectorAll(FIELDS)) {
    if (el.closest(LTR)) continue;
    for (const attr of ['value', 'placeholder', 'aria-label', 'alt']) {
      if (attr === 'value' && !['submit', 'button'].includes(el.type)) continue;
      const v = el.getAttribute(attr);
      if (v) out.push(v);
    }
  }
  out.push(document.title);
  return out;
}
"""
LINKS = "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"
WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]+")
# Plain text (a title, a CSV) isolates a left-to-right run with the Unicode marks LRI ... PDI.
ISOLATED = re.compile("\u2066[^\u2069]*\u2069")
ACRONYM = re.compile(r"^(?:[A-Z]{2,6}|IPv[46]s?)$")


def english_words(texts: list[str]) -> list[tuple[str, str]]:
    """(word, the text it stands in) for each English word: Latin letters that are not an acronym."""
    found = []
    for text in texts:
        text = ISOLATED.sub(" ", text)
        for token in re.split(r"\s+", text):
            if any(ch.isdigit() for ch in token):
                continue
            for word in WORD.findall(token):
                if not ACRONYM.match(word):
                    found.append((word, " ".join(text.split())[:80]))
    return found


def test_english_words_are_found_outside_ltr_runs_only():
    texts = ["منظوری Approved", "IPv4 PKT CSV", "A-2026-000017", "can't stop", "\u2066name@example.com\u2069"]
    words = [w for w, _ in english_words(texts)]
    assert words == ["Approved", "can't", "stop"]


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


class Crawl:
    def __init__(self, page, base: str, role: str):
        self.page, self.base, self.role = page, base, role
        self.found: dict[str, list[tuple[str, str]]] = {}
        self.shapes: Counter[str] = Counter()
        self.shots = os.environ.get("VPNREGISTRY_CRAWL_SCREENSHOTS") == "1"

    def _local(self, url: str) -> str | None:
        url, _ = urldefrag(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            return None
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if SKIP.search(parts.path) or "lang=" in parts.query or parts.path.startswith("/logout"):
            return None
        return path

    def run(self, start: str = "/") -> None:
        queue, seen = [start], {start}
        while queue and len(self.found) < PAGES_PER_ROLE:
            path = queue.pop(0)
            if self.shapes[shape(path)] >= PAGES_PER_SHAPE:
                continue
            try:
                response = self.page.goto(f"{self.base}{path}")
            except PlaywrightError as error:  # a file the server sends as a download: not a page
                if "Download is starting" in str(error):
                    continue
                raise
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            self.shapes[shape(path)] += 1
            assert self.page.locator("html").get_attribute("lang") == "ur", f"{path} left Urdu"
            self.found[path] = english_words(self.page.evaluate(READ_PAGE))
            if self.shots:
                self._screenshots(path)
            for url in self.page.evaluate(LINKS):
                local = self._local(url)
                if local and local not in seen:
                    seen.add(local)
                    queue.append(local)

    def _screenshots(self, path: str) -> None:
        folder = SCREENSHOTS / "crawl"
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"
        for width in (390, 1280):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(folder / f"{self.role}-{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})

    def summary(self) -> dict:
        words = Counter(w for found in self.found.values() for w, _ in found)
        worst = sorted(self.found.items(), key=lambda kv: -len(kv[1]))[:10]
        return {
            "pages": len(self.found),
            "english_words": sum(words.values()),
            "commonest": words.most_common(30),
            "worst_pages": [
                {"path": path, "english_words": len(found), "examples": sorted({t for _, t in found})[:8]}
                for path, found in worst
                if found
            ],
        }


def _gettext_ur(message: str) -> str:
    with translation.override("ur"):
        return translation.gettext(message)


def _choose_urdu(page, base: str) -> None:
    page.goto(f"{base}/events/")
    page.locator("button[name=language][value=ur]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("html").get_attribute("lang") == "ur"


def _log_in(page, base: str, account) -> None:
    t = _gettext_ur
    page.goto(f"{base}/login/")
    page.get_by_label(t("Username")).fill(account.username)
    page.get_by_label(t("Password")).fill(account.password)
    page.locator("main").get_by_role("button", name=t("Log in")).click()
    if account.totp_secret:
        page.wait_for_url(f"{base}/login/otp/**")
        page.get_by_label(t("Code from your authenticator app")).fill(fresh_code(account.totp_secret))
        page.locator("main").get_by_role("button", name=t("Verify")).click()
    page.wait_for_url(f"{base}/")


@pytest.fixture
def demo_accounts(settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch):
    settings.DEBUG = True  # the demo refuses to load without it (pytest-django turns it off)
    settings.VAR_DIR = tmp_path
    # The demo's people read Urdu: what is written for them as it loads (notifications) is in Urdu,
    # as it would be for people who had chosen Urdu before (stored text keeps its language).
    monkeypatch.setattr(User._meta.get_field("language"), "default", "ur")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    return json.loads(demo.accounts_path().read_text())


@pytest.mark.xfail(reason="the catalogue is being completed; strict once the round's work has landed")
def test_every_page_each_role_reaches_reads_in_urdu(live_server, browser_page, demo_accounts):
    from types import SimpleNamespace

    page, base = browser_page, live_server.url
    context = page.context
    report = {}
    roles = [("public", None)] + [(a["role"], SimpleNamespace(**a)) for a in demo_accounts]
    for role, account in roles:
        context.clear_cookies()
        _choose_urdu(page, base)
        start = "/events/"
        if account is not None:
            _log_in(page, base, account)
            start = "/"
        crawl = Crawl(page, base, role)
        crawl.run(start)
        report[role] = crawl.summary()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    counts = {role: r["english_words"] for role, r in report.items()}
    assert all(r["pages"] >= 3 for r in report.values()), {role: r["pages"] for role, r in report.items()}
    assert not any(counts.values()), (
        f"English words outside left-to-right runs, per role: {counts}; see {REPORT}. "
        f"Worst: {[(role, r['worst_pages'][:2]) for role, r in report.items() if r['english_words']]}"
    )
