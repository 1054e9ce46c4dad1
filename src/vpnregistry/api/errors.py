"""Turns the services' refusals into JSON responses with the right status."""

from __future__ import annotations

import sys

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import defaults
from rest_framework.exceptions import ErrorDetail, Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from vpnregistry.busy import busy_response, is_contention
from vpnregistry.errors import RegistryError


def exception_handler(exc, context):
    if isinstance(exc, RegistryError):
        response = Response(exc.as_dict(), status=exc.status)
        if retry_after := getattr(exc, "retry_after", None):
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, Throttled) and exc.wait is not None:
        # DRF words the wait in English before translating it, so no catalogue can match it: the
        # sentence is made here, in the request's language (DRF still sets Retry-After from `wait`).
        exc.detail = ErrorDetail(_throttled(max(1, exc.wait)), code="throttled")
    return drf_exception_handler(exc, context)


def _throttled(seconds: int) -> str:
    return ngettext(
        "Too many requests: try again in %(n)d second.",
        "Too many requests: try again in %(n)d seconds.",
        seconds,
    ) % {"n": seconds}


# Django's own refusals (no route matched, a body too large, a crash) happen outside DRF's views; under
# /api/ they answer in the API's shape, JSON `{"detail": ...}`, as the schema declares, and the
# portal keeps Django's pages.


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": _("Bad request.")}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Contention raised outside a view (a middleware saving the session, say) reaches here; a view's
    # is answered by vpnregistry.busy.BusyDatabaseMiddleware before.
    if is_contention(sys.exc_info()[1]):
        return busy_response(request)
    if _is_api(request):
        return JsonResponse({"detail": _("Server error.")}, status=500)
    return defaults.server_error(request)
