"""Request checks that hold for every page and endpoint."""

from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulMiddleware:
    """Answer 400 to a query string or form field holding NUL, before any view reads it.

    NUL is never part of a text this registry takes, and PostgreSQL refuses it in any text it stores
    or compares, so a view that passed one on (a list filter, a form read field by field) crashed
    with a 500. JSON bodies are left to the serializers and services, which refuse it per field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _holds_nul(request.GET) or (
            request.content_type in FORM_TYPES and request.method == "POST" and _holds_nul(request.POST)
        ):
            message = _("The request holds a NUL character, which no field accepts.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _holds_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in caller (session or API token).

    Such answers may carry personal data (a CNIC, an NTN, a subscriber ID: application details,
    members, documents, the organisation's export), and which of them do changes with every new
    page; marking them all is simpler and safer than marking each, and costs nothing the registry
    relies on: signed-in pages are never shared between people. A view that set its own
    Cache-Control keeps it: the allowlist's files (which name no one) are cached by design. DRF
    authenticates a token inside the view and sets the request's user there, so the user is read
    once the view has answered.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class ApiNotFoundMiddleware:
    """Under /api/, a 404 answers `{"detail": "Not found."}` with debug on too.

    With debug off, Django answers an unknown URL with the handler404 of api/errors.py; with debug
    on it answers its own HTML page and never calls that handler, so clients (and the schema's
    promise of JSON errors) saw HTML. A 404 under /api/ that is not already JSON is replaced.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse({"detail": _("Not found.")}, status=404)
        return response
