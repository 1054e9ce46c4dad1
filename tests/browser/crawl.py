"""Walking every page each role reaches, for the checks that must hold on all of them.

The walk loads nothing itself: it is given a signed-in browser page and follows every link of the
portal it finds (GET only, so it changes nothing), a few pages of each shape (`/registrations/17/`
and `/registrations/18/` are one shape), and hands each page to an `inspect` function that returns
what it found wrong there. It ends by itself: at most PAGES_PER_ROLE pages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from urllib.parse import urldefrag, urlsplit

from django.utils import translation
from playwright.sync_api import Error as PlaywrightError

from tests.auth import fresh_code

PAGES_PER_ROLE = 80
PAGES_PER_SHAPE = 2
# Links the walk does not follow: files (CSV, JSON, PDF), the API, the admin, static files.
SKIP = re.compile(
    r"^/(api|admin|static|media|i18n)/|\.(csv|json|pdf|txt|sig|minisig|nft|ipset|conf|ics|png|svg)$|/download/"
)
LINKS = "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


class Crawl:
    def __init__(self, page, base: str, lang: str, inspect: Callable[[object, str], list]):
        self.page, self.base, self.lang, self.inspect = page, base, lang, inspect
        self.found: dict[str, list] = {}
        self.shapes: Counter[str] = Counter()

    def _local(self, url: str) -> str | None:
        url, _ = urldefrag(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            return None
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if SKIP.search(parts.path) or "lang=" in parts.query or parts.path.startswith("/logout"):
            return None
        return path

    def run(self, start: str = "/") -> dict[str, list]:
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
            assert self.page.locator("html").get_attribute("lang") == self.lang, f"{path} left {self.lang}"
            self.found[path] = self.inspect(self.page, path)
            for url in self.page.evaluate(LINKS):
                local = self._local(url)
                if local and local not in seen:
                    seen.add(local)
                    queue.append(local)
        return self.found


def _t(lang: str, message: str) -> str:
    with translation.override(lang):
        return translation.gettext(message)


def choose_language(page, base: str, lang: str) -> None:
    """The language chosen with the switch, as a person does; English is chosen too (a browser that
    chose nothing gets the account's stored language at login, and the demo's people read Urdu)."""
    page.goto(f"{base}/events/")
    if page.locator("html").get_attribute("lang") != lang:
        page.locator(f"button[name=language][value={lang}]").click()
        page.wait_for_load_state("domcontentloaded")
    else:
        page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    assert page.locator("html").get_attribute("lang") == lang


def log_in(page, base: str, account, lang: str) -> None:
    """An account of the demo (username, password, TOTP secret for staff), as a person logs in."""
    page.goto(f"{base}/login/")
    page.get_by_label(_t(lang, "Username")).fill(account["username"])
    page.get_by_label(_t(lang, "Password")).fill(account["password"])
    page.locator("main").get_by_role("button", name=_t(lang, "Log in")).click()
    if account["totp_secret"]:
        page.wait_for_url(f"{base}/login/otp/**")
        page.get_by_label(_t(lang, "Code from your authenticator app")).fill(
            fresh_code(account["totp_secret"])
        )
        page.locator("main").get_by_role("button", name=_t(lang, "Verify")).click()
    page.wait_for_url(f"{base}/")


def walk_every_role(page, base: str, accounts: list[dict], lang: str, inspect) -> dict[str, dict[str, list]]:
    """{role: {path: findings}} for the public pages and each demo account's, in `lang`."""
    found = {}
    for role, account in [("public", None)] + [(a["role"], a) for a in accounts]:
        page.context.clear_cookies()
        choose_language(page, base, lang)
        start = "/events/"
        if account is not None:
            log_in(page, base, account, lang)
            start = "/"
        found[role] = Crawl(page, base, lang, inspect).run(start)
    return found
