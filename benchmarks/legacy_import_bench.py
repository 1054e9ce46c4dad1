"""`vpnregistry import-legacy` at national scale: a legacy register imported into a large registry.

    python -m benchmarks.legacy_import_bench --registrations 1000000 --rows 31000 \\
        --database-url postgres://postgres@127.0.0.1:5432/vr_legacy_scale

The database named must exist (empty, or filled by an earlier run, which is reused: filling a
million registrations takes minutes). An empty one is migrated and given the demo data (operators
and the country's address space), then filled by bulk insert with active registrations (Resource,
Application, Registration and ActivePeriod rows, as `make loadtest` prepares them) of 100
organisations, two or more single addresses in every /24 of the space but a tenth left free,
and its planner statistics are refreshed, as a live registry's are. Without `--database-url`, a
SQLite file in a temporary folder.

The legacy file then holds `--rows` rows of thousands of organisations, in no particular order:
freelancers' single addresses between the registered ones (two in five good rows, an organisation
each, one in ten expired: history), companies' addresses (six to a company: five IPv4 addresses
and an IPv6 /56), and bad rows: `--overlapping` rows overlapping another organisation's
active registration (the same address, or a /24 holding registered ones), pairs of rows of two
organisations overlapping each other, and rows with bad fields. Addresses already registered (by
an earlier run) are never offered as good rows, so every run imports rows of its own.

The import runs as the operator would run it, `vpnregistry import-legacy FILE --skip-invalid`,
timed from start to exit (publication included); its summary must count exactly the good rows as
imported and the rest as bad, and no bad line may be written. The time is compared with the
target: 30 s for 31,000 rows, 5 min for 1,000,000 (between them, in proportion). `--src` runs the
command from another checkout's `src` (an older commit) on the same data.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

BIN = Path(sys.executable).parent
TARGETS = ((31_000, 30.0), (1_000_000, 300.0))  # (rows, seconds)
HOLDERS = 100  # organisations holding the registry's registrations
RESERVE = 0.1  # the share of the space's /24s left without registrations


def target_seconds(rows: int) -> float:
    (small, low), (large, high) = TARGETS
    if rows <= small:
        return low
    if rows >= large:
        return high * rows / large
    return low + (high - low) * (rows - small) / (large - small)


def _env(home: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    key_file = home / "field-key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
    env.update(
        VPNREGISTRY_VAR=str(home),
        VPNREGISTRY_DEBUG="1",
        VPNREGISTRY_FIELD_KEYS=key_file.read_text().strip(),
        VPNREGISTRY_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        VPNREGISTRY_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
    )
    return env


def _setup(home: Path, database_url: str | None) -> None:
    env = _env(home, database_url)
    subprocess.run(
        [BIN / "vpnregistry", "migrate", "--noinput", "-v", "0"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.environ.update(env)
    import django

    django.setup()


def _slash24s() -> list[tuple[ipaddress.IPv4Network, int]]:
    """Every /24 of the country's IPv4 space, with the operator whose space holds it."""
    from vpnregistry.accounts.models import AddressSpace

    found = []
    for row in AddressSpace.objects.filter(family=4).order_by("first"):
        found += [(net, row.operator_id) for net in ipaddress.ip_network(row.prefix).subnets(new_prefix=24)]
    return found


def per_slash24(registrations: int, filled: int) -> int:
    return max(2, math.ceil(registrations / filled))


