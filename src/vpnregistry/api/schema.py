"""The OpenAPI schema's refusals, declared in one place for every operation.

Every view raises the same few refusals (`vpnregistry.errors` through `api.errors.exception_handler`,
and DRF's own for authentication, permissions, throttling, parsing and unknown objects), so the
schema declares them here instead of in each `extend_schema`: an endpoint added later gets them
without doing anything. What a view declares itself wins; these only fill the codes it left out.

Which codes an operation gets follows from the operation itself:

- 400 always (validation; a body that does not parse; a query string holding NUL, refused by
  `vpnregistry.middleware` before any view);
- 401 always (a token that is wrong, expired or revoked is refused even where no sign-in is needed);
- 403 unless it is a read open to everyone (roles, organisations, CSRF for session callers);
- 404 when it names an object in its path or pages through a list (an unknown cursor or page);
- 409 for POST, PUT and PATCH (a step that does not apply in the object's state);
- 415 when it takes a body (a media type no parser reads);
- 429 always (request rates per token and per address).

An optional query parameter given empty (`?state=`) is as if it were absent, everywhere in the API
(django-filter, DRF's paging and the views' own parameters read it so): the schema says so with
`allowEmptyValue`.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance, is_serializer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR = inline_serializer(
    "Error", fields={"detail": serializers.CharField(help_text="why the request was refused")}
)
VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "Invalid input, keyed by field: each field maps to its reasons (a list of texts), a list of "
        "items to one object of the same shape per item; `non_field_errors` and `detail` (a body "
        "that does not parse) hold reasons that belong to no one field."
    ),
    examples=[
        OpenApiExample("field", value={"decision": ["Must be one of: approve, reject."]}, response_only=True),
        OpenApiExample(
            "items",
            value={"resources": [{}, {"value": ["'10.0.0.0/8' is in 10.0.0.0/8, private-use"]}]},
            response_only=True,
        ),
    ],
)

# The public lookups' refusal when an address asks too often (api.permissions.PublicLookup).
THROTTLED = OpenApiResponse(ERROR, description="Too many lookups from this address; see Retry-After")

# The refusals the queue and the notifications declare, as they always have: the schema's QueueError,
# and a shorter description of invalid input.
QUEUE_ERROR = inline_serializer("QueueError", fields={"detail": serializers.CharField()})
QUEUE_VALIDATION_ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input, keyed by field")


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR, description=description)


DEFAULT_ERRORS = {
    "400": VALIDATION_ERROR,
    "401": _error(
        "No valid credentials: none given where they are needed, or a token that is unknown, "
        "expired or revoked"
    ),
    "403": _error("The caller's role or organisation may not do this"),
    "404": _error(
        "No such object for this caller (another organisation's objects are not found either), "
        "or an unknown page or cursor"
    ),
    "409": _error("The object is not in a state where this step applies"),
    "415": _error("The request body's media type is not one this operation reads"),
    "429": _error("Too many requests; `Retry-After` says when to try again"),
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CHANGES = {"POST", "PUT", "PATCH"}  # steps of a lifecycle; DELETE removes what is there, or nothing


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, plus the refusals every operation can answer with."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(DEFAULT_ERRORS[code], code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _is_list_view(self, serializer=None) -> bool:
        # A list action that answers with a page object of its own (`next` and `results`, paged by the
        # view itself) is not a list of that object.
        instance = force_instance(serializer) if is_serializer(serializer) else None
        if instance is not None and not isinstance(instance, serializers.ListSerializer):
            results = instance.fields.get("results")
            if results is not None and isinstance(results, serializers.ListSerializer):
                return False
        return super()._is_list_view(serializer)

    def _get_paginator(self):
        # Only reads page: a step's answer (a POST on a list route, such as attesting many resources
        # at once) is never a page, whatever the viewset's list does.
        if self.method != "GET":
            return None
        return super()._get_paginator()

    def _error_codes(self, operation: dict) -> list[str]:
        where = {p.get("in") for p in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        codes = ["400", "401", "429"]
        if not self._open_read():
            codes.append("403")
        if "path" in where or self._paginated():
            codes.append("404")
        if self.method in CHANGES:
            codes.append("409")
        if has_body:
            codes.append("415")
        return sorted(codes)

    def _open_read(self) -> bool:
        """A read that every caller may make (the public list of events, say): no role to refuse."""
        if self.method in UNSAFE:
            return False
        permissions = self.view.get_permissions()
        return bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)

    def _paginated(self) -> bool:
        return self._is_list_view() and self._get_paginator() is not None
