"""`/readyz` names what does not answer; `/metrics` is Prometheus text for the monitoring network only,
read with a bounded number of queries, none of them over the registrations."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import require_broker, require_cache
from tests.workflow import approved, draft
from vpnregistry.notifications.models import OutgoingMail
from vpnregistry.registrations.models import ActivePeriod, Registration

UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing answers


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_ready_when_database_cache_and_storage_answer(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "not configured", "cache": "ok", "storage": "ok"},
    }


def test_not_ready_names_the_broker_that_does_not_answer(client, db, settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:9//"
    settings.READYZ_TIMEOUT_SECONDS = 0.5
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"] and body["checks"]["database"] == "ok"


def test_not_ready_names_the_cache_that_does_not_answer(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = _redis_cache(UNREACHABLE_REDIS)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failing"] == ["cache"]


def test_ready_with_a_real_broker_and_cache(client, db, settings):
    settings.CELERY_BROKER_URL = require_broker()
    settings.CACHES = _redis_cache(require_cache())
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"] == response.json()["checks"]["cache"] == "ok"


def _metrics(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def _populate(world, n: int) -> None:
    for i in range(n):
        approved(world, f"14.1.{105 + i}.0/24")
        draft(world, f"27.0.{184 + i}.0/24")


def test_metrics_are_prometheus_text_with_the_registry_figures(client, world):
    _populate(world, 2)
    world.client(world.operator).get("/api/v1/allowlist/index.json")  # indus fetches the latest
    OutgoingMail.objects.update(state=OutgoingMail.State.FAILED)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    sample = re.compile(r"# (HELP|TYPE) \w+ .+|\w+(\{(\w+=\"[^\"]*\",?)*\})? -?[\d.e+-]+")
    for line in text.splitlines():
        assert sample.fullmatch(line), line
    values = _metrics(text)
    assert values['vpnregistry_applications{state="approved"}'] == 2
    assert values['vpnregistry_applications{state="draft"}'] == 2
    assert values["vpnregistry_publication_pending"] == 0
    assert values["vpnregistry_allowlist_serial"] >= 2
    assert values['vpnregistry_operator_sync_lag_serials{operator="indus"}'] == 0
    assert (
        values['vpnregistry_operator_sync_lag_serials{operator="margalla"}']
        == values["vpnregistry_allowlist_serial"]
    )  # never fetched
    assert values['vpnregistry_task_failures{task="send_mail"}'] == OutgoingMail.objects.count() > 0
    assert values["vpnregistry_mail_pending"] == 0


def test_metrics_read_a_bounded_number_of_queries_and_never_the_registrations(client, world):
    counts = []
    for n in (1, 3):
        _populate(world, n)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/metrics").status_code == 200
        counts.append(len(queries))
        for tables in (Registration, ActivePeriod):
            assert not [q for q in queries if tables._meta.db_table in q["sql"]]
    assert counts[1] <= counts[0] <= 12


@pytest.mark.parametrize(
    ("address", "header", "status"),
    [
        ("203.0.113.7", "", 404),  # another network, no token
        ("203.0.113.7", "Bearer wrong", 404),
        ("203.0.113.7", "Bearer s3cret-token", 200),
        ("10.20.30.40", "", 200),  # the monitoring network
        ("127.0.0.1", "", 404),  # loopback is the default only: here the networks are set
    ],
)
def test_metrics_only_for_the_monitoring_network_or_token(client, db, settings, address, header, status):
    settings.METRICS_NETWORKS = ["10.20.0.0/16"]
    settings.METRICS_TOKEN = "s3cret-token"
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert client.get("/metrics", REMOTE_ADDR=address, **extra).status_code == status


def test_metrics_from_loopback_by_default_and_no_token_without_one_set(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_are_read_while_the_cache_does_not_answer(client, world, settings):
    approved(world, "14.1.105.0/24")
    settings.CACHES = _redis_cache(UNREACHABLE_REDIS)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert _metrics(response.content.decode())['vpnregistry_applications{state="approved"}'] == 1
