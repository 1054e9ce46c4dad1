"""Every page each role reaches, in English and in Urdu, on a phone and on a desktop.

On each page the walk (tests/browser/crawl.py) checks, at 360, 390 and 1280 px, that the page is
no wider than the window (nothing to scroll sideways but a table's own labelled region), and runs
axe-core (from npm: node_modules/axe-core) at 390 px for accessibility faults. A critical or serious
finding fails the test; what was found goes to build/every-page-<lang>.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.crawl import walk_every_role
from tests.conftest import require_tool

pytestmark = [
    pytest.mark.browser,
    pytest.mark.inject_scripts,  # axe-core is added to each page, past its Content-Security-Policy
    pytest.mark.django_db(transaction=True),
]

AXE = Path("node_modules/axe-core/axe.min.js")
WIDTHS = (360, 390, 1280)  # the narrowest phones in use, a common one, a desktop
AXE_WIDTH = 390
# What axe-core reports per violation: its rule, how bad, and where (the first few elements).
RUN_AXE = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact,
    where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}
"""
WIDER = "() => document.documentElement.scrollWidth - window.innerWidth"


def inspect(page, path: str) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if (extra := page.evaluate(WIDER)) > 0:
            found.append(f"{width} px: {extra} px wider than the window")
    page.set_viewport_size({"width": AXE_WIDTH, "height": 900})
    page.add_script_tag(path=str(AXE))
    for v in page.evaluate(RUN_AXE):
        if v["impact"] in {"critical", "serious"}:
            found.append(f"axe {v['impact']} {v['id']}: {', '.join(v['where'])}")
    page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
    return found


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_every_page_fits_a_phone_and_passes_axe(live_server, browser_page, demo_accounts, lang):
    if not AXE.exists():
        require_tool("axe-core (npm ci)")
    found = walk_every_role(browser_page, live_server.url, demo_accounts, lang, inspect)
    report = Path("build") / f"every-page-{lang}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(found, ensure_ascii=False, indent=1))
    faults = {role: {path: f for path, f in pages.items() if f} for role, pages in found.items()}
    faults = {role: pages for role, pages in faults.items() if pages}
    assert not faults, f"pages too wide or with serious accessibility faults (see {report}): {faults}"
