"""Two servers, proven (issue 14): two gunicorn servers with production settings, a Celery worker and
the scheduler, sharing one PostgreSQL database, RabbitMQ, Redis and an object store, act as one
registry over real HTTP on loopback.

- an approval through server A reaches the allowlist server B serves, published by the worker and
  signed with the key given to every process;
- a document uploaded through A downloads from B, byte for byte (it lives in the bucket, not on A);
- the public lookup limit counts the requests to A and B together (the counters live in Redis);
- `/readyz` answers 200 on both, each backend named "ok";
- a server given production settings and no signing key refuses to start, naming the variable.

Each server has a state folder of its own (VPNREGISTRY_VAR): nothing reaches B through a disk.
Needs PostgreSQL (the servers read the test database through connections of their own), the test
broker and the test cache (skipped without them, failed when VPNREGISTRY_REQUIRE_TOOLS=1) and moto.
Every wait is bounded and stops by itself; every process is stopped in the fixture's finalizer.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import require_broker, require_cache
from tests.factories import api_key
from tests.storage.conftest import CREDENTIALS, REGION
from tests.workflow import to_decision
from vpnregistry import fieldcrypt
from vpnregistry.accounts.sample_files import minimal_pdf
from vpnregistry.registrations import certificates
from vpnregistry.registrations.models import Registration
from vpnregistry.signing.minisign import PublicKey, verify

pytestmark = [pytest.mark.multiprocess, pytest.mark.xdist_group("broker-workers")]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_SECONDS = 60  # the bound on a process's start
PUBLISH_SECONDS = 120  # the bound on an approval reaching the other server's allowlist
LOOKUPS_PER_MINUTE = 10  # the lookup limit the servers are given (30 in production): a quick test
ADDRESS = "14.1.106.0/24"


def _database_url() -> str:
    """The test database pytest-django made, as the servers reach it."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def http(method: str, url: str, *, token: str | None = None, body: bytes | None = None,
         content_type: str | None = None, timeout: float = 15) -> Answer:  # fmt: skip
    """One request over loopback; any status is an answer (never raised)."""
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Token {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, dict(error.headers), error.read())


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type."""
    boundary = f"----vpnregistry{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, content, media_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {media_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Deployment:
    tmp_path: Path
    env: dict
    queue: str
    broker_url: str
    public_key: PublicKey
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def start(self, name: str, command: list, *, var: str | None = None, **extra: str) -> subprocess.Popen:
        env = {**self.env, **extra}
        if var:
            env["VPNREGISTRY_VAR"] = str(self.tmp_path / var)
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115
        with log:
            process = subprocess.Popen(
                command, env=env, cwd=self.tmp_path, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.processes[name] = process
        return process

    def serve(self, name: str) -> str:
        """gunicorn with production settings on a loopback port of its own; its URL."""
        port = _free_port()
        self.start(
            name,
            [BIN / "gunicorn", "vpnregistry.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5",
             "--preload", "--control-socket", str(self.tmp_path / f"{name}.ctl")],
            var=f"var-{name}",
        )  # fmt: skip
        self.urls[name] = f"http://127.0.0.1:{port}"
        return self.urls[name]

    def wait(self, condition, what: str, seconds: float, *watched: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name in watched or self.processes:
                if self.processes[name].poll() is not None:
                    raise AssertionError(f"{name} exited ({self.processes[name].returncode})\n{self.logs()}")
            result = condition()
            if result:
                return result
            time.sleep(0.25)
        raise AssertionError(f"{what}: not within {seconds} s\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp_path.glob("*.log"))
        )

    def stop_all(self) -> None:
        """SIGTERM to every process group, then SIGKILL to what is left after the grace period."""
        for process in self.processes.values():
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # A worker's pool may outlive its parent for a moment: the whole group, whatever is left.
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        return http("GET", f"{url}/readyz", timeout=5).status == 200
    except OSError:
        return False


def production_env(tmp_path: Path, **extra: str) -> dict:
    """What every process of the deployment is given: debug off, the keys, nothing of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        VPNREGISTRY_DEBUG="0",
        VPNREGISTRY_SECRET_KEY=secrets.token_urlsafe(50),
        # The keys the test process encrypts identifiers with: every process reads what the others wrote.
        VPNREGISTRY_FIELD_KEYS=",".join(k.decode() for k in fieldcrypt.field_keys()),
        VPNREGISTRY_ALLOWED_HOSTS="127.0.0.1",
        VPNREGISTRY_SSL_REDIRECT="0",  # plain HTTP on loopback; TLS ends at the proxy
        VPNREGISTRY_LOG_LEVEL="WARNING",
        VPNREGISTRY_VAR=str(tmp_path / "var"),
        VPNREGISTRY_STATIC_ROOT=str(tmp_path / "static"),
        VPNREGISTRY_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.update(extra)
    return env


