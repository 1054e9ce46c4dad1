"""Request body limits: refuse a body past its route's limit with 413, before anything reads it.

Django limits form fields and `request.body` (DATA_UPLOAD_MAX_MEMORY_SIZE), but DRF parses JSON
from the request stream, past that limit, and multipart file parts have no limit of their own.
This middleware checks the declared Content-Length against the route's limit: most routes get
DATA_UPLOAD_MAX_MEMORY_SIZE, multipart uploads MAX_UPLOAD_BYTES, and the routes named in
REQUEST_BODY_LIMITS the setting named there (they read the stream themselves and count as they
go). A request without a Content-Length has no body as far as Django is concerned (WSGI), so
the declared length is the whole story; a body shorter than declared is Django's own error.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _


def limit_for(request, url_name: str | None) -> int:
    named = settings.REQUEST_BODY_LIMITS.get(url_name or "")
    if named:
        return int(getattr(settings, named))
    if request.content_type == "multipart/form-data":
        return int(settings.MAX_UPLOAD_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"detail": _("The request body is larger than the %(limit)d bytes allowed here.") % {"limit": limit}},
        status=413,
    )


class BodyLimitMiddleware:
    """Placed early: the check runs before any other middleware can read the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refuse(request)
        return refusal if refusal is not None else self.get_response(request)

    @staticmethod
    def refuse(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": _("The Content-Length header is not a number.")}, status=400)
        if length <= 0:
            return None
        try:
            url_name = resolve(request.path_info).view_name
        except Resolver404:
            url_name = None
        limit = limit_for(request, url_name)
        if length > limit:
            return too_large(limit)
        return None
