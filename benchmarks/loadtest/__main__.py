"""`make loadtest`: the production server (gunicorn) on 127.0.0.1 under locust, headless, bounded.

A throwaway registry (SQLite under a temporary folder, or the empty PostgreSQL database named by
`--database-url`) gets the demo data, 30,000 registered addresses (the size of the real regime at
the end of 2024) published as a signed snapshot, 100 operators and 20 applicant organisations,
each with an API token of its own. gunicorn serves it with production settings; locust offers a
fixed rate of about 200 requests a second (see `locustfile.py`). The users start at `--spawn-rate`
a second, and the figures count from the moment all have started (locust's `--reset-stats`) for
`--run-time` seconds: each operator's first poll fetches every file in full, and a fleet that all
starts in the same second is a cold start, not the steady load the targets are about. The driver
then prints, per request type, the throughput, p50 and p99 latency and the errors, and checks the
targets: no errors at 200 requests a second, p99 under 100 ms for the allowlist downloads.
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.serving import env as _env
from benchmarks.serving import free_port as _free_port
from benchmarks.serving import serve, stop

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
TARGET_RATE = 200.0  # requests a second offered
TARGET_P99_MS = 100.0  # for the allowlist downloads


def prepare(
    home: Path, database_url: str | None, *, registrations: int, operators: int, applicants: int
) -> dict:
    """Demo data, bulk registrations, a published snapshot, and the accounts locust will use."""
    env = _env(home, database_url)
    for command in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
        subprocess.run(
            [BIN / "vpnregistry", *command], env=env, check=True, cwd=home, stdout=subprocess.DEVNULL
        )
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from vpnregistry.accounts.authentication import issue_token
    from vpnregistry.accounts.models import AddressSpace, Category, Operator, Organisation, Role, User
    from vpnregistry.allowlist.services import publish_snapshot
    from vpnregistry.applications.models import Application, Resource
    from vpnregistry.db import network_keys
    from vpnregistry.demo import _file_documents
    from vpnregistry.registrations.models import ActivePeriod, Registration, new_reference

    # Every /24 of the country's space, with the operator whose space holds it.
    slash24s = []
    for row in AddressSpace.objects.filter(family=4).order_by("first"):
        slash24s += [
            (net, row.operator_id) for net in ipaddress.ip_network(row.prefix).subnets(new_prefix=24)
        ]
    used = set(Registration.objects.values_list("value", flat=True)) | set(
        Resource.objects.values_list("value", flat=True)
    )
    free = [(net, op) for net, op in slash24s if str(net) not in used]
    # Two addresses in each of the first /24s, apart so that they do not aggregate: one per freelancer.
    per_net = 2
    hosts = [(net, op) for net, op in free[: registrations // per_net]]
    spare = free[len(hosts) :]
    category = Category.objects.get(code="freelancer")
    holder = Organisation.objects.create(name="Load-test freelancers", category=category)
    member = User.objects.create(username="load-holder", role=Role.APPLICANT, organisation=holder)
    application = Application.objects.create(
        organisation=holder, category=category, created_by=member, state="approved"
    )
    now = timezone.now() - timedelta(hours=1)
    until = now + timedelta(days=365)
    rows = []
    for net, op in hosts:
        for offset in (10, 200)[:per_net]:
            value = f"{net.network_address + offset}/32"
            rows.append((value, network_keys(ipaddress.ip_network(value)), op))
    resources = Resource.objects.bulk_create(
        [
            Resource(
                application=application, kind="ipv4", value=v, family=4, first=k[1], last=k[2],
                operator_id=op, subscriber_id="LOAD", state="confirmed",
            )
            for v, k, op in rows
        ],
        batch_size=5000,
    )  # fmt: skip
    registered = Registration.objects.bulk_create(
        [
            Registration(
                reference=new_reference(), resource=r, organisation=holder, operator_id=r.operator_id,
                kind="ipv4", value=r.value, family=4, first=r.first, last=r.last,
                valid_from=now, valid_until=until,
            )
            for r in resources
        ],
        batch_size=5000,
    )  # fmt: skip
    ActivePeriod.objects.bulk_create(
        [ActivePeriod(registration=r, start=now, end=until) for r in registered], batch_size=5000
    )
    snapshot = publish_snapshot()
    # What the quarter-hourly cron job leaves: among others, SQLite's planner statistics.
    call_command("sweep", stdout=open(os.devnull, "w"))  # noqa: SIM115

    operator_tokens = []
    for i in range(operators):
        operator = Operator.objects.create(code=f"load-isp-{i:03d}", name=f"Load-test ISP {i:03d}")
        staff = User.objects.create(username=f"load-isp-{i:03d}", role=Role.OPERATOR, operator=operator)
        operator_tokens.append(issue_token(staff))
    company = Category.objects.get(code="company")
    applicant_accounts = []
    for i in range(applicants):
        org = Organisation.objects.create(name=f"Load-test software house {i:03d}", category=company)
        user = User.objects.create(username=f"load-applicant-{i:03d}", role=Role.APPLICANT, organisation=org)
        _file_documents(user)  # what its category needs before it may submit, as the demo's have
        applicant_accounts.append({"token": issue_token(user), "value": str(spare[i][0])})
    # Half the addresses asked about are registered, half are not.
    addresses = [v.split("/")[0] for v, _k, _op in rows[:500]] + [
        str(net.network_address + 77) for net, _op in spare[-500:]
    ]
    connection.close()
    return {
        "operators": operator_tokens,
        "applicants": applicant_accounts,
        "addresses": addresses,
        "registrations": len(rows),
        "snapshot": {
            "serial": snapshot.serial,
            "ipv4": snapshot.ipv4_count,
            "txt_bytes": snapshot.files["txt"]["size"],
        },
    }


def warm_up(port: int, accounts: dict, workers: int) -> None:
    """A running server has its code loaded and its caches filled: touch every route on every worker."""
    import http.client

    token = accounts["operators"][0]
    paths = [
        "/api/v1/allowlist/index.json", "/api/v1/allowlist/latest.txt", "/api/v1/allowlist/latest.nft",
        f"/api/v1/exemptions/check?address={accounts['addresses'][0]}", "/events.json", "/statistics.json",
    ]  # fmt: skip
    for _ in range(workers * 4):
        for path in paths:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            conn.getresponse().read()
            conn.close()


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) one process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a server's parent process and its children, from /proc.

    The parent's own time, the time of the children it has reaped (so that a worker or a database
    backend that exits between two readings is still counted), and its live children's time.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root:
            total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
        elif ppid == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postmaster_pid(database_url: str) -> int | None:
    """The PostgreSQL server's parent process when it runs on this machine and /proc shows it, else None."""
    import psycopg

    try:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        parent = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        name = Path(f"/proc/{parent}/comm").read_text().strip()
    except (OSError, psycopg.Error, ValueError):
        return None
    return parent if name.startswith("postgres") else None


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else float("nan")


