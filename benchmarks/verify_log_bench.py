"""`vpnregistry verify-log` against a million audit records on PostgreSQL.

A throwaway database (`vr_verify_bench` unless the URL names another) gets N chained audit records
(default 1,000,000) by COPY, each hash computed with the same `_digest` that `record()` uses, with
varied actions, reasons (some in Urdu), data and times. Then it times:

1. the full verification as it was before (model instances from `.iterator()`, `_event_digest`),
2. the first checkpoint (whose check walks the whole log),
3. the full verification now (`verify_chain()`, what `verify-log --full` runs; `--runs` times),
4. the same with the hashing spread over a process pool (`--pool`, 0 to skip; not used by
   verify-log, since it does not pay on two cores),
5. after a stored run, 10,000 new records and an incremental run (`verify_chain(incremental=True)`,
   what the nightly `verify-log` runs), then the command itself,

and prints records a second against the target of 200,000 a second for a full run (exit status 1
when the best full run misses it), with the CPU a record took in Python and in the PostgreSQL
backend when the server runs on this machine: on a shared machine the wall time depends on the
others. The database is dropped at the end (`--keep` leaves it). Run:

    python -m benchmarks.verify_log_bench --records 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

TARGET = 200_000  # records a second, for a full run
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_NAME = "vr_verify_bench"

ACTIONS = [
    ("application.submit", "application", "draft", "submitted"),
    ("attestation.confirm", "resource", "", ""),
    ("review.verify", "application", "in_review", "awaiting_decision"),
    ("registration.create", "registration", "", "active"),
    ("snapshot.publish", "snapshot", "", ""),
    ("registration.expire", "registration", "active", "expired"),
]
REASONS = ["", "", "", "documents complete", "ISP confirmed the subscriber ID", "دستاویزات نامکمل ہیں"]


def _database(url: str) -> tuple[str, str]:
    """The URL of the benchmark's database and the name of that database."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("--database-url must be a PostgreSQL URL")
    name = parts.path.strip("/") or DEFAULT_NAME
    return urlunsplit(parts._replace(path="/" + name)), name


