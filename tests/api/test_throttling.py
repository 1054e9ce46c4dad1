"""API request rates: per token when signed in, per address when not; 429 with Retry-After beyond."""

from __future__ import annotations

import secrets
import threading

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from tests.conftest import require_cache
from vpnregistry.throttling import lookup_allowed


@pytest.fixture(params=["memory", "redis"])
def limits(request, settings):
    """The limits counted in this process's memory, and in Redis (one log a caller, for every server)."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": require_cache(),
                "KEY_PREFIX": f"throttle-test-{secrets.token_hex(6)}",  # this test's own keys
            }
        }
    cache.clear()
    settings.THROTTLE_RATES = {"anon": "3/min", "user": "5/min", "lookup": "20/min"}
    yield request.param
    cache.clear()


def test_anonymous_callers_are_limited_per_address(client, db, limits):
    codes = [client.get("/api/v1/events/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/events/")["Retry-After"]


def test_each_token_has_its_own_budget(world, limits):
    first, second = world.client(world.operator), world.client(world.other_operator)
    assert [first.get("/api/v1/me/").status_code for _ in range(6)] == [200] * 5 + [429]
    assert second.get("/api/v1/me/").status_code == 200  # another operator is not held back


def test_the_wait_is_until_the_oldest_request_leaves_the_window(client, db, limits):
    for _ in range(3):
        client.get("/api/v1/events/")
    wait = int(client.get("/api/v1/events/")["Retry-After"])
    assert 55 <= wait <= 60


def test_requests_at_once_from_many_threads_are_each_counted(db, limits):
    """Servers answering one caller at the same moment: in Redis every request is counted (one script
    a request), so exactly the limit goes through; a log read and written back whole would lose some."""
    if limits != "redis":
        pytest.skip("each process's memory counts only its own requests")
    request = RequestFactory().get("/certificates/check/", REMOTE_ADDR="2001:db8::7")
    allowed = []
    start = threading.Barrier(4)

    def caller():
        start.wait()
        for _ in range(10):
            allowed.append(lookup_allowed(request)[0])

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 20 and len(allowed) == 40
