"""Every message of the portal and the API has an Urdu translation, and the compiled catalogue is current."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from tests.conftest import require_tool

SRC = Path(__file__).resolve().parents[2] / "src" / "vpnregistry"
CATALOGUE = SRC / "locale" / "ur" / "LC_MESSAGES"


def _entries(po_text: str):
    """(msgid, msgstr values, flags) of each entry of a .po file, header excluded."""
    for block in re.split(r"\n\s*\n", po_text):
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            yield fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")], flags


def test_every_message_is_translated(tmp_path):
    """makemessages over a copy of the sources finds nothing untranslated or fuzzy in the catalogue."""
    require_tool("xgettext")
    require_tool("msgmerge")
    copy = tmp_path / "vpnregistry"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "vendor", "netblocks"))
    subprocess.run(
        [
            "django-admin",
            "makemessages",
            "-l",
            "ur",
            "--no-location",
            "--no-obsolete",
            "--settings=vpnregistry.settings",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"},
    )
    po = (copy / "locale" / "ur" / "LC_MESSAGES" / "django.po").read_text()
    missing = [msgid for msgid, strs, flags in _entries(po) if "fuzzy" in flags or not all(strs)]
    assert not missing, f"{len(missing)} messages lack Urdu (translate, then `make messages`): {missing[:20]}"


def test_compiled_catalogue_matches_its_source(tmp_path):
    require_tool("msgfmt")
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(CATALOGUE / "django.po")], check=True)
    with open(compiled, "rb") as fresh, open(CATALOGUE / "django.mo", "rb") as shipped:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(shipped)._catalog, (
            "django.mo is older than django.po: run `make messages`"
        )


@pytest.mark.django_db
def test_pages_are_served_in_urdu_right_to_left():
    client = Client()
    client.post("/i18n/setlang/", {"language": "ur", "next": "/events/"})
    page = client.get("/events/").content.decode()
    assert 'lang="ur" dir="rtl"' in page
    with translation.override("ur"):
        assert translation.gettext("Restriction events") in page
    assert translation.gettext("Restriction events") != "Restriction events"
    # The Urdu font is the npm package's, served from our own static files (make install copies it).
    css = (SRC / "portal" / "static" / "portal" / "portal.css").read_text()
    font = re.search(r'url\("\.\./(vendor/noto-nastaliq-urdu/[^"]+\.woff2)"\)', css).group(1)
    assert (SRC / "portal" / "static" / font).stat().st_size > 10_000
