"""Request rates for the API: per token (or user) when signed in, per address otherwise; and the
limit on public lookups by code or secret, which the API's lookups and the portal's pages share.

The rates are read from settings at each request (DRF reads its own at import), so deployments and
tests can change them. The counters live in Django's cache: VPNREGISTRY_CACHE_URL (Redis) when
several processes serve the API, so that they share one budget per address or token.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from redis import RedisError
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


# DRF's throttle keeps each caller's log of request times as one cached list, read and written back
# whole (two round trips, the list pickled both ways, and two servers writing at once keep only one's
# request). On Redis the log is a sorted set instead, trimmed, counted and added to by one script:
# one round trip, and every server's requests counted. Refused requests are not added, as in DRF.
_SLIDING_LOG = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
  return {1, count + 1, ''}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, count, oldest[2]}
"""
_script = None  # the script object, made once; it runs on whichever client is given


def _redis_backend():
    """Django's Redis cache backing the throttles, or None when the cache is another kind."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    return backend if isinstance(backend, RedisCache) else None


_clients: dict[int, object] = {}  # a Redis client per connection pool: made once, thread-safe


def _client(backend: RedisCache, key: str):
    """The Redis client for `key`'s server. Django's `get_client` makes a new client object on every
    call (building its table of some 160 reply parsers: a third of a millisecond a request)."""
    pool = backend._cache._get_connection_pool(write=True)
    client = _clients.get(id(pool))
    if client is None:
        client = _clients[id(pool)] = backend._cache.get_client(key, write=True)
    return client


class _FromSettings:
    scope: str

    def get_rate(self):
        return settings.THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The allowlist's fast path counted and allowed this request before leaving it to the full
        # stack (an unknown file): counted once, not twice.
        if self.scope in getattr(request, "throttles_passed", ()):
            return True
        try:
            backend = _redis_backend() if self.cache is default_cache else None
            if self.rate is not None and backend is not None:
                return self._allow_by_log(request, view, backend)
            return super().allow_request(request, view)
        except RedisError as exc:
            # The shared cache is down: the request goes through uncounted rather than failing, so
            # that operators' syncs go on (`/readyz` reports the cache).
            logger.warning("throttle %s not applied: the cache does not answer (%s)", self.scope, exc)
            return True

    def _allow_by_log(self, request, view, backend: RedisCache) -> bool:
        """`allow_request` on Redis: the log trimmed to the window, counted and (when allowed)
        added to in one script."""
        global _script
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = backend.make_and_validate_key(f"{self.key}:log")
        client = _client(backend, key)
        if _script is None:
            _script = client.register_script(_SLIDING_LOG)
        self.now = self.timer()
        allowed, count, oldest = _script(
            keys=[key],
            args=[self.now, self.duration, self.num_requests, f"{self.now}:{secrets.token_hex(4)}"],
            client=client,
        )
        self.log = (int(count), float(oldest) if oldest else self.now)
        return bool(allowed)

    def wait(self):
        """DRF's wait, from the log's length and oldest entry when the log is Redis's."""
        log = getattr(self, "log", None)
        if log is None:
            return super().wait()
        count, oldest = log
        available = self.num_requests - count + 1
        return (self.duration - (self.now - oldest)) / available if available > 0 else None


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