def fill(registrations: int) -> int:
    """Bulk-insert active registrations up to `registrations`; the number there is returned."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from vpnregistry.accounts.models import Category, Organisation, Role, User
    from vpnregistry.allowlist.services import publish_snapshot
    from vpnregistry.applications.models import Application, Resource
    from vpnregistry.db import network_keys, refresh_planner_statistics
    from vpnregistry.registrations.models import ActivePeriod, Registration, new_reference

    if not User.objects.filter(username="demo-officer").exists():
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    there = Registration.objects.filter(organisation__name__startswith="Bench holder ").count()
    if there >= registrations:
        return there
    space = _slash24s()
    filled = space[: int(len(space) * (1 - RESERVE))]
    per_net = per_slash24(registrations, len(filled))
    if per_net > 120:
        raise SystemExit(f"the demo space holds at most {120 * len(filled):,} registrations this way")
    category = Category.objects.get(code="freelancer")
    holders, applications = [], []
    for i in range(HOLDERS):
        holder, _ = Organisation.objects.get_or_create(name=f"Bench holder {i:03d}", category=category)
        member, _ = User.objects.get_or_create(
            username=f"bench-holder-{i:03d}", defaults={"role": Role.APPLICANT, "organisation": holder}
        )
        application = Application.objects.filter(organisation=holder).first() or Application.objects.create(
            organisation=holder, category=category, created_by=member, state="approved"
        )
        holders.append(holder.pk)
        applications.append(application.pk)
    now = timezone.now() - timedelta(hours=1)
    until = now + timedelta(days=365)
    # Even offsets 0, 2, 4, ...: the odd addresses between them stay free for the file's freelancers.
    wanted = [(net, op, offset) for offset in range(0, 2 * per_net, 2) for net, op in filled][:registrations]
    started = time.perf_counter()
    step = 20_000
    for start in range(there, len(wanted), step):
        chunk = []
        for n, (net, op, offset) in enumerate(wanted[start : start + step], start):
            address = ipaddress.ip_network(f"{net.network_address + offset}/32")
            chunk.append((n % HOLDERS, str(address), network_keys(address), op))
        resources = Resource.objects.bulk_create(
            [
                Resource(
                    application_id=applications[h], kind="ipv4", value=v, family=4, first=k[1], last=k[2],
                    operator_id=op, subscriber_id="BENCH", state="confirmed",
                )
                for h, v, k, op in chunk
            ],
            batch_size=5000,
        )  # fmt: skip
        made = Registration.objects.bulk_create(
            [
                Registration(
                    reference=new_reference(), resource=r, organisation_id=holders[h],
                    operator_id=r.operator_id, kind="ipv4", value=r.value, family=4, first=r.first,
                    last=r.last, valid_from=now, valid_until=until,
                )
                for r, (h, *_rest) in zip(resources, chunk, strict=True)
            ],
            batch_size=5000,
        )  # fmt: skip
        ActivePeriod.objects.bulk_create(
            [ActivePeriod(registration=r, start=now, end=until) for r in made], batch_size=5000
        )
        done = start + len(chunk)
        print(
            f"\r  filled {done:,} of {len(wanted):,} ({time.perf_counter() - started:.0f} s)",
            end="",
            flush=True,
        )
    print()
    # What a live registry has: the planner's statistics, and a published snapshot of what is active.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    refresh_planner_statistics()
    publish_snapshot()
    return Registration.objects.filter(organisation__name__startswith="Bench holder ").count()


def _slash56s(count: int, used: set[str], rng: random.Random) -> list[tuple[str, int]]:
    """`count` distinct IPv6 /56s of the country's space that no registration holds, with operators."""
    from vpnregistry.accounts.models import AddressSpace

    rows = [
        (ipaddress.ip_network(p), op)
        for p, op in AddressSpace.objects.filter(family=6).values_list("prefix", "operator_id")
    ]
    taken = set()  # the /56s sharing an address with a registration
    for value in used:
        if ":" in value and "/" in value:
            held = ipaddress.ip_network(value)
            if held.prefixlen >= 56:
                taken.add(held.supernet(new_prefix=56))
            else:
                taken.update(held.subnets(new_prefix=56))
    found: dict[str, int] = {}
    while len(found) < count:
        net, op = rows[rng.randrange(len(rows))]
        start = int(net.network_address) + (rng.randrange(1 << (56 - net.prefixlen)) << 72)
        candidate = ipaddress.ip_network(f"{ipaddress.IPv6Address(start)}/56")
        if candidate not in taken:
            found[str(candidate)] = op
    return list(found.items())