def report(stats_csv: Path, run_seconds: float) -> dict:
    rows = list(csv.DictReader(stats_csv.open()))
    table = []
    for row in rows:
        table.append(
            {
                "name": row["Name"] if row["Name"] != "Aggregated" else "all requests",
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rate": float(row["Requests/s"]),
                "p50_ms": _ms(row["50%"]),
                "p99_ms": _ms(row["99%"]),
                "max_ms": _ms(row["Max Response Time"]),
            }
        )
    total = next(r for r in table if r["name"] == "all requests")
    downloads = [r for r in table if r["name"].startswith("allowlist")]
    p99_downloads = max(r["p99_ms"] for r in downloads)
    figures = {
        "run_seconds": run_seconds,
        "rate": total["rate"],
        "requests": total["requests"],
        "failures": total["failures"],
        "error_rate": total["failures"] / total["requests"] if total["requests"] else 1.0,
        "p99_allowlist_ms": p99_downloads,
        "by_type": table,
    }
    width = max(len(r["name"]) for r in table)
    print(
        f"\n{'request':<{width}}  {'count':>7}  {'req/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  "
        f"{'max ms':>7}  errors"
    )
    for r in sorted(table, key=lambda r: (r["name"] == "all requests", r["name"])):
        print(
            f"{r['name']:<{width}}  {r['requests']:>7}  {r['rate']:>7.1f}  {r['p50_ms']:>7.0f}  "
            f"{r['p99_ms']:>7.0f}  {r['max_ms']:>7.0f}  {r['failures']}"
        )
    no_errors = total["failures"] == 0
    rate_held = total["rate"] >= 0.95 * TARGET_RATE
    fast = p99_downloads < TARGET_P99_MS
    print(
        f"\nthroughput {total['rate']:.1f} req/s "
        f"(offered ~{TARGET_RATE:.0f}: {'held' if rate_held else 'NOT held'}); "
        f"errors {total['failures']} of {total['requests']} ({figures['error_rate']:.3%}): "
        f"{'met' if no_errors else 'MISSED'}; allowlist downloads p99 {p99_downloads:.0f} ms "
        f"(target < {TARGET_P99_MS:.0f} ms): {'met' if fast else 'MISSED'}"
    )
    figures["targets_met"] = no_errors and rate_held and fast
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-time", type=int, default=60, help="seconds of load measured (default 60)")
    parser.add_argument(
        "--spawn-rate", type=int, default=10, help="users started a second, before measuring (default 10)"
    )
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database to use instead of SQLite")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1)")
    parser.add_argument("--registrations", type=int, default=30_000)
    parser.add_argument("--operators", type=int, default=100)
    parser.add_argument("--applicants", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vpnregistry-load-") as tmp:
        home = Path(tmp)
        start = time.perf_counter()
        accounts = prepare(
            home,
            args.database_url,
            registrations=args.registrations,
            operators=args.operators,
            applicants=args.applicants,
        )
        print(
            f"prepared in {time.perf_counter() - start:.1f} s: {accounts['registrations']:,} registrations, "
            f"snapshot {accounts['snapshot']['serial']} ({accounts['snapshot']['ipv4']:,} IPv4 entries, "
            f"latest.txt {accounts['snapshot']['txt_bytes']:,} bytes), "
            f"{len(accounts['operators'])} operators "
            f"and {len(accounts['applicants'])} applicants with tokens; "
            f"database: {'PostgreSQL' if args.database_url else 'SQLite'}"
        )
        accounts_file = home / "accounts.json"
        accounts_file.write_text(json.dumps(accounts))
        # PostgreSQL's own CPU belongs to the cost of a request, when the server runs here.
        postmaster = postmaster_pid(args.database_url) if args.database_url else None
        port = _free_port()
        server = serve(home, args.database_url, port, args.workers, args.threads)
        locust = None
        try:
            warm_up(port, accounts, args.workers)
            users = len(accounts["operators"]) + len(accounts["applicants"]) + 15
            ramp = -(-users // args.spawn_rate)  # seconds until every user has started
            env = {**os.environ, "LOADTEST_ACCOUNTS": str(accounts_file)}
            command = [
                BIN / "locust", "-f", HERE / "locustfile.py", "--headless", "--host", f"http://127.0.0.1:{port}",
                "-u", str(users), "-r", str(args.spawn_rate), "--reset-stats",
                "--run-time", f"{args.run_time + ramp}s", "--stop-timeout", "10",
                "--csv", home / "load", "--only-summary", "--loglevel", "WARNING",
            ]  # fmt: skip
            print(
                f"gunicorn: {args.workers} workers x {args.threads} threads; "
                f"locust: {users} users started over {ramp} s, then {args.run_time} s measured"
            )
            locust = subprocess.Popen(command, env=env, cwd=home)
            time.sleep(ramp)  # CPU counts over the measured stretch only, as the figures do
            load_before = os.getloadavg()[0]
            cpu_before = tree_cpu_seconds(server.pid)
            db_before = tree_cpu_seconds(postmaster) if postmaster else 0.0
            locust_before = process_cpu_seconds(locust.pid)
            time.sleep(args.run_time - 1)
            server_cpu = tree_cpu_seconds(server.pid) - cpu_before
            db_cpu = tree_cpu_seconds(postmaster) - db_before if postmaster else 0.0
            locust_cpu = process_cpu_seconds(locust.pid) - locust_before
            load_after = os.getloadavg()[0]
            locust.wait(timeout=args.run_time + 120)
            load_after = os.getloadavg()[0]
        finally:
            if locust is not None and locust.poll() is None:
                locust.kill()
            stop(server)
        figures = report(home / "load_stats.csv", args.run_time)
    # The machine may be shared: what the server itself spent per request bounds what it can carry.
    # With PostgreSQL on this machine, its processes' CPU is part of that cost and is counted too.
    cpu_seconds = args.run_time - 1  # the stretch over which CPU was read, inside the measured one
    per_request_ms = 1000 * (server_cpu + db_cpu) / max(figures["rate"] * cpu_seconds, 1)
    cores = os.cpu_count() or 1
    spent = f"gunicorn {server_cpu:.1f} s" + (f" + PostgreSQL {db_cpu:.1f} s" if postmaster else "")
    if args.database_url and not postmaster:
        spent += " (PostgreSQL runs elsewhere: not counted)"
    print(
        f"server CPU {spent} in {cpu_seconds} s at {figures['rate']:.0f} requests/s = "
        f"{per_request_ms:.1f} ms a request: "
        f"{cores} cores carry at most ~{1000 * cores / per_request_ms:.0f} requests/s "
        f"(~{1000 * (cores - locust_cpu / cpu_seconds) / per_request_ms:.0f}/s beside locust's "
        f"{locust_cpu / cpu_seconds:.2f} cores); "
        f"load average {load_before:.1f} before, {load_after:.1f} after"
    )
    figures.update(
        server_cpu_seconds=round(server_cpu, 2),
        database_cpu_seconds=round(db_cpu, 2) if postmaster else None,
        server_cpu_ms_per_request=round(per_request_ms, 2),
        locust_cores=round(locust_cpu / cpu_seconds, 2),
        load_average=[load_before, load_after],
    )
    figures.update(
        database="postgresql" if args.database_url else "sqlite",
        workers=args.workers,
        threads=args.threads,
        registrations=accounts["registrations"],
        operators=len(accounts["operators"]),
    )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "loadtest.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {out / 'loadtest.json'}")
    return 0 if figures["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
