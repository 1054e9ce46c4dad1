"""The OpenAPI schema is valid and generated without warnings, so clients can trust it."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.urls import path as route
from drf_spectacular.generators import SchemaGenerator
from rest_framework import generics, serializers


def test_schema_validates_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/v1/applications/{id}/submit/", "/api/v1/resources/{id}/attest/", "/api/v1/me/"]:
        assert path in text


def _error_codes(operation: dict) -> set[str]:
    return {code for code in operation["responses"] if code.startswith("4")}


def test_every_operation_declares_its_refusals(tmp_path, db):
    # api.schema.AutoSchema adds them centrally; an answer schemathesis sees must be declared.
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    schema = json.loads(out.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = _error_codes(operation)
            assert {"401", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method == "post":
                assert {"403", "409"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "415"} <= codes, (method, path)
            for code in codes - {"400"}:
                content = operation["responses"][code]["content"]["application/json"]["schema"]
                body = schema["components"]["schemas"][content["$ref"].rsplit("/", 1)[1]]
                assert "detail" in body["required"], (method, path, code)  # {"detail": "why"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_an_endpoint_that_declares_nothing_gets_the_refusals():
    class ThingSerializer(serializers.Serializer):
        name = serializers.CharField()

    class ThingStep(generics.GenericAPIView):
        serializer_class = ThingSerializer

        def post(self, request, pk):
            raise NotImplementedError

    generator = SchemaGenerator(patterns=[route("api/v1/things/<int:pk>/step/", ThingStep.as_view())])
    schema = generator.get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/things/{id}/step/"]["post"]
    assert _error_codes(operation) == {"400", "401", "403", "404", "409", "415", "429"}
