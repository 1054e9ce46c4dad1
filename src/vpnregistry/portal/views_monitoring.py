"""`/readyz` for load balancers and `/metrics` for Prometheus; `/healthz` stays in views.py."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from vpnregistry.portal import monitoring


@never_cache
@require_GET
def readyz(request):
    """200 when this server can serve: the database, the broker (if any), the cache and the storage
    answer; else 503 naming those that did not (what they said is logged, not shown)."""
    result = monitoring.readiness()
    body = {"status": "ready" if result.ready else "not ready", "checks": result.checks}
    if not result.ready:
        body["failing"] = result.failing
    return JsonResponse(body, status=200 if result.ready else 503)


@never_cache
@require_GET
def metrics(request):
    """The registry's figures in Prometheus' text format, for the monitoring network or token only
    (anyone else is told there is no such page)."""
    if not monitoring.metrics_allowed(request):
        raise Http404("no such page")
    return HttpResponse(monitoring.metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")
