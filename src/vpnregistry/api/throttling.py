"""Request rates for the API: per token (or user) when signed in, per address otherwise.

The rates are read from settings at each request (DRF reads its own at import), so deployments and
tests can change them. The counters live in Django's cache: VPNREGISTRY_CACHE_URL (Redis) when
several processes serve the API, so that they share one budget per address or token.
"""

from __future__ import annotations

import logging

from django.conf import settings
from redis import RedisError
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class _FromSettings:
    scope: str

    def get_rate(self):
        return settings.VPNREGISTRY_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The allowlist's fast path counted and allowed this request before leaving it to the full
        # stack (an unknown file): counted once, not twice.
        if self.scope in getattr(request, "throttles_passed", ()):
            return True
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            # The shared cache is down: the request goes through uncounted rather than failing, so
            # that operators' syncs go on (`/readyz` reports the cache).
            logger.warning("throttle %s not applied: the cache does not answer (%s)", self.scope, exc)
            return True


class AnonymousRate(_FromSettings, AnonRateThrottle):
    scope = "anon"


class TokenRate(_FromSettings, UserRateThrottle):
    scope = "user"


class LookupRate(_FromSettings, SimpleRateThrottle):
    """Public lookups by code or secret (certificate checks, application status): per address,
    signed in or not, in the API and the portal alike, so that codes cannot be tried in bulk."""

    scope = "lookup"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def lookup_allowed(request) -> tuple[bool, int | None]:
    """For portal views: whether this address may look up once more, and if not, how many seconds
    until it may (the same counter the API's lookups use)."""
    throttle = LookupRate()
    if throttle.allow_request(request, None):
        return True, None
    wait = throttle.wait()
    return False, max(1, int(wait + 0.999)) if wait is not None else None
