"""`make scale`: a national-scale registry on PostgreSQL, and every path measured against its target.

Builds, in the EMPTY PostgreSQL database that `SCALE_DATABASE_URL` (or `--database-url`) names, a
registry of `--registrations` active registrations (1,000,000 by default) with 100,000
organisations, thousands of applications waiting in every waiting state and as many hash-chained
audit records (see build.py); then serves it with gunicorn under production settings on 127.0.0.1
and measures each path of the table in docs/operations.md, printing the measured value, the target
and whether it was met. Exits 1 when any target is missed.

`--reuse` measures again a database an earlier run built (migrating it first), without building it
anew: each run approves fresh applications and imports fresh legacy rows, so it changes the registry
a little each time. The files the registry writes (published snapshots, documents, keys) live in
var/scale/<database>/ beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from benchmarks.scale import measure
from benchmarks.serving import BIN, env, free_port, production_env, serve, stop

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ["publish", "sweep", "verify-log", "statistics", "exemptions", "pages", "approvals", "legacy"]


def refuse_unless_empty(url: str, reuse: bool) -> bool:
    """True when the database holds a scale registry to reuse; exits when it holds anything else."""
    import psycopg

    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"make scale needs a PostgreSQL database (postgres://...), not {parts.scheme!r}")
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()[0]
            ours = conn.execute("SELECT to_regclass('vr_scale_state') IS NOT NULL").fetchone()[0]
    except psycopg.Error as exc:
        raise SystemExit(f"cannot use {parts.path.lstrip('/')!r}: {exc}".strip()) from None
    if tables == 0:
        return False
    if reuse and ours:
        return True
    if ours:
        raise SystemExit(
            "the database holds a scale registry from an earlier run: pass --reuse to measure it again"
        )
    raise SystemExit(
        f"the database {parts.path.lstrip('/')!r} is not empty ({tables} tables): make scale writes a "
        "million rows and wants an empty database of its own (createdb vr_scale)"
    )


def run_manage(home: Path, url: str, *args: str) -> None:
    subprocess.run([BIN / "vpnregistry", *args], env=env(home, url), check=True, cwd=home)


def setup_django(home: Path, url: str) -> None:
    os.environ.update(env(home, url))
    import django

    django.setup()


def ready_applications(n: int, world: dict, space_position: dict) -> tuple[list[tuple[int, str]], dict]:
    """`n` applications in `awaiting_decision`, made through the services as people would make them."""
    import ipaddress

    from benchmarks.scale.build import Space
    from vpnregistry.accounts.models import Category, District, Organisation, Role, User
    from vpnregistry.applications import services
    from vpnregistry.demo import _file_documents

    space = Space(
        [(ipaddress.ip_network(a), op) for a, op in world["v4"]],
        [(ipaddress.ip_network(a), op) for a, op in world["v6"]],
        world["mobile"],
        space_position,
    )
    company = Category.objects.select_related("agency").get(code="company")
    agency = User.objects.get(id=world["agencies"][company.agency.code])
    district = District.objects.order_by("code").first()
    staff = {int(k): User.objects.get(id=v) for k, v in world["operator_staff"].items()}
    stamp = int(time.time())
    ready = []
    for i in range(n):
        org = Organisation.objects.create(name=f"Scale ready firm {stamp}-{i}", category=company)
        member = User.objects.create(
            username=f"scale-ready-{stamp}-{i}", role=Role.APPLICANT, organisation=org, is_org_admin=True
        )
        _file_documents(member)
        start, length, _op = space.host()
        value = f"{ipaddress.IPv4Address(start)}/{length}"
        application = services.application_create(
            actor=member,
            resources=[{"value": value, "subscriber_id": f"READY-{i}", "district": district.code}],
        )
        services.application_submit(actor=member, application=application)
        services.application_verify(
            actor=agency, application=application, decision="approve", reason="Verified."
        )
        for resource in application.resources.all():
            services.resource_attest(actor=staff[resource.operator_id], resource=resource, decision="approve")
        application.refresh_from_db()
        if application.state != "awaiting_decision":
            raise SystemExit(f"a ready application ended in {application.state!r}, not awaiting_decision")
        ready.append((application.id, value))
    return ready, space.position()


def legacy_file(path: Path, rows: int, world: dict, space_position: dict, overlapping: float = 0.2) -> dict:
    """A legacy register of `rows` rows: most on fresh addresses, `overlapping` of them on addresses
    another organisation already holds (the bad rows a real register of the old regime carries)."""
    import csv
    import ipaddress
    import random

    from benchmarks.scale.build import Space
    from vpnregistry.accounts.models import District, Operator
    from vpnregistry.registrations.models import Registration

    rng = random.Random(rows)
    space = Space(
        [(ipaddress.ip_network(a), op) for a, op in world["v4"]],
        [(ipaddress.ip_network(a), op) for a, op in world["v6"]],
        world["mobile"],
        space_position,
    )
    codes = dict(Operator.objects.values_list("id", "code"))
    districts = list(District.objects.values_list("code", flat=True))
    bad = int(rows * overlapping)
    # Registered addresses to collide with: a sample by id range, an index walk, not a scan.
    top = Registration.objects.order_by("-id").values_list("id", flat=True).first() or 0
    taken = list(
        Registration.objects.filter(family=4, state="active", id__gte=rng.randrange(1, max(2, top - bad * 4)))
        .order_by("id")
        .values_list("value", "operator_id")[: bad * 2]
    )
    stamp = int(time.time())
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "organisation",
                "category",
                "value",
                "operator",
                "subscriber_id",
                "valid_from",
                "valid_until",
                "district",
            ]
        )
        for i in range(rows):
            if i % max(1, rows // max(bad, 1)) == 0 and taken:
                value, op = taken.pop()
            else:
                start, length, op = space.host()
                value = f"{ipaddress.IPv4Address(start)}/{length}"
            writer.writerow(
                [
                    f"Legacy firm {stamp}-{i // 4}",
                    "company",
                    value,
                    codes[op],
                    f"LEG-{i}",
                    "2024-01-01T00:00:00+05:00",
                    "2027-12-31T00:00:00+05:00",
                    rng.choice(districts),
                ]
            )
    return space.position()


def visits(accounts: dict, sessions: dict, ids: dict) -> list[tuple[str, str, dict]]:
    """(role, path, credentials) of every page and API list each role reaches at work."""
    out = []

    def add(role, paths, *, session=None, token=None):
        for p in paths:
            out.append((role, p, {"session": session} if session else {"token": token}))

    add(
        "officer",
        [
            "/",
            "/queue/",
            "/applications/",
            "/registrations/",
            "/registrations/?state=active",
            f"/applications/{ids['waiting']}/",
            f"/registrations/{ids['registration']}/",
            "/allowlist/",
            "/events/",
            "/turnaround/",
            "/complaints/",
            "/audit/",
            "/notifications/",
        ],
        session=sessions["scale-officer"],
    )
    add(
        "officer-api",
        [
            "/api/v1/applications/",
            "/api/v1/registrations/",
            "/api/v1/queue/",
            f"/api/v1/applications/{ids['waiting']}/",
        ],
        token=accounts["scale-officer"]["token"],
    )
    add(
        "agency",
        ["/", "/queue/", "/applications/", f"/applications/{ids['waiting']}/"],
        session=sessions["scale-agency-pseb"],
    )
    add(
        "agency-api",
        ["/api/v1/applications/", "/api/v1/queue/"],
        token=accounts["scale-agency-pseb"]["token"],
    )
    add(
        "operator",
        ["/", "/queue/", "/attestations/", "/registrations/", "/space/"],
        session=sessions["scale-isp-00"],
    )
    add(
        "operator-api",
        ["/api/v1/resources/", "/api/v1/registrations/", "/api/v1/queue/"],
        token=accounts["scale-isp-00"]["token"],
    )
    add(
        "auditor",
        ["/", "/audit/", "/applications/", "/registrations/", "/transparency/checkpoints/"],
        session=sessions["scale-auditor"],
    )
    add(
        "auditor-api",
        ["/api/v1/registrations/", "/api/v1/applications/"],
        token=accounts["scale-auditor"]["token"],
    )
    add(
        "applicant",
        ["/", "/applications/", "/registrations/", "/organisation/", "/documents/"],
        session=sessions["applicant"],
    )
    add(
        "applicant-api",
        ["/api/v1/registrations/", "/api/v1/applications/"],
        token=sessions["applicant-token"],
    )
    add("public", ["/events/", "/verify/", "/status/"])
    return out


def prepare(home: Path, url: str, args, reused: bool) -> dict:
    """Build (or reuse) the registry; make this run's sessions, ready applications and legacy file."""
    from django.db import connection

    from benchmarks.scale import build
    from vpnregistry.accounts.authentication import issue_token

    if not reused:
        start = time.perf_counter()
        build.build(
            registrations=args.registrations,
            organisations=args.organisations or min(100_000, max(100, args.registrations // 10)),
            audit_records=args.audit if args.audit is not None else args.registrations,
        )
        from vpnregistry.allowlist.services import publish_snapshot

        t = time.perf_counter()
        snapshot = publish_snapshot()
        build.log(f"first snapshot: serial {snapshot.serial} in {time.perf_counter() - t:.0f} s")
        build.state_set("built_seconds", time.perf_counter() - start)
    world = build.state_get("world")
    size = build.state_get("size")
    position = build.state_get("space")
    from vpnregistry.accounts.models import User
    from vpnregistry.registrations.models import Registration

    t = time.perf_counter()
    ready, position = ready_applications(args.approvals if "approvals" in args.only else 0, world, position)
    legacy_csv = home / "legacy.csv"
    if "legacy" in args.only:
        position = legacy_file(legacy_csv, args.legacy_rows, world, position)
    build.state_set("space", position)
    build.log(
        f"{len(ready)} applications made ready and the legacy file written in {time.perf_counter() - t:.0f} s"
    )
    sessions = {name: build.portal_session(a["id"]) for name, a in world["accounts"].items()}
    # The applicant of the organisation holding the most registrations: the largest lists.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT organisation_id FROM registrations_registration GROUP BY organisation_id "
            "ORDER BY count(*) DESC LIMIT 1"
        )
        big_org = cursor.fetchone()[0]
    member = User.objects.filter(organisation_id=big_org).order_by("id").first()
    sessions["applicant"] = build.portal_session(member.id)
    sessions["applicant-token"] = issue_token(member)
    registered = list(
        Registration.objects.filter(family=4, id__gte=size["registrations"] // 2)
        .order_by("id")
        .values_list("value", flat=True)[:200]
    )
    addresses = [v.split("/")[0] for v in registered]
    # As many addresses that are not registered: odd offsets, never handed out.
    addresses += [
        v.split("/")[0].rsplit(".", 1)[0] + "." + str(int(v.split("/")[0].rsplit(".", 1)[1]) | 1)
        for v in registered
    ]
    from vpnregistry.applications.models import Application

    waiting = (
        Application.objects.filter(state="awaiting_decision")
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    out = {
        "world": world,
        "size": size,
        "ready": ready,
        "sessions": sessions,
        "addresses": addresses,
        "ids": {
            "waiting": waiting,
            "registration": Registration.objects.order_by("-id").values_list("id", flat=True)[1000],
        },
        "legacy_csv": str(legacy_csv),
        "built_seconds": build.state_get("built_seconds"),
    }
    connection.close()
    return out


def report(figures: list[measure.Figure], header: str) -> bool:
    print(f"\n{header}\n")
    width = max(len(f.path) for f in figures)
    mwidth = max(len(f.measured) for f in figures)
    twidth = max(len(f.target) for f in figures)
    for f in figures:
        verdict = "" if f.met is None else ("met" if f.met else "MISSED")
        print(f"{f.path:<{width}}  {f.measured:<{mwidth}}  {f.target:<{twidth}}  {verdict}")
    for f in figures:
        for error in f.detail.get("errors") or []:
            print(f"  {f.path[:40]}: {error}")
    return all(f.met is not False for f in figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SCALE_DATABASE_URL"),
        help="an EMPTY PostgreSQL database (default: $SCALE_DATABASE_URL)",
    )
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument(
        "--organisations", type=int, default=0, help="default: 100,000, or a tenth of the registrations"
    )
    parser.add_argument(
        "--audit", type=int, default=None, help="audit records (default: as many as registrations)"
    )
    parser.add_argument(
        "--approvals", type=int, default=20, help="approvals timed, one after another (default 20)"
    )
    parser.add_argument("--legacy-rows", type=int, default=31_000)
    parser.add_argument(
        "--approval-spacing", type=float, default=10.0, help="at most so many seconds between approvals (10)"
    )
    parser.add_argument(
        "--sync-interval",
        type=float,
        default=60.0,
        help="the operator's sync interval, as in production (60)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("SCALE_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        help="the broker the servers, a worker and beat use (default: RabbitMQ on 127.0.0.1)",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("SCALE_CACHE_URL", "redis://127.0.0.1:6379/13"),
        help="the one cache the servers share, as several servers would (default: Redis on 127.0.0.1, "
        "database 13; empty: each process its own memory)",
    )
    parser.add_argument(
        "--firewall",
        choices=["nft", "ipset"],
        default="nft",
        help="what the syncing operator loads the list into (nft interval sets, or ipset hash:net)",
    )
    parser.add_argument(
        "--no-broker", action="store_true", help="no broker, worker or beat: tasks in-process"
    )
    parser.add_argument("--reuse", action="store_true", help="measure again a registry an earlier run built")
    parser.add_argument(
        "--only", default=",".join(MEASURES), help=f"measures to take, of {','.join(MEASURES)}"
    )
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit(
            "name an empty PostgreSQL database: SCALE_DATABASE_URL=postgres://.../vr_scale make scale"
        )
    args.only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(args.only) - set(MEASURES)
    if unknown:
        raise SystemExit(
            f"--only: unknown measure(s) {', '.join(sorted(unknown))}; choose from {', '.join(MEASURES)}"
        )

    reused = refuse_unless_empty(args.database_url, args.reuse)
    home = ROOT / "var" / "scale" / urlparse(args.database_url).path.lstrip("/")
    home.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    run_manage(home, args.database_url, "migrate", "--noinput", "-v", "0")
    print(f"[scale] migrated in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    setup_django(home, args.database_url)
    data = prepare(home, args.database_url, args, reused)
    size = data["size"]
    figures: list[measure.Figure] = []

    def take(name, fn, *a):
        if name in args.only:
            print(f"[scale] measuring {name}", file=sys.stderr, flush=True)
            result = fn(*a)
            figures.extend(result if isinstance(result, tuple) else [result])

    url = args.database_url
    # Whatever the build or an earlier run left PostgreSQL doing (autovacuum after a bulk load) ends first.
    print(f"[scale] the database quiet after {measure.settle(url):.0f} s", file=sys.stderr, flush=True)
    take("publish", measure.publish_force, home, url)
    take("sweep", measure.sweep_idle, home, url)
    take("verify-log", measure.verify_log, home, url, size["audit"])
    take("statistics", measure.statistics_refresh, home, url)
    # Production runs a worker and the scheduler beside the servers: with a broker, both start here.
    broker = {} if args.no_broker else {
        "VPNREGISTRY_BROKER_URL": args.broker_url,
        "VPNREGISTRY_BROKER_QUEUE": f"scale-{urlparse(url).path.lstrip('/')}",
    }  # fmt: skip
    # The throttles' counters and the statistics in one cache for every process, as in production.
    if args.cache_url:
        broker["VPNREGISTRY_CACHE_URL"] = args.cache_url
    needs_server = {"statistics", "exemptions", "pages", "approvals"} & set(args.only)
    if needs_server:
        port = free_port()
        server = serve(home, url, port, args.workers, 1, timeout=600, extra_env=broker)
        helpers = []
        if broker:
            for command in (["worker", "--concurrency", "1"], ["beat"]):
                helpers.append(
                    subprocess.Popen(
                        [BIN / "vpnregistry", *command], env=production_env(home, url, **broker), cwd=home,
                        stdout=(home / f"{command[0]}.log").open("wb"), stderr=subprocess.STDOUT,
                        preexec_fn=lambda: os.nice(10),  # as the worker's unit runs it (Nice=10)
                    )
                )  # fmt: skip
        try:
            accounts = data["world"]["accounts"]
            take("statistics", measure.statistics_first, port)
            if {"exemptions", "pages"} & set(args.only):
                waited = measure.settle(url)
                print(f"[scale] the worker's catch-up done after {waited:.0f} s", file=sys.stderr, flush=True)
            operators = [a["token"] for name, a in sorted(accounts.items()) if name.startswith("scale-isp-")]
            take(
                "exemptions",
                lambda: (
                    measure.exemption_checks(port, operators, data["addresses"]),
                    measure.exemption_checks_beside_refresh(
                        home, url, port, operators, data["addresses"], broker
                    ),
                ),
            )
            take("pages", measure.pages, port, visits(accounts, data["sessions"], data["ids"]))
            if "approvals" in args.only:
                print("[scale] measuring approvals", file=sys.stderr, flush=True)
                figures.extend(
                    measure.approvals(
                        home, port, accounts["scale-officer"]["token"], data["ready"],
                        accounts["scale-isp-00"]["token"],
                        spacing=args.approval_spacing, sync_interval=args.sync_interval,
                        firewall_kind=args.firewall,
                    )
                )  # fmt: skip
        finally:
            stop(server)
            for helper in helpers:
                stop(helper)
    # With the deployment's environment: with a broker, the import asks the worker to publish.
    take("legacy", measure.legacy_import, home, url, Path(data["legacy_csv"]), args.legacy_rows, broker)
    take("verify-log", measure.verify_log_nightly, home, url)

    import platform

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    header = (
        f"make scale: {size['registrations']:,} registrations, {size['organisations']:,} organisations, "
        f"{size['audit']:,} audit records on PostgreSQL (built in "
        f"{timedelta(seconds=int(data['built_seconds'] or 0))}); {machine}"
    )
    ok = report(figures, header)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(
        json.dumps(
            {"size": size, "machine": machine, "figures": [f.__dict__ for f in figures]},
            indent=2,
            default=str,
        )
        + "\n"
    )
    print(f"\nfigures written to {out / 'scale.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
