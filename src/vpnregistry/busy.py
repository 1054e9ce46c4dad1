"""A database too busy to answer in time is a 503 with Retry-After, not a crash.

SQLite allows one writer at a time: a writer that waits longer than the busy timeout for the lock
gets "database is locked" ("database table is locked" with a shared cache). PostgreSQL gives up on
a lock after `lock_timeout` (55P03), or on a statement blocked past `statement_timeout` (57014),
and aborts one side of a deadlock (40P01) or of a serialization conflict (40001). Each means "try
again", and nothing was changed: the request's transaction was rolled back. Every other database
error is left alone, to be the 500 it is.
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
PG_RETRYABLE = {"55P03", "40001", "40P01"}
PG_CANCELLED = "57014"  # query_canceled: retryable only when a timeout cancelled it


def is_contention(exc: BaseException | None) -> bool:
    """Whether `exc` says the database was busy (locked, timed out waiting, or a conflict lost)."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    message = str(exc).lower()
    if state:
        return state in PG_RETRYABLE or (state == PG_CANCELLED and "timeout" in message)
    return any(message.startswith(text) for text in SQLITE_BUSY)


def busy_response(request) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, a page (drawing on no database) elsewhere."""
    message = _("The registry is busy. Nothing was changed; try again in a few seconds.")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        html = render_to_string("portal/busy.html", {"message": message, "seconds": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class BusyDatabaseMiddleware:
    """Answers a view's database contention with `busy_response`; any other error goes on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_contention(exception):
            return None
        logger.warning("database busy on %s %s: %s", request.method, request.path, exception)
        return busy_response(request)
