"""API request rates: per token when signed in, per address when not; 429 with Retry-After beyond."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture
def limits(settings):
    cache.clear()
    settings.VPNREGISTRY_THROTTLE_RATES = {"anon": "3/min", "user": "5/min"}
    yield
    cache.clear()


def test_anonymous_callers_are_limited_per_address(client, db, limits):
    codes = [client.get("/api/v1/events/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/events/")["Retry-After"]


def test_each_token_has_its_own_budget(world, limits):
    first, second = world.client(world.operator), world.client(world.other_operator)
    assert [first.get("/api/v1/me/").status_code for _ in range(6)] == [200] * 5 + [429]
    assert second.get("/api/v1/me/").status_code == 200  # another operator is not held back
