"""The database goes away mid-way through a request or a publication: nothing is left half-done.

Everything runs against a throwaway PostgreSQL cluster of the tests' own (`pg_cluster`), in
processes of their own: the production server (gunicorn) for requests, the `vpnregistry` command
for publication, and `tests.faults.probe` to read the outcome back. The mid-way point is made
deterministic by holding, from the test's own connection, the advisory lock that every audit
record takes (or the publication lock): the operation blocks on it with its transaction open and
half of its rows written, the test sees it waiting in `pg_locks`, and then kills the database,
either the whole server at once (`pg_ctl stop -m immediate`, the crash) or only that backend
(`pg_terminate_backend`).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from benchmarks.serving import signing_key
from cryptography.fernet import Fernet

from vpnregistry.db import LOCKS

# One cluster for the whole run: under xdist (`--dist loadgroup`) these tests share one worker.
pytestmark = pytest.mark.xdist_group("faults-pg-cluster")

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIMEOUT = 60  # seconds: the bound on every wait below
BANK = "Demo Bank Ltd"  # the demo application awaiting the officer's decision


def _run(args: list, env: dict, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


FIELD_KEY = Fernet.generate_key().decode()


def _env(url: str, var: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
    env.update(
        VPNREGISTRY_SIGNING_KEY_FILE=signing_key(var),  # made once, as make scale does
        DATABASE_URL=url,
        VPNREGISTRY_VAR=str(var),
        VPNREGISTRY_DEBUG="1",
        # One identifier key for the debug-on setup and the debug-off server alike.
        VPNREGISTRY_FIELD_KEYS=FIELD_KEY,
        VPNREGISTRY_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def demo_template(pg_cluster, tmp_path_factory):
    """Migrated, with the demo world loaded and published once: a template database and its files."""
    var = tmp_path_factory.mktemp("faults-template")
    url = pg_cluster.create_database("demo_template")
    env = _env(url, var)
    for command in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
        result = _run([BIN / "vpnregistry", *command], env, timeout=300)
        assert result.returncode == 0, result.stderr
    return var


class Registry:
    """One test's registry: a copy of the demo database and of its files, with helpers."""

    def __init__(self, cluster, name: str, var: Path) -> None:
        self.cluster, self.name, self.var = cluster, name, var
        self.url = cluster.url(name)
        self.accounts = {a["username"]: a for a in json.loads((var / "demo-accounts.json").read_text())}

    def env(self, **extra: str) -> dict:
        return _env(self.url, self.var, **extra)

    def probe(self) -> dict:
        result = _run([sys.executable, "-m", "tests.faults.probe", "report"], self.env())
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def command(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return _run([BIN / "vpnregistry", *args], self.env(**extra))

    def bank(self, report: dict) -> tuple[str, dict]:
        (tracking,) = [t for t, a in report["applications"].items() if a["state"] == "awaiting_decision"]
        return tracking, report["applications"][tracking]

    @contextmanager
    def holding(self, lock: str):
        """Hold a named advisory lock from a connection of the test's own, to stop others at it."""
        holder = Holder(self.cluster, self.name, lock)
        try:
            yield holder
        finally:
            holder.close()

    @contextmanager
    def server(self):
        """The production server, as deployed: gunicorn, debug off, one worker, on a free port."""
        from tests.faults.cluster import free_port

        port = free_port()
        env = self.env(
            VPNREGISTRY_DEBUG="0",
            VPNREGISTRY_SECRET_KEY="fault-tests-" + "x" * 40,
            VPNREGISTRY_SSL_REDIRECT="0",
            VPNREGISTRY_ALLOWED_HOSTS="127.0.0.1",
            # Production's default waits 30 s between snapshots; these tests publish on approval.
            VPNREGISTRY_ALLOWLIST_MIN_INTERVAL="0",
        )
        log = open(self.var / "gunicorn.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [BIN / "gunicorn", "vpnregistry.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", str(TIMEOUT), "--graceful-timeout", "5"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            server = Server(port, self.accounts)
            server.wait_ready(process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


class Holder:
    def __init__(self, cluster, database: str, lock: str) -> None:
        self.conn = cluster.connect(database, autocommit=True)
        self.conn.execute("SELECT pg_advisory_lock(%s)", [LOCKS[lock]])

    def wait_for_waiter(self) -> int:
        """The pid of the backend that waits for our lock, once one does (bounded)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            row = self.conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted LIMIT 1"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
        raise AssertionError("nothing came to wait for the lock in time")

    def terminate(self, pid: int) -> None:
        assert self.conn.execute("SELECT pg_terminate_backend(%s, %s)", [pid, TIMEOUT * 1000]).fetchone()[0]

    def close(self) -> None:
        with suppress(Exception):
            self.conn.close()


class Server:
    def __init__(self, port: int, accounts: dict) -> None:
        self.port, self.accounts = port, accounts

    def wait_ready(self, process) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert process.poll() is None, "gunicorn exited"
            with suppress(OSError, http.client.HTTPException):
                if self.request("GET", "/events.json")[0] == 200:
                    return
            time.sleep(0.2)
        raise AssertionError("gunicorn did not answer in time")

    def request(self, method: str, path: str, *, user: str | None = None, body: dict | None = None):
        """(status, body); a connection torn down mid-request raises, as it would for any client."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Token {self.accounts[user]['token']}"
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def _kill(cluster, holder: Holder, pid: int, how: str) -> None:
    if how == "crash":
        cluster.stop("immediate")
        holder.close()
        cluster.start()
    else:
        holder.terminate(pid)


def _status_of(future) -> int | None:
    """The HTTP status of a request that was under way during the fault, or None when it was cut."""
    try:
        return future.result(timeout=TIMEOUT)[0]
    except (OSError, http.client.HTTPException):
        return None


def _consistent(report: dict) -> None:
    assert report["audit"]["ok"], report["audit"]
    assert report["publication_problems"] == []
    assert report["temporary_files"] == []
    assert report["index"]["serial"] == report["serials"][-1] == report["index"]["document_serial"]
    assert report["index"]["signed"] is True and report["index"]["sha256_ok"]
    assert report["served"]["latest_status"] == 200 and report["served"]["latest_matches_row"]
    assert all(status == 404 for status in report["served"]["orphan_statuses"].values())


@pytest.fixture
def registry(pg_cluster, demo_template, tmp_path, request):
    name = "t_" + request.node.name.lower().translate(str.maketrans("[]-", "___"))[:50]
    with pg_cluster.connect(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        # FILE_COPY, not PostgreSQL 15's default WAL_LOG: a WAL-logged copy carries the template's
        # sequence pages with their count of values already logged, values that no WAL record of the
        # copy covers; after a crash the copy's sequences then step back and hand out ids again
        # (seen here: "duplicate key ... audit_auditevent_pkey" on the first insert after recovery).
        # FILE_COPY checkpoints around the copy, so the first nextval() in the copy logs afresh.
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE demo_template STRATEGY FILE_COPY')
    var = tmp_path / "var"
    shutil.copytree(demo_template, var)
    yield Registry(pg_cluster, name, var)
    with suppress(Exception), pg_cluster.connect(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("how", ["crash", "terminate"])
def test_approval_request_cut_mid_transaction_is_all_or_nothing(registry, how):
    before = registry.probe()
    _consistent(before)
    tracking, bank = registry.bank(before)
    path = f"/api/v1/applications/{bank['id']}/decide/"
    approve = {"decision": "approve", "reason": "Documents in order."}
    with registry.server() as server, ThreadPoolExecutor(1) as pool:
        # Blocked at the audit lock inside the approval: its review, first registration and active
        # period are written, the application's state is not; the transaction is open.
        with registry.holding("audit") as holder:
            future = pool.submit(server.request, "POST", path, user="demo-officer", body=approve)
            pid = holder.wait_for_waiter()
            _kill(registry.cluster, holder, pid, how)
            status = _status_of(future)
        assert status is None or status >= 500, status

        after = registry.probe()
        assert after["applications"][tracking] == bank  # nothing of the approval is left
        verified = registry.command("verify-log", "--no-record")
        assert verified.returncode == 0, verified.stderr
        assert after["audit"]["checked"] == before["audit"]["checked"]
        assert after["serials"] == before["serials"]
        _consistent(after)

        # The same server, once the database is back, approves it whole, and publishes it.
        status, body = server.request("POST", path, user="demo-officer", body=approve)
        assert status == 200, body[:500]
    done = registry.probe()
    approved = done["applications"][tracking]
    assert approved["state"] == "approved" and approved["decision_reviews"] == 1
    assert len(approved["registrations"]) == approved["active_periods"] == 1
    assert done["serials"] == [*before["serials"], before["serials"][-1] + 1]
    _consistent(done)


@pytest.mark.parametrize("how", ["crash", "terminate"])
def test_publication_cut_mid_way_leaves_no_half_written_snapshot(registry, how):
    tracking, _bank = registry.bank(registry.probe())
    # An approval whose publication waits for the cron job (a snapshot was published just now).
    approved = _run(
        [sys.executable, "-m", "tests.faults.probe", "approve", tracking],
        registry.env(VPNREGISTRY_ALLOWLIST_MIN_INTERVAL="3600"),
    )
    assert approved.returncode == 0, approved.stderr
    before = registry.probe()
    assert before["applications"][tracking]["state"] == "approved"
    serial = before["serials"][-1] + 1

    with registry.holding("audit") as holder:
        publish = subprocess.Popen(
            [BIN / "vpnregistry", "publish"], env=registry.env(), cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            pid = holder.wait_for_waiter()
            # Mid-way: every file of the next serial is on disk, its row written but not committed.
            session = registry.var / "allowlist" / json.loads(_index(registry))["session"]
            assert (session / f"{serial}.txt").exists() and (session / f"{serial}.txt.minisig").exists()
            _kill(registry.cluster, holder, pid, how)
            _out, err = publish.communicate(timeout=TIMEOUT)
        finally:
            if publish.poll() is None:
                publish.kill()
                publish.wait(timeout=10)
    assert publish.returncode != 0, err

    after = registry.probe()
    assert after["serials"] == before["serials"]  # the snapshot never committed
    assert after["audit"]["checked"] == before["audit"]["checked"]
    assert any(o.endswith(f"/{serial}.txt") for o in after["orphans"])  # its files: never served
    assert after["served"]["orphan_statuses"] == {str(serial): 404}
    _consistent(after)

    # The next publication takes the same serial, rewrites its files whole and signs them.
    again = registry.command("publish")
    assert again.returncode == 0, again.stderr
    done = registry.probe()
    assert done["serials"] == [*before["serials"], serial]
    assert done["orphans"] == []
    _consistent(done)
    value = done["applications"][tracking]["registrations"][0]
    latest = (session / f"{serial}.txt").read_text().split()
    assert value in latest


def _index(registry) -> str:
    with registry.cluster.connect(registry.name) as conn:
        return conn.execute("SELECT content FROM allowlist_signedindex WHERE id = 1").fetchone()[0]


def test_publication_lost_after_commit_is_caught_up_by_the_next_publish(registry):
    before = registry.probe()
    tracking, bank = registry.bank(before)
    path = f"/api/v1/applications/{bank['id']}/decide/"
    # The approval commits; the publication it asks for then waits for the publication lock.
    with (
        registry.server() as server,
        ThreadPoolExecutor(1) as pool,
        registry.holding("publication") as holder,
    ):
        future = pool.submit(
            server.request,
            "POST",
            path,
            user="demo-officer",
            body={"decision": "approve", "reason": "ok"},
        )
        pid = holder.wait_for_waiter()
        _kill(registry.cluster, holder, pid, "crash")
        _status_of(future)  # 200 or 500: the approval had committed, the answer may be lost with it
    after = registry.probe()
    approved = after["applications"][tracking]
    assert approved["state"] == "approved" and len(approved["registrations"]) == 1
    assert after["serials"] == before["serials"]
    _consistent(after)
    published = registry.command("publish")
    assert published.returncode == 0, published.stderr
    done = registry.probe()
    assert done["serials"] == [*before["serials"], before["serials"][-1] + 1]
    _consistent(done)


def test_server_answers_again_after_the_database_restarts(registry):
    """A worker's kept connection dies with the server; the next request must not fail on it."""
    index = "/api/v1/allowlist/index.json"
    with registry.server() as server:
        assert server.request("GET", index, user="demo-operator")[0] == 200
        registry.cluster.stop("immediate")
        try:
            # While it is down: an error answer, never a hang.
            assert server.request("GET", index, user="demo-operator")[0] == 500
        finally:
            registry.cluster.start()
        assert server.request("GET", index, user="demo-operator")[0] == 200
        # Restarted while the worker sat idle on a kept connection: the first request still succeeds.
        registry.cluster.stop("immediate")
        registry.cluster.start()
        status, body = server.request("GET", index, user="demo-operator")
        assert status == 200, body[:300]
        # And again before a single exemption check, whose reads skip the health check: the dead
        # connection is found by the read, replaced, and the read run again.
        registry.cluster.stop("immediate")
        registry.cluster.start()
        status, body = server.request(
            "GET", "/api/v1/exemptions/check?address=14.1.104.9", user="demo-operator"
        )
        assert status == 200, body[:300]
