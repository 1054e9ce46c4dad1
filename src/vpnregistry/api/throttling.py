"""Request rates for the API: per token (or user) when signed in, per address otherwise.

The rates are read from settings at each request (DRF reads its own at import), so deployments and
tests can change them. The counters live in Django's cache: use a shared one (Redis, memcached)
when several processes serve the API.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _FromSettings:
    scope: str

    def get_rate(self):
        return settings.VPNREGISTRY_THROTTLE_RATES.get(self.scope)


class AnonymousRate(_FromSettings, AnonRateThrottle):
    scope = "anon"


class TokenRate(_FromSettings, UserRateThrottle):
    scope = "user"
