"""Static files served by the app itself (WhiteNoise): collected, compressed and hashed with debug off."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

PRODUCTION = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_settings_collect_static_files_under_hashed_names():
    from vpnregistry import settings as module

    # The module as loaded for the suite (debug on); production's choice is the other branch.
    assert module.STORAGES["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage" if module.DEBUG else PRODUCTION
    )
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in module.MIDDLEWARE


@pytest.fixture
def collected(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION}}
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    # The portal's own files and the vendored CSS and font; the API's and the admin's are many more.
    call_command(
        "collectstatic", "--noinput", "-v", "0",
        "-i", "drf_spectacular_sidecar", "-i", "admin", "-i", "rest_framework",
    )  # fmt: skip
    return settings.STATIC_ROOT


def test_the_portal_renders_with_collected_static_files_and_serves_them(db, collected):
    client = Client()
    page = client.get("/events/")
    assert page.status_code == 200
    html = page.content.decode()
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', html)
    assert stylesheets and all(re.search(r"\.[0-9a-f]{12}\.css$", href) for href in stylesheets), stylesheets
    for href in stylesheets:
        answer = client.get(href, HTTP_ACCEPT_ENCODING="gzip")
        assert answer.status_code == 200, href
        assert answer["Content-Encoding"] == "gzip"
        assert "immutable" in answer["Cache-Control"] and "max-age=315360000" in answer["Cache-Control"]
        answer.close()
    # The Urdu font the portal's stylesheet points at is there under its hashed name too.
    fonts = [
        font
        for href in stylesheets
        for font in re.findall(
            r"url\([\"']?([^\"')]+\.woff2)", (collected / href.removeprefix("/static/")).read_text()
        )
    ]
    assert len(fonts) == 2 and all(re.search(r"\.[0-9a-f]{12}\.woff2$", font) for font in fonts), fonts
