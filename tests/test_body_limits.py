"""Request body limits: an oversized body is refused with 413 before anything reads it, and
changes nothing; the bulk exemption check streams past them but has a limit of its own."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client

from tests.auth import login
from vpnregistry.applications.models import Application


def _big_resources(count: int) -> dict:
    return {"resources": [{"value": "14.1.105.0/24", "subscriber_id": "S" * 60} for _ in range(count)]}


def test_oversized_json_to_the_api_is_refused_and_changes_nothing(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    payload = json.dumps(_big_resources(2000))
    assert len(payload) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = world.client(world.applicant).post(
        "/api/v1/applications/", data=payload, content_type="application/json"
    )
    assert response.status_code == 413
    assert "larger than the 65536 bytes" in response.json()["detail"]
    assert not Application.objects.exists()
    # The same request under the limit goes through to the service.
    small = world.client(world.applicant).post("/api/v1/applications/", _big_resources(1), format="json")
    assert small.status_code == 201


def test_the_default_limit_is_deliberate_and_holds_with_real_settings(world, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2 * 1024 * 1024
    payload = json.dumps({"resources": [], "padding": "x" * (3 * 1024 * 1024)})
    response = world.client(world.applicant).post(
        "/api/v1/applications/", data=payload, content_type="application/json"
    )
    assert response.status_code == 413


def test_oversized_form_to_a_portal_page_is_refused(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    client = login(Client(), world.applicant)
    fields = {"form-0-value": "1" * 10000, "form-TOTAL_FORMS": "1"}
    response = client.post(
        "/applications/new/", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    # In a multipart upload, Django's own limit on the fields answers (400), still before any view work.
    assert client.post("/applications/new/", fields).status_code == 400
    assert not Application.objects.exists()


def test_uploads_get_their_own_limit(world, settings):
    settings.MAX_UPLOAD_BYTES = 8192
    client = login(Client(), world.applicant)
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("evidence.png", b"\x89PNG" + b"0" * 20000, content_type="image/png")
    response = client.post("/complaints/new/", {"description": "x", "evidence": big})
    assert response.status_code == 413


def test_a_bad_content_length_is_a_400(world):
    client = world.client(world.applicant)
    response = client.generic(
        "POST", "/api/v1/applications/", b"{}", CONTENT_TYPE="application/json", CONTENT_LENGTH="x"
    )
    assert response.status_code == 400


def test_the_bulk_exemption_check_has_its_own_limit(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the general limit does not apply here
    settings.EXEMPTIONS_MAX_BODY_BYTES = 50_000
    lines = "\n".join(f"14.1.105.{i % 256}" for i in range(2000))  # about 24 kB
    client = world.client(world.operator)
    ok = client.post("/api/v1/exemptions/check", data=lines, content_type="text/plain")
    assert ok.status_code == 200
    too_big = client.post("/api/v1/exemptions/check", data=lines * 3, content_type="text/plain")
    assert too_big.status_code == 413


def test_the_bulk_spool_counts_what_it_reads(settings):
    import io

    import pytest

    from vpnregistry.errors import TooLarge
    from vpnregistry.restrictions.exemptions import spool

    with pytest.raises(TooLarge):
        spool(io.BytesIO(b"1.2.3.4\n" * 1000), limit=4000, size=512)
    with spool(io.BytesIO(b"1.2.3.4\n" * 100), limit=4000, size=512) as ok:
        assert ok.read() == b"1.2.3.4\n" * 100
