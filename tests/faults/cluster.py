"""A throwaway PostgreSQL cluster of the tests' own: initdb on a free port of 127.0.0.1, never the
machine's server, so that the fault tests may kill it and start it again at will."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psycopg

# Every wait is bounded: a fault test that hangs is worse than one that fails.
START_SECONDS = 30
STOP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb, pg_ctl start/stop; as an unprivileged user when run as root (initdb refuses root)."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.initdb, self.pg_ctl = initdb, pg_ctl
        # Under /tmp itself, not pytest's private (0700) folder, so the unprivileged user can reach it.
        self.root = Path(tempfile.mkdtemp(prefix="vpnregistry-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            os.chown(self.root, 65534, 65534)  # nobody:nogroup
            os.chmod(self.root, 0o700)
            self._as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self._as_user, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"},
        )

    def _check(self, result: subprocess.CompletedProcess, what: str) -> None:
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{log[-3000:]}")

    def init(self) -> None:
        result = self._run(
            self.initdb,
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            timeout=120,
        )
        self._check(result, "initdb")

    def start(self) -> None:
        # fsync off only spares the disk: an immediate stop kills the server, not the kernel, so
        # what each COMMIT wrote to the WAL (synchronous_commit stays on) survives and is replayed.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB"
        )
        result = self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", str(START_SECONDS), "start", timeout=START_SECONDS + 10,
        )  # fmt: skip
        self._check(result, "pg_ctl start")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is the crash: every backend is killed at once and nothing is checkpointed."""
        result = self._run(
            self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", str(STOP_SECONDS), "stop",
            timeout=STOP_SECONDS + 10,
        )  # fmt: skip
        self._check(result, f"pg_ctl stop -m {mode}")

    def running(self) -> bool:
        return self._run(self.pg_ctl, "-D", str(self.data), "status", timeout=10).returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(database), connect_timeout=10, **kwargs)

    def create_database(self, name: str) -> str:
        with self.connect(autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with suppress(Exception):
            if self.data.exists() and self.running():
                self.stop("immediate")
        # The last resort when pg_ctl could not stop it: the postmaster's pid is on the first line.
        with suppress(Exception):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 9)
            time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)
