"""Celery workers as deployed: `vpnregistry worker` processes on a real RabbitMQ broker, against the
PostgreSQL test database, with the test process as the server that approves.

Each test has a queue of its own on the broker (VPNREGISTRY_TEST_BROKER_URL; skipped without it,
failed when VPNREGISTRY_REQUIRE_TOOLS=1) and waits for outcomes by bounded polling; none asserts
on a time. A worker needs the test database through its own connection, so these tests run only on
PostgreSQL (SQLite's test database lives in the test process's memory), once per `make test`.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from tests.conftest import require_broker
from tests.workflow import approved, to_decision
from vpnregistry import celery as worker_celery
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.publication import backlog
from vpnregistry.applications.models import Application
from vpnregistry.db import LOCKS
from vpnregistry.registrations.models import PublicationDue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.multiprocess,
    pytest.mark.xdist_group("broker-workers"),
]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WAIT_SECONDS = 120  # the bound on every wait: far above what each step takes


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Broker:
    """One test's queue on the broker, the settings that send to it, and its workers."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url, self.tmp_path = url, tmp_path
        self.queue = f"vpnregistry-test-{uuid.uuid4().hex[:12]}"
        self.workers: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
        env.update(
            DATABASE_URL=_database_url(),
            VPNREGISTRY_DEBUG="1",
            VPNREGISTRY_VAR=str(self.tmp_path / "var"),
            VPNREGISTRY_ALLOWLIST_DIR=str(django_settings.ALLOWLIST_DIR),
            VPNREGISTRY_KEYS_DIR=str(django_settings.ALLOWLIST_KEYS_DIR),
            VPNREGISTRY_DOCUMENTS_DIR=str(django_settings.DOCUMENTS_DIR),
            VPNREGISTRY_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            VPNREGISTRY_BROKER_URL=self.url,
            VPNREGISTRY_BROKER_QUEUE=self.queue,
            VPNREGISTRY_ALLOWLIST_MIN_INTERVAL="0",
            DJANGO_SETTINGS_MODULE="vpnregistry.settings",
            PYTHONPATH=str(ROOT),
        )
        if django_settings.FIELD_KEYS:
            env["VPNREGISTRY_FIELD_KEYS"] = ",".join(k.decode() for k in django_settings.FIELD_KEYS)
        return env

    def start_worker(self) -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [BIN / "vpnregistry", "worker", "--concurrency", "1", "--without-gossip", "--without-mingle",
             "--queues", self.queue],
            env=self.env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the worker and its pool's children: no warm shutdown, no acknowledgement."""
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def received(self, index: int) -> list[str]:
        """Ids of the tasks worker `index` received, in order (from its log)."""
        text = (self.tmp_path / f"worker-{index}.log").read_text(errors="replace")
        return re.findall(r"Task vpnregistry\.\w+\[([0-9a-f-]+)\] received", text)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                self.kill(process)
        from kombu import Connection

        with suppress(Exception), Connection(self.url, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(self.queue)


@pytest.fixture
def broker(settings, tmp_path):
    url = require_broker()
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs the test database through a connection of its own: PostgreSQL")
    broker = Broker(url, tmp_path)

    @contextmanager
    def sending():
        """From here on, this process (the server) sends tasks to the broker instead of running them."""
        settings.CELERY_BROKER_URL = url
        settings.CELERY_TASK_DEFAULT_QUEUE = broker.queue
        try:
            yield
        finally:
            settings.CELERY_BROKER_URL = ""

    broker.sending = sending
    try:
        yield broker
    finally:
        broker.stop_all()


def wait_for(condition, broker: Broker, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within the bound\n{broker.logs()}")


def serials() -> list[int]:
    return list(Snapshot.objects.order_by("serial").values_list("serial", flat=True))


def ipv4_of(serial: int) -> list[str]:
    return json.loads(Snapshot.objects.get(serial=serial).content)["ipv4"]


def test_an_approval_returns_before_publication_and_a_worker_publishes_it(world, broker):
    approved(world, "14.1.105.0/24")  # published in-process, before the broker is in use
    before = serials()
    application = to_decision(world, "14.1.106.0/24")
    with broker.sending():
        # No worker runs yet: the answer cannot have waited for a publication.
        response = world.client(world.officer).post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "approve", "reason": "ok"},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["state"] == "approved" and body["publication"] == "pending"
        assert body["published_serial"] is None and serials() == before
        assert backlog().pending == 1

        broker.start_worker()
        serial = wait_for(
            lambda: Application.objects.get(pk=application.pk).published_serial, broker, "a new serial"
        )
    assert serial == before[-1] + 1 and serials() == [*before, serial]
    assert ipv4_of(serial) == ["14.1.105.0/24", "14.1.106.0/24"]
    assert backlog().pending == 0
    detail = world.client(world.applicant).get(f"/api/v1/applications/{application.pk}/").json()
    assert detail["publication"] == "published" and detail["published_serial"] == serial


def test_a_worker_killed_mid_publication_leaves_it_to_another_exactly_once(world, broker):
    approved(world, "14.1.105.0/24")
    before = serials()
    application = to_decision(world, "14.1.106.0/24")
    with broker.sending():
        response = world.client(world.officer).post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "approve", "reason": "ok"},
            format="json",
        )
        assert response.status_code == 200, response.content

        # Hold the lock every audit record takes: the worker's publication stops at its audit record,
        # every file of the next serial written, its row not committed.
        import psycopg

        holder = psycopg.connect(_database_url().replace("postgres://", "postgresql://"), autocommit=True)
        try:
            holder.execute("SELECT pg_advisory_lock(%s)", [LOCKS["audit"]])
            first = broker.start_worker()
            wait_for(
                lambda: holder.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ).fetchone(),
                broker,
                "the publication waiting for the audit lock",
            )
            session = Snapshot.objects.latest().session
            assert (django_settings.ALLOWLIST_DIR / session / f"{before[-1] + 1}.txt").exists()
            broker.kill(first)
            # The task it was running: received last (one unacknowledged task at a time).
            cut_short = broker.received(0)[-1:]
            assert cut_short, broker.logs()
            broker.start_worker()
        finally:
            holder.close()  # releases the lock: the killed worker's backend aborts, the other goes on

        serial = wait_for(
            lambda: Application.objects.get(pk=application.pk).published_serial, broker, "a new serial"
        )
        wait_for(lambda: backlog().pending == 0, broker, "the backlog emptied")
    assert serial == before[-1] + 1
    assert serials() == [*before, serial]  # exactly one new serial
    # Acknowledged late: the task the killed worker held was handed to the other one.
    wait_for(lambda: cut_short[0] in broker.received(1), broker, "the killed worker's task redelivered")
    assert ipv4_of(serial) == ["14.1.105.0/24", "14.1.106.0/24"]
    leftovers = [p.name for p in (django_settings.ALLOWLIST_DIR / session).iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_a_change_whose_publisher_never_came_is_published_by_the_next_worker(world, broker, monkeypatch):
    """The server died after the commit, before it could ask for a publisher: no manual step."""
    approved(world, "14.1.104.0/24")
    approved(world, "14.1.105.0/24")
    before = serials()
    from vpnregistry.registrations.models import Registration
    from vpnregistry.registrations.services import registration_change_state

    revoked = Registration.objects.get(value="14.1.104.0/24")
    application = to_decision(world, "14.1.106.0/24")
    with broker.sending():
        monkeypatch.setattr(worker_celery, "dispatch", lambda *a, **k: None)  # lost with the server
        registration_change_state(actor=world.officer, registration=revoked, step="revoke", reason="fraud")
        from vpnregistry.applications import services

        services.application_decide(
            actor=world.officer, application=application, decision="approve", reason="ok"
        )
        monkeypatch.undo()
        assert PublicationDue.objects.count() == 2 and serials() == before

        broker.start_worker()  # its start publishes what is due
        wait_for(lambda: backlog().pending == 0, broker, "the backlog emptied")
    latest = serials()[-1]
    assert serials() == [*before, latest]
    active = sorted(Registration.objects.filter(state="active", family=4).values_list("value", flat=True))
    assert ipv4_of(latest) == active == ["14.1.105.0/24", "14.1.106.0/24"]


def test_a_legacy_import_leaves_its_publication_to_a_worker(world, broker, tmp_path):
    approved(world, "14.1.105.0/24")  # published in-process, before the broker is in use
    before = serials()
    register = tmp_path / "legacy.csv"
    register.write_text(
        "organisation,category,value,operator,subscriber_id,district,valid_from,valid_until\n"
        "Legacy Software (Pvt) Ltd,company,14.1.107.0/24,indus,L-1,,2025-06-01,2030-06-01\n"
    )
    out, err = io.StringIO(), io.StringIO()
    with broker.sending():
        # No worker runs yet: the command cannot have waited for a publication.
        call_command("import-legacy", str(register), stdout=out, stderr=err)
        assert out.getvalue().startswith("1 imported, 0 already there, 0 skipped as bad; publication asked")
        assert "publication asked of the worker" in err.getvalue()
        assert serials() == before and backlog().pending == 1  # the batch's wish, not yet consumed

        broker.start_worker()
        serial = wait_for(lambda: serials()[-1] if serials() != before else None, broker, "a new serial")
    assert ipv4_of(serial) == ["14.1.105.0/24", "14.1.107.0/24"]
    assert backlog().pending == 0
