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