@pytest.fixture
def backends(transactional_db) -> tuple[str, str]:
    """The test broker's and the test cache's URLs, or skip (before anything is started)."""
    if connection.vendor != "postgresql":
        pytest.skip("the servers read the test database through connections of their own: PostgreSQL only")
    return require_broker(), require_cache()


@pytest.fixture
def deployment(backends, object_store, world, tmp_path, settings):
    broker_url, cache_url = backends
    import redis

    redis.Redis.from_url(cache_url, socket_connect_timeout=2, socket_timeout=2).flushdb()

    key_file = tmp_path / "signing.key"
    made = subprocess.run(
        [BIN / "vpnregistry", "make-signing-key", str(key_file)], capture_output=True, text=True, timeout=60,
        env=production_env(tmp_path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    settings.SIGNING_KEY_FILE = str(key_file)  # this process signs (if ever) with the servers' key

    queue = f"vpnregistry-test-{uuid.uuid4().hex[:12]}"
    env = production_env(
        tmp_path,
        DATABASE_URL=_database_url(),
        VPNREGISTRY_SIGNING_KEY_FILE=str(key_file),
        VPNREGISTRY_BROKER_URL=broker_url,
        VPNREGISTRY_BROKER_QUEUE=queue,
        VPNREGISTRY_CACHE_URL=cache_url,
        VPNREGISTRY_S3_BUCKET=object_store.bucket,
        VPNREGISTRY_S3_ENDPOINT_URL=object_store.endpoint,
        VPNREGISTRY_S3_ACCESS_KEY=CREDENTIALS["access_key"],
        VPNREGISTRY_S3_SECRET_KEY=CREDENTIALS["secret_key"],
        VPNREGISTRY_S3_REGION=REGION,
        VPNREGISTRY_THROTTLE_LOOKUP=f"{LOOKUPS_PER_MINUTE}/min",
        # Production waits 30 s between snapshots; the worker's start publishes one just before the
        # approval, which would then wait for the next. Not what this test is about.
        VPNREGISTRY_ALLOWLIST_MIN_INTERVAL="0",
    )
    deployment = Deployment(
        tmp_path=tmp_path,
        env=env,
        queue=queue,
        broker_url=broker_url,
        public_key=PublicKey.from_text((tmp_path / "signing.key.pub").read_text()),
    )
    try:
        # As deployed: the static files collected once, before the servers start.
        collected = subprocess.run(
            [BIN / "vpnregistry", "collectstatic", "--noinput", "-v", "0"], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert collected.returncode == 0, collected.stderr
        deployment.start(
            "worker",
            [BIN / "vpnregistry", "worker", "--concurrency", "1", "--without-gossip", "--without-mingle",
             "--queues", queue, "--hostname", f"{queue}@%h"],
            var="var-worker",
        )  # fmt: skip
        deployment.start(
            "beat",
            [BIN / "vpnregistry", "beat", "--schedule", str(tmp_path / "beat-schedule")],
            var="var-beat",
        )  # fmt: skip
        for name in ("A", "B"):
            deployment.serve(name)
        for name, url in deployment.urls.items():
            deployment.wait(lambda url=url: _answers(url), f"server {name} answering", START_SECONDS)
        yield deployment
    finally:
        deployment.stop_all()
        from kombu import Connection

        with suppress(Exception), Connection(broker_url, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(queue)
        with suppress(Exception):
            for key in object_store.listed():
                object_store.client.delete_object(Bucket=object_store.bucket, Key=key)
            object_store.client.delete_bucket(Bucket=object_store.bucket)


@pytest.mark.django_db(transaction=True)
def test_two_servers_act_as_one_registry(deployment, world):
    a, b = deployment.urls["A"], deployment.urls["B"]
    officer, operator, applicant = (
        api_key(user) for user in (world.officer, world.operator, world.applicant)
    )

    # Both ready: the database, the broker, the cache and the storage answer each.
    for url in (a, b):
        ready = http("GET", f"{url}/readyz")
        assert ready.status == 200, ready.body
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "cache": "ok", "storage": "ok"}

    # An approval through A is in the allowlist B serves: the worker publishes, signed with the given key.
    application = to_decision(world, ADDRESS)
    decided = http(
        "POST", f"{a}/api/v1/applications/{application.pk}/decide/", token=officer,
        body=json.dumps({"decision": "approve", "reason": "ok"}).encode(), content_type="application/json",
    )  # fmt: skip
    assert decided.status == 200, decided.body
    assert decided.json()["state"] == "approved"

    def published_on_b():
        answer = http("GET", f"{b}/api/v1/allowlist/latest.txt", token=operator)
        return answer if answer.status == 200 and ADDRESS in answer.body.decode() else None

    listed = deployment.wait(published_on_b, "the approved address in B's allowlist", PUBLISH_SECONDS)
    signature = http("GET", f"{b}/api/v1/allowlist/latest.txt.minisig", token=operator)
    assert signature.status == 200, signature.body
    key, _ = verify(listed.body, signature.body.decode(), [deployment.public_key])
    assert key.key_id_hex == deployment.public_key.key_id_hex
    assert http("GET", f"{a}/api/v1/allowlist/latest.txt", token=operator).body == listed.body

    # A document uploaded through A downloads identically through B.
    content = minimal_pdf("The incorporation certificate, uploaded through server A")
    body, content_type = multipart(
        {"document_type": "cnic", "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat()},
        {"file": ("cnic.pdf", content, "application/pdf")},
    )
    uploaded = http("POST", f"{a}/api/v1/documents/", token=applicant, body=body, content_type=content_type)
    assert uploaded.status == 201, uploaded.body
    document = uploaded.json()["id"]
    downloaded = http("GET", f"{b}/api/v1/documents/{document}/file/", token=applicant)
    assert downloaded.status == 200, downloaded.body
    assert downloaded.body == content
    assert hashlib.sha256(downloaded.body).hexdigest() == hashlib.sha256(content).hexdigest()
    assert not any((deployment.tmp_path / "var-A").rglob("documents/*")), "the document stayed on A's disk"

    # The lookup limit counts A and B together: half the budget on each, then neither answers.
    registration = Registration.objects.get(resource__application=application, value=ADDRESS)
    code = certificates.issue_certificate(actor=world.applicant, registration=registration).code
    lookups = [(a if i < LOOKUPS_PER_MINUTE // 2 else b) for i in range(LOOKUPS_PER_MINUTE)]
    statuses = [http("GET", f"{url}/api/v1/certificates/{code}/").status for url in lookups]
    assert statuses == [200] * LOOKUPS_PER_MINUTE
    for url in (a, b):
        refused = http("GET", f"{url}/api/v1/certificates/{code}/")
        assert refused.status == 429, refused.body
        assert int(refused.headers["Retry-After"]) > 0

    # Nothing fell over meanwhile.
    assert all(p.poll() is None for p in deployment.processes.values()), deployment.logs()
    for url in (a, b):
        assert http("GET", f"{url}/readyz").status == 200


@pytest.mark.parametrize("preload", [False, True], ids=["as-the-unit-runs-it", "preloaded"])
def test_a_server_with_production_settings_and_no_signing_key_refuses_to_start(tmp_path, preload):
    """As deploy/systemd/vpnregistry-web.service runs gunicorn (the workers load the app, the master
    gives up when they cannot) and with --preload (the master loads it): either way, no server."""
    port = _free_port()
    env = production_env(tmp_path)  # everything production needs but the signing key
    started = time.monotonic()
    result = subprocess.run(
        [BIN / "gunicorn", "vpnregistry.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--control-socket", str(tmp_path / "gunicorn.ctl"), *(["--preload"] if preload else [])],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "VPNREGISTRY_SIGNING_KEY_FILE must name the allowlist signing key" in result.stderr
    assert time.monotonic() - started < 30
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "something serves on the port"