def legacy_file(path: Path, rows: int, overlapping: int, registrations: int, rng: random.Random) -> dict:
    """Write the legacy register; return how many rows of each kind it holds."""
    from vpnregistry.accounts.models import Operator
    from vpnregistry.registrations.models import Registration

    codes = dict(Operator.objects.values_list("pk", "code"))
    used = set(Registration.objects.values_list("value", flat=True).iterator(chunk_size=50_000))
    # /24s holding a registration wider than one address (the demo's own): no good row goes there.
    blocked = set()
    for value in used:
        net = ipaddress.ip_network(value) if "/" in value else None
        if net is not None and net.version == 4 and net.prefixlen < 32:
            blocked.update(
                str(n)
                for n in (
                    net.subnets(new_prefix=24) if net.prefixlen <= 24 else [net.supernet(new_prefix=24)]
                )
            )
    space = _slash24s()
    cut = int(len(space) * (1 - RESERVE))
    filled = space[:cut]
    per_net = per_slash24(registrations, len(filled))
    # The registered addresses, as `fill` made them: even offsets, level by level across the /24s.
    registered = [(net, op, offset) for offset in range(0, 2 * per_net, 2) for net, op in filled][
        :registrations
    ]
    tag = rng.randrange(10**6)  # names of this run's own: a reused registry holds earlier runs' rows
    pairs = max(1, rows // 300)  # rows of two organisations overlapping each other, counted once each
    bad_fields = max(1, rows // 1000)
    good = rows - overlapping - 2 * pairs - bad_fields
    if good < 0:
        raise SystemExit("--rows too small for the bad rows asked for")
    # Two in five good rows are freelancers' (an organisation each); the rest are companies', six
    # addresses to a company: five IPv4 addresses and an IPv6 /56.
    freelancers = good * 2 // 5
    company_rows = good - freelancers
    companies = math.ceil(company_rows / 6)
    spare = _slash56s(companies + pairs, used, rng)
    windows = [("2023-01-01", "2027-01-01"), ("2024-06-15T09:00", "2028-06-15T09:00")]
    expired = ("2019-01-01", "2021-01-01")
    lines: list[tuple[str, bool]] = []  # (csv line, good)

    def line(org, category, value, op, window=None, sub=None):
        start, end = window or rng.choice(windows)
        return f"{org},{category},{value},{codes[op]},{sub or 'SUB-' + str(len(lines))},,{start},{end}"

    # Freelancers' single addresses at odd offsets, between the registered ones; one in ten expired.
    free = (
        (f"{net.network_address + offset}/32", op)
        for offset in range(1, 256, 2)
        for net, op in rng.sample(filled, len(filled))
        if str(net) not in blocked
    )

    def address():
        value, op = next(free)
        while value in used:
            value, op = next(free)
        return value, op

    for i in range(freelancers):
        value, op = address()
        lines.append(
            (
                line(
                    f"Legacy freelancer {tag}-{i:06d}",
                    "freelancer",
                    value,
                    op,
                    expired if i % 10 == 0 else None,
                ),
                True,
            )
        )
    for i in range(company_rows):
        value, op = spare[i // 6] if i % 6 == 5 else address()
        lines.append((line(f"Legacy company {tag}-{i // 6:05d} (Pvt) Ltd", "company", value, op), True))
    # Pairs overlapping each other: a company's /56, and a freelancer's /64 in it.
    for i in range(pairs):
        value, op = spare[companies + i]
        lines.append((line(f"Legacy pair company {tag}-{i:05d}", "company", value, op), True))
        inner = f"{ipaddress.ip_network(value).network_address + (7 << 64)}/64"
        lines.append((line(f"Legacy pair freelancer {tag}-{i:05d}", "freelancer", inner, op), False))
    # Overlapping another organisation's active registration: the same address, or a /24 holding some.
    for i in range(overlapping):
        net, op, offset = registered[rng.randrange(len(registered))]
        if i % 2:
            lines.append((line(f"Legacy squatter {tag}-{i:06d}", "company", str(net), op), False))
        else:
            value = f"{net.network_address + offset}/32"
            lines.append((line(f"Legacy squatter {tag}-{i:06d}", "freelancer", value, op), False))
    # Bad fields.
    for i in range(bad_fields):
        net, op, _offset = registered[rng.randrange(len(registered))]
        value = f"{net.network_address + 1}/32"
        bad = [
            line("", "freelancer", value, op),
            line(f"Legacy bad {tag}-{i}", "freelancer", "10.1.2.3/32", op),
            line(f"Legacy bad {tag}-{i}", "freelancer", value, op, ("someday", "2027-01-01")),
            line(f"Legacy bad {tag}-{i}", "nope", value, op),
        ][i % 4]
        lines.append((bad, False))
    order = list(range(len(lines)))
    rng.shuffle(order)
    header = "organisation,category,value,operator,subscriber_id,district,valid_from,valid_until\n"
    path.write_text(header + "".join(lines[i][0] + "\n" for i in order))
    bad_lines = sorted(2 + position for position, i in enumerate(order) if not lines[i][1])
    return {"rows": len(lines), "good": sum(1 for _l, ok in lines if ok), "bad_lines": bad_lines}


def time_import(path: Path, env: dict, src: str | None, batch: int | None = None) -> dict:
    if src:
        env = dict(env, PYTHONPATH=os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [BIN / "vpnregistry", "import-legacy", str(path), "--skip-invalid"]
        + (["--batch", str(batch)] if batch else []),
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"import-legacy exited with {done.returncode}")
    phases = {
        name: float(found.group(1))
        for name, pattern in (
            ("check", r"^checked [\d,]+ rows in ([\d.]+) s"),
            ("write", r"^wrote [\d,]+ rows in ([\d.]+) s"),
            ("publish", r"^published serial \d+ in ([\d.]+) s"),
        )
        if (found := re.search(pattern, done.stderr, re.M))
    }
    reported = sorted(
        int(m.group(1)) for m in re.finditer(rf"^{re.escape(str(path))}:(\d+):", done.stderr, re.M)
    )
    return {
        "seconds": seconds,
        "phases": phases,
        "summary": done.stdout.strip(),
        "reported_lines": reported,
        "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=31_000)
    parser.add_argument("--overlapping", type=int, help="rows overlapping registrations (default: a fifth)")
    parser.add_argument("--database-url", help="an existing PostgreSQL database (default: SQLite, temporary)")
    parser.add_argument("--src", help="run import-legacy from this checkout's src folder instead")
    parser.add_argument("--batch", type=int, help="rows per transaction (the command's default if not given)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep-file", help="copy the legacy file here, to run it again by hand")
    args = parser.parse_args(argv)
    overlapping = args.overlapping if args.overlapping is not None else args.rows // 5
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="vpnregistry-legacy-bench-") as tmp:
        home = Path(tmp)
        _setup(home, args.database_url)
        from django.db import connection

        vendor = connection.vendor
        print(f"registry on {vendor}: filling to {args.registrations:,} registrations")
        started = time.perf_counter()
        there = fill(args.registrations)
        print(f"  {there:,} registrations there ({time.perf_counter() - started:.0f} s)")
        path = home / "legacy.csv"
        made = legacy_file(path, args.rows, overlapping, there, rng)
        bad = len(made["bad_lines"])
        print(
            f"legacy file: {made['rows']:,} rows, {made['good']:,} good, {bad:,} bad "
            f"({overlapping:,} overlapping registrations)"
        )
        connection.close()
        if args.keep_file:
            shutil.copyfile(path, args.keep_file)
        result = time_import(path, _env(home, args.database_url), args.src, args.batch)
    target = target_seconds(made["rows"])
    expected = f"{made['good']} imported, 0 already there, {bad} skipped as bad"
    right = result["summary"].startswith(expected) and result["reported_lines"] == made["bad_lines"]
    met = right and result["seconds"] <= target
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["phases"].items())
    check = f" ({phases})" if phases else ""
    print(
        f"import-legacy --skip-invalid: {result['seconds']:.1f} s{check}, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    print(f"  {result['summary']}")
    if not right:
        print(f"  WRONG: expected {expected!r} and the bad lines reported, exactly")
        reported, meant = set(result["reported_lines"]), set(made["bad_lines"])
        print(f"  reported but good: {sorted(reported - meant)[:20]}")
        print(f"  bad but not reported: {sorted(meant - reported)[:20]}")
    print(f"target: {made['rows']:,} rows in at most {target:.0f} s: {'met' if met else 'missed'}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": vendor,
                    "registrations": there,
                    "rows": made["rows"],
                    "bad": bad,
                    "target_seconds": target,
                    "met": met,
                    **{k: v for k, v in result.items() if k != "reported_lines"},
                },
                indent=2,
            )
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
