"""Every page each role reaches, read in Urdu: no English word may sit outside a left-to-right run.

The walk (tests/browser/crawl.py) signs in as each account of the demo world with Urdu chosen and
reads, on every page it reaches, the text a person sees: text nodes, buttons, placeholders, labels
for screen readers, the title.

A word counts as English when it is Latin letters outside an isolated left-to-right run (`<bdi>`, an
element with `dir="ltr"`, `<code>`, or in plain text the marks LRI ... PDI): names of people and
organisations, addresses, codes and hashes are shown in such runs, so the only English left is
words that should have been translated. Acronyms (PKT, CSV, IPv4) and values with digits
(A-2026-000017) are codes, not words.

Besides failing, the walk writes what it found to build/urdu-crawl.json (per role: pages, English
words, the worst pages with examples).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.browser.crawl import walk_every_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = Path("build") / "urdu-crawl.json"
# The text of every element a person can read, outside left-to-right runs: a tree walker over text
# nodes, then the values of buttons, placeholders, labels for screen readers, and the title.
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
WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]+")
# Plain text (a title, an option, a notification) isolates a run with the Unicode marks LRI or FSI
# ... PDI.
ISOLATED = re.compile("[\u2066\u2068][^\u2069]*\u2069")
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


def summary(pages: dict[str, list[tuple[str, str]]]) -> dict:
    words = Counter(w for found in pages.values() for w, _ in found)
    worst = sorted(pages.items(), key=lambda kv: -len(kv[1]))[:10]
    return {
        "pages": len(pages),
        "english_words": sum(words.values()),
        "commonest": words.most_common(30),
        "worst_pages": [
            {"path": path, "english_words": len(found), "examples": sorted({t for _, t in found})[:8]}
            for path, found in worst
            if found
        ],
    }


def test_every_page_each_role_reaches_reads_in_urdu(live_server, browser_page, demo_accounts):
    found = walk_every_role(
        browser_page,
        live_server.url,
        demo_accounts,
        "ur",
        lambda page, path: english_words(page.evaluate(READ_PAGE)),
    )
    report = {role: summary(pages) for role, pages in found.items()}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    counts = {role: r["english_words"] for role, r in report.items()}
    assert all(r["pages"] >= 3 for r in report.values()), {role: r["pages"] for role, r in report.items()}
    assert not any(counts.values()), (
        f"English words outside left-to-right runs, per role: {counts}; see {REPORT}. "
        f"Worst: {[(role, r['worst_pages'][:2]) for role, r in report.items() if r['english_words']]}"
    )
