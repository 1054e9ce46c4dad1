"""The OpenAPI schema is valid and generated without warnings, so clients can trust it."""

from __future__ import annotations

from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/v1/applications/{id}/submit/", "/api/v1/resources/{id}/attest/", "/api/v1/me/"]:
        assert path in text
