"""One cache for every process: VPNREGISTRY_CACHE_URL (Redis) backs the throttles and the statistics."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_cache

ROOT = Path(__file__).resolve().parent.parent

# One process of a server: looks up `n` times from one address through the portal's and the API's
# shared lookup limit, and prints which were allowed.
_LOOKUPS = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.test import RequestFactory
from vpnregistry.throttling import lookup_allowed
request = RequestFactory().get("/certificates/check/", REMOTE_ADDR=sys.argv[1])
print(json.dumps({
    "backend": settings.CACHES["default"]["BACKEND"],
    "allowed": [lookup_allowed(request)[0] for _ in range(int(sys.argv[2]))],
}))
"""


def _process(tmp_path, address: str, n: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
    env.update(
        VPNREGISTRY_VAR=str(tmp_path),
        VPNREGISTRY_THROTTLE_LOOKUP="5/min",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        **extra,
    )
    command = [sys.executable, "-c", _LOOKUPS, address, str(n)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _address() -> str:
    # An address of its own for each run, so that runs (and other users of the test Redis) never meet.
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}::1"


def test_two_processes_share_the_lookup_limit(tmp_path):
    url = require_cache()
    address = _address()
    first = _process(tmp_path, address, 3, VPNREGISTRY_CACHE_URL=url)
    second = _process(tmp_path, address, 3, VPNREGISTRY_CACHE_URL=url)
    assert first["backend"] == "django.core.cache.backends.redis.RedisCache"
    # 5 a minute between them: the second process knows of the first one's three.
    assert first["allowed"] == [True, True, True]
    assert second["allowed"] == [True, True, False]


def test_without_a_cache_url_each_process_counts_its_own(tmp_path):
    address = _address()
    first = _process(tmp_path, address, 3)
    second = _process(tmp_path, address, 3)
    assert first["backend"] == "django.core.cache.backends.locmem.LocMemCache"
    assert first["allowed"] == second["allowed"] == [True, True, True]


def test_a_cache_that_does_not_answer_lets_requests_through_uncounted(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # discard: nothing answers
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.THROTTLE_RATES = {"anon": "1/min", "user": "1/min", "lookup": "1/min"}
    assert [client.get("/api/v1/events/").status_code for _ in range(2)] == [200, 200]
    assert client.get("/statistics/").status_code == 200
