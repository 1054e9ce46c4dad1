"""PDFs printed from HTML by WeasyPrint: the registration certificate and the exemption statement.

WeasyPrint lays the page out with Pango, and HarfBuzz shapes the text, so Urdu's Nastaliq comes out
with its letters joined. The fonts are the project's own files (npm packages the Makefile's `assets`
copies into the portal's static files), never the system's or a CDN's, and the page may fetch
nothing else: the URL fetcher hands over those files and data: URIs, and refuses every other
address, so no value printed on a page can make the server read a file or call anywhere.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

FONTS = {
    "urdu_400": "vendor/noto-nastaliq-urdu/files/noto-nastaliq-urdu-arabic-400-normal.woff2",
    "urdu_700": "vendor/noto-nastaliq-urdu/files/noto-nastaliq-urdu-arabic-700-normal.woff2",
    "sans_400": "vendor/noto-sans/files/noto-sans-latin-400-normal.woff2",
    "sans_700": "vendor/noto-sans/files/noto-sans-latin-700-normal.woff2",
    "mono_400": "vendor/noto-sans-mono/files/noto-sans-mono-latin-400-normal.woff2",
}


def font_files() -> dict[str, Path]:
    """The fonts' files, found the way the portal's static files are found."""
    from django.contrib.staticfiles import finders

    found = {}
    for key, name in FONTS.items():
        path = finders.find(name)
        if not path:
            raise ImproperlyConfigured(f"the printing font {name} is missing: run `make assets`")
        found[key] = Path(path).resolve()
    return found


def font_urls() -> dict[str, str]:
    """The fonts' addresses for the templates' @font-face rules (printing/fonts.css)."""
    return {key: path.as_uri() for key, path in font_files().items()}


@functools.cache
def _decoded_font(path: Path) -> bytes:
    """The woff2 file as the TrueType font it packs, decoded once per process rather than at every
    page (WeasyPrint would decode it each time: Nastaliq's is large)."""
    from fontTools.ttLib import woff2

    out = io.BytesIO()
    with path.open("rb") as packed:
        woff2.decompress(packed, out)
    return out.getvalue()


def url_fetcher():
    """WeasyPrint's fetcher for our pages: the fonts' own files and data: URIs, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = {path.as_uri(): path for path in font_files().values()}

    class ProjectFiles(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = allowed.get(url)
            if path is None:
                raise ValueError(f"pages fetch only the project's fonts, not {url[:80]}")
            return URLFetcherResponse(url, _decoded_font(path), {"Content-Type": "font/ttf"})

    return ProjectFiles(allowed_protocols=("data", "file"))


def html_to_pdf(html: str, css: str) -> bytes:
    """Print HTML made by our templates (fonts and data: URIs only) to PDF, styled by `css` (a
    stylesheet of its own, as the portal's pages keep no inline style)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = url_fetcher()
    fonts = FontConfiguration()  # the stylesheet's @font-face rules, for the page that uses them
    sheet = CSS(string=css, url_fetcher=fetcher, font_config=fonts)
    page = HTML(string=html, base_url=None, url_fetcher=fetcher)
    return page.write_pdf(stylesheets=[sheet], font_config=fonts)