def _admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def _create(url: str, name: str, replace: bool) -> None:
    from psycopg import sql

    with _admin(url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not replace:
            raise SystemExit(f"database {name} exists; drop it, or pass --replace to let this do it")
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(url: str, name: str) -> None:
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with _admin(url) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _setup(url: str, home: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        VPNREGISTRY_VAR=home,
        VPNREGISTRY_DEBUG="1",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rows(start: int, count: int, prev_hash: str, at: datetime):
    """`count` chained records after record `start`; yields COPY rows and returns the last hash."""
    from vpnregistry.audit.services import _digest

    for seq in range(start + 1, start + count + 1):
        action, object_type, from_state, to_state = ACTIONS[seq % len(ACTIONS)]
        # Some times fall on a whole second, whose stored text has no fraction.
        at = at + timedelta(seconds=7, microseconds=0 if seq % 10 == 0 else (seq * 7919) % 1_000_000)
        at = at.replace(microsecond=0) if seq % 10 == 0 else at
        actor = f"user{seq % 977}" if seq % 5 else "system"
        object_id = str(seq // 3)
        reason = REASONS[seq % len(REASONS)]
        data = {}
        if object_type == "registration":
            data = {"value": f"14.{seq % 256}.{seq // 256 % 256}.0/24", "renewed_by": f"VR-2026-{seq:06d}"}
        elif object_type == "snapshot":
            data = {"serial": seq, "added": seq % 17, "removed": seq % 5, "formats": ["json", "txt"]}
        elif object_type == "resource":
            data = {"operator": "ptcl", "subscriber": "ک" + str(seq)}
        digest = _digest(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=data,
            prev_hash=prev_hash,
        )
        row = (seq, at, actor, action, object_type, object_id, from_state, to_state, reason)
        yield (*row, json.dumps(data), prev_hash, digest)
        prev_hash = digest


def _append(count: int) -> float:
    """Append `count` chained records after the current tail, by COPY; seconds taken."""
    from django.db import connection, transaction

    from vpnregistry.audit.models import AuditEvent
    from vpnregistry.audit.services import GENESIS

    started = time.perf_counter()
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash", "at").first()
    start, prev_hash, at = last if last else (0, GENESIS, datetime(2020, 1, 1, tzinfo=UTC))
    table = AuditEvent._meta.db_table
    columns = "seq, at, actor_label, action, object_type, object_id, from_state, to_state, reason, data"
    copy_sql = f"COPY {table} ({columns}, prev_hash, hash) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in _rows(start, count, prev_hash, at):
            copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def _old_full() -> int:
    """The full walk as verify-log did it before: model instances, one `_digest` call each."""
    from vpnregistry.audit.models import AuditEvent
    from vpnregistry.audit.services import GENESIS, _event_digest

    prev_hash, expected, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=5000):
        if event.seq != expected or event.prev_hash != prev_hash or _event_digest(event) != event.hash:
            raise AssertionError(f"the old walk found record {event.seq} broken")
        prev_hash = event.hash
        expected += 1
        checked += 1
    return checked


def _hash_page(page) -> list[str]:
    from vpnregistry.audit.services import _digests

    gc.disable()
    return _digests(*page)


def _pooled_full(workers: int) -> int:
    """The new walk with the hashing spread over a process pool: measured, not used, since on
    two cores pickling the pages costs more than the other core gives back."""
    from vpnregistry.audit.services import GENESIS, _pages

    prev_hash, expected, checked = GENESIS, 1, 0
    waiting: deque = deque()

    def check_oldest():
        nonlocal prev_hash, expected, checked
        rows, digests = waiting.popleft()
        for row, digest in zip(rows, digests.result(), strict=True):
            if row[0] != expected or row[9] != prev_hash or digest != row[10]:
                raise AssertionError(f"the pooled walk found record {row[0]} broken")
            prev_hash = row[10]
            expected += 1
            checked += 1

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        collecting = gc.isenabled()
        gc.disable()
        try:
            for page in _pages(0, 10_000):
                waiting.append((page[0], pool.submit(_hash_page, page)))
                if len(waiting) > 2 * workers:
                    check_oldest()
            while waiting:
                check_oldest()
        finally:
            if collecting:
                gc.enable()
    return checked


class _Clock:
    """Wall time, this process's CPU time and, when the server runs on this machine, the CPU time
    of the database backend serving this connection: on a shared machine the CPU per record says
    what the wall time cannot."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.stat = f"/proc/{cursor.fetchone()[0]}/stat"
        self.tick = os.sysconf("SC_CLK_TCK")

    def server(self) -> float | None:
        try:
            with open(self.stat) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.tick

    @staticmethod
    def cpu() -> float:
        """This process's CPU time and that of its children (a pool's workers, once they end)."""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def time(self, run):
        server, cpu, wall = self.server(), self.cpu(), time.perf_counter()
        result = run()
        wall, cpu = time.perf_counter() - wall, self.cpu() - cpu
        after = self.server()
        return result, wall, cpu, (after - server if server is not None and after is not None else None)


def _timed(clock: _Clock, label: str, run, target: bool = False, serial: bool = True) -> float:
    """Time `run` (which returns how many records it read) and print its rate, and the CPU a
    record took. On a shared machine the wall time depends on the others; the CPU says what two
    idle cores would give: the busier of Python (one process, `serial`) and the server sets the
    pace, or with several Python processes half the CPU of them all."""
    read, wall, cpu, server = clock.time(run)
    rate = read / wall if wall else float("inf")
    verdict = ("  target met" if rate >= TARGET else "  target MISSED") if target else ""
    print(f"  {label:<42} {read:>9,} records {wall:7.2f} s {rate:>9,.0f}/s{verdict}")
    if read and server is not None:
        bound = max(cpu, server, (cpu + server) / 2) if serial else (cpu + server) / 2
        print(
            f"  {'':<42} CPU a record: python {cpu / read * 1e6:.2f} us + postgres "
            f"{server / read * 1e6:.2f} us; two idle cores: at most {read / bound:,.0f}/s"
        )
    elif read:
        print(f"  {'':<42} CPU a record: python {cpu / read * 1e6:.2f} us")
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000, help="records added before the incremental run")
    parser.add_argument(
        "--database-url", default=DEFAULT_URL, help=f"database name defaults to {DEFAULT_NAME}"
    )
    parser.add_argument("--skip-old", action="store_true", help="do not time the old full walk")
    parser.add_argument("--runs", type=int, default=1, help="time the new full walk this many times")
    parser.add_argument("--pool", type=int, default=2, help="processes for the pooled walk (0: skip it)")
    parser.add_argument("--replace", action="store_true", help="drop the benchmark database if it exists")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    args = parser.parse_args(argv)
    url, name = _database(args.database_url)
    _create(url, name, args.replace)
    try:
        with tempfile.TemporaryDirectory(prefix="vr-verify-bench-") as home:
            _setup(url, home)
            return _run(args)
    finally:
        if not args.keep:
            _drop(url, name)


def _run(args) -> int:
    from django.core.management import call_command

    from vpnregistry.audit.models import AuditEvent
    from vpnregistry.audit.services import make_checkpoint, record_verify_run, verify_chain

    print(f"verify-log on PostgreSQL, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"  filled {args.records:,} chained records in {_append(args.records):.1f} s (COPY)")
    print(f"  load average before timing: {os.getloadavg()[0]:.1f}")
    clock = _Clock()

    def full():
        report = verify_chain()
        assert report.ok, report
        return report.checked

    if not args.skip_old:
        _timed(clock, "full walk, before (model instances)", _old_full, target=True)
    _timed(clock, "checkpoint (the first walks the whole log)", lambda: make_checkpoint().checkpoint.count)
    rate = max(
        _timed(clock, "full walk, now (verify-log --full)", full, target=True) for _ in range(args.runs)
    )
    if args.pool:
        label = f"full walk, hashing in {args.pool} processes"
        _timed(clock, label, lambda: _pooled_full(args.pool), target=True, serial=False)
    record_verify_run(verify_chain())
    print(f"  appended {args.new:,} records in {_append(args.new):.1f} s")

    def incremental():
        report = verify_chain(incremental=True)
        assert report.ok and report.checked == AuditEvent.objects.count(), report
        return report.checked - report.start

    _timed(clock, "incremental walk (verify-log, nightly)", incremental)
    out = io.StringIO()
    started = time.perf_counter()
    call_command("verify-log", stdout=out)
    print(f"  `vpnregistry verify-log` took {time.perf_counter() - started:.2f} s: {out.getvalue().strip()}")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
