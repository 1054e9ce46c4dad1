"""Publication at scale: the allowlist built from a million registrations and rendered in every format.

A throwaway registry (SQLite under a temporary folder; with `--database-url` a PostgreSQL database
`vr_pubbench` made on that server and dropped afterwards) is filled by bulk insert with N
registrations (1,000,000; `--quick` 100,000) of every shape: IPv4 /32 to /24, IPv6 /128, /64, /56 and
/48, blocks abutting each other (within and across organisations), blocks of one organisation
nested in its own larger block, mobile numbers of three mobile operators, and some registrations
that are revoked or past their validity. Then each way runs in a fresh process, so that its peak
RSS is its own:

- before: the allowlist as it used to be built and rendered, the way a Django developer would write
  it: the active registrations' values aggregated, an `ipaddress` object made for each aggregated
  prefix and printed with `str`, every format joined from those tuples of str (kept here as it was);
- keys: `build_allowlist` and `render` as they are: the stored (family, first, last) keys read
  into NumPy arrays, merged, cut into CIDRs and printed from the integers, held as one text a family;
- publish: the whole of `publish_snapshot(force=True)` (build, every format and every mobile
  operator's file, signatures, the delta against the previous snapshot of the same size, the index).

The two builds' files must be byte for byte the same (their SHA-256 are compared). Figures go to
var/bench/publish.json. Run: `python -m benchmarks.publish_bench [--quick] [--database-url URL]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
DB_NAME = "vr_pubbench"
SESSION = "0b7e6d3c-6f1a-4d2b-9c4e-2a1f5e8d9c01"
MOBILE = {"jazz": "+92300", "zong": "+92315", "telenor": "+92345"}
# Shares of the registrations: IPv4, IPv6, mobile numbers (the rest of 1).
V4_SHARE, V6_SHARE = 0.80, 0.13


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6


def peak_mb() -> float:
    """The process's peak resident memory. Not `ru_maxrss`: after fork and exec that keeps the peak
    of the parent (which holds the generated registrations); VmHWM is this program's own."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3
    raise RuntimeError("no VmHWM in /proc/self/status")


# ---------------------------------------------------------------------------------------------------
# The registrations


def _walk(count: int, bits: int, start: int, host_bits: list[int], orgs: int, rng: random.Random):
    """(first, length, org) of `count` registrations laid out ascending from `start`: aligned blocks,
    a third abutting the one before (often of the same organisation, so that they merge), some with a
    smaller block of the same organisation registered inside them."""
    out = []
    address = start
    org = 0
    while len(out) < count:
        host = rng.choice(host_bits)
        block = 1 << host
        address = (address + block - 1) & ~(block - 1)
        if rng.random() < 0.4:
            org = rng.randrange(orgs)
        out.append((address, bits - host, org))
        if host >= 2 and rng.random() < 0.03 and len(out) < count:
            inner = rng.randrange(host)
            offset = rng.randrange(block >> inner) << inner
            out.append((address + offset, bits - inner, org))  # nested, same organisation
        address += block
        if rng.random() >= 0.35:
            address += rng.randrange(1, 8) * block
    return out[:count]


def registrations(count: int, seed: int = 7, orgs: int = 500) -> list[tuple]:
    """(kind, value, family, first key, last key, org index, operator code, active) per registration."""
    rng = random.Random(seed)
    n4 = round(count * V4_SHARE)
    n6 = round(count * V6_SHARE)
    rows = []
    ntoa, ntop, af6 = socket.inet_ntoa, socket.inet_ntop, socket.AF_INET6
    # IPv4: mostly single addresses and /24s, from 39.32.0.0 up.
    for first, length, org in _walk(
        n4, 32, 39 << 24 | 32 << 16, [0] * 9 + [1, 2, 3, 4, 5, 6, 7] + [8] * 5, orgs, rng
    ):
        last = first | ((1 << (32 - length)) - 1)
        rows.append(
            (
                "ipv4",
                f"{ntoa(first.to_bytes(4, 'big'))}/{length}",
                4,
                f"{first:032x}",
                f"{last:032x}",
                org,
                "fixed",
            )
        )
    # IPv6: /128, /64, /56 and /48 from 2400:adc0::/28 up.
    for first, length, org in _walk(n6, 128, 0x2400ADC0 << 96, [0] * 3 + [64] * 5 + [72, 80, 80], orgs, rng):
        last = first | ((1 << (128 - length)) - 1)
        text = ntop(af6, first.to_bytes(16, "big"))
        rows.append(("ipv6", f"{text}/{length}", 6, f"{first:032x}", f"{last:032x}", org, "fixed"))
    codes = list(MOBILE)
    for i, number in enumerate(rng.sample(range(10**7), count - n4 - n6)):
        code = codes[i % len(codes)]
        rows.append(("msisdn", f"{MOBILE[code]}{number:07d}", None, "", "", rng.randrange(orgs), code))
    rng.shuffle(rows)
    # One in twenty is not active at publication: revoked, or past its validity.
    return [(*row, rng.random() >= 0.05) for row in rows]


def _columns(model, given: dict) -> tuple[list[str], list[object]]:
    """Every concrete column of `model`: those in `given` by name, the others at their defaults."""
    from django.db import connection

    names, constants = [], []
    for field in model._meta.concrete_fields:
        names.append(field.column)
        if field.attname in given:
            constants.append(given[field.attname])
        elif field.primary_key:
            constants.append(None)
        else:
            value = field.pre_save(model(), add=True) if getattr(field, "auto_now_add", False) else None
            if value is None and field.has_default():
                value = field.get_default()
            constants.append(field.get_db_prep_save(value, connection))
    return names, constants


def _insert(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    quote = connection.ops.quote_name
    cols = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks})", rows)


def populate(count: int) -> dict:
    """The registrations straight into their tables, with a resource each (the workflow is not what
    is measured, and no active periods: publication does not read them)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from vpnregistry.accounts.models import Agency, Category, Operator, Organisation, Role, User
    from vpnregistry.applications.models import Application, Resource
    from vpnregistry.registrations.models import Registration

    rows = registrations(count)
    now = timezone.now()
    with transaction.atomic():
        agency = Agency.objects.create(code="bench", name="Bench")
        category = Category.objects.create(code="bench", name="Bench", agency=agency)
        operators = {"fixed": Operator.objects.create(code="bench", name="Bench")}
        for code in MOBILE:
            operators[code] = Operator.objects.create(code=code, name=code.title(), kind="mobile")
        orgs = Organisation.objects.bulk_create(
            [Organisation(name=f"Org {i}", category=category) for i in range(500)]
        )
        user = User.objects.create(username="bench", role=Role.APPLICANT, organisation=orgs[0])
        app = Application.objects.create(
            organisation=orgs[0], category=category, created_by=user, state="approved"
        )
        varying = ["id", "kind", "value", "family", "first", "last", "operator_id"]
        res_cols, res_const = _columns(
            Resource, {"application_id": app.pk, "subscriber_id": "S", "state": "confirmed"}
        )
        start = (Resource.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        at = [res_cols.index(Resource._meta.get_field(n).column) for n in varying]

        def resource_rows():
            row = list(res_const)
            for i, (kind, value, family, first, last, _org, op, _active) in enumerate(rows):
                for j, v in zip(
                    at, (start + i, kind, value, family, first, last, operators[op].pk), strict=True
                ):
                    row[j] = v
                yield tuple(row)

        _insert(Resource._meta.db_table, res_cols, resource_rows())
        prep = connection.ops.adapt_datetimefield_value
        past, since, until = (prep(now - timedelta(days=d)) for d in (1, 30, -365))
        reg_cols, reg_const = _columns(Registration, {"state_reason": "", "reminders_sent": "[]"})
        keep = [j for j, c in enumerate(reg_cols) if c != Registration._meta.pk.column]  # the id: the table's
        reg_cols, reg_const = [reg_cols[j] for j in keep], [reg_const[j] for j in keep]
        varying = ["reference", "resource_id", "organisation_id", "operator_id", "kind", "value", "family"]
        varying += ["first", "last", "state", "valid_from", "valid_until"]
        at = [reg_cols.index(Registration._meta.get_field(n).column) for n in varying]

        def registration_rows():
            row = list(reg_const)
            for i, (kind, value, family, first, last, org, op, active) in enumerate(rows):
                # Not active: half revoked, half past their validity (expired, not yet swept).
                state = "active" if active or i % 2 else "revoked"
                ends = past if state == "active" and not active else until
                values = (f"R-{i:010d}", start + i, orgs[org].pk, operators[op].pk, kind, value, family)
                values += (first, last, state, since, ends)
                for j, v in zip(at, values, strict=True):
                    row[j] = v
                yield tuple(row)

        _insert(Registration._meta.db_table, reg_cols, registration_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "registrations": len(rows),
        "active": sum(r[-1] for r in rows),
        "ipv4": sum(r[0] == "ipv4" for r in rows),
        "ipv6": sum(r[0] == "ipv6" for r in rows),
        "msisdn": sum(r[0] == "msisdn" for r in rows),
    }


# ---------------------------------------------------------------------------------------------------
# The ways, each run in a process of its own


@dataclass(frozen=True)
class Before:
    """The allowlist as it was held before: tuples of str."""

    session: str
    serial: int
    generated_at: str
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    msisdn: dict[str, tuple[str, ...]]


def build_before(*, session: str, serial: int, at) -> Before:
    """`build_allowlist` as it was before it read the keys: the values of the active registrations
    aggregated, an `ipaddress` object made for each aggregated prefix and printed with `str`."""
    from vpnregistry.allowlist.services import iso
    from vpnregistry.netblocks import aggregate
    from vpnregistry.registrations.models import Registration
    from vpnregistry.registrations.selectors import active_at_q

    active = Registration.objects.filter(active_at_q(at))
    prefixes = aggregate(active.filter(family__isnull=False).values_list("value", flat=True).iterator(20000))
    numbers: dict[str, list[str]] = {}
    for value, operator in (
        active.filter(kind="msisdn").values_list("value", "operator__code").iterator(20000)
    ):
        numbers.setdefault(operator, []).append(value)
    return Before(
        session=session,
        serial=serial,
        generated_at=iso(at),
        ipv4=tuple(str(p) for p in prefixes if p.version == 4),
        ipv6=tuple(str(p) for p in prefixes if p.version == 6),
        msisdn={op: tuple(sorted(set(v))) for op, v in sorted(numbers.items())},
    )


def render_before(name: str, a: Before, operator: str | None = None) -> str:
    """Every format as the renderers made it before, from tuples of str: `join` over the tuples, and
    one f-string a line for Cisco. (Their output is the same as now, byte for byte: `run` checks.)"""
    from vpnregistry.allowlist import formats as f

    def lines(prefix: str, items: tuple[str, ...], suffix: str = "") -> str:
        return prefix + f"{suffix}\n{prefix}".join(items) + suffix + "\n" if items else ""

    if name == "json":
        doc = {
            "format": f.DOCUMENT_FORMAT,
            "session": a.session,
            "serial": a.serial,
            "generated_at": a.generated_at,
            "ipv4": list(a.ipv4),
            "ipv6": list(a.ipv6),
            "msisdn": {},
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
    if name == "msisdn.csv":
        return "msisdn,operator\n" + "".join(f"{n},{operator}\n" for n in a.msisdn.get(operator, ()))
    mark = "!" if name == "cisco" else "#"
    parts = [
        f"{mark} vpnregistry allowlist\n{mark} session: {a.session}\n{mark} serial: {a.serial}\n"
        f"{mark} generated: {a.generated_at}\n{mark} entries: {len(a.ipv4)} IPv4, {len(a.ipv6)} IPv6\n"
    ]
    families = ((4, a.ipv4), (6, a.ipv6))
    if name == "txt":
        parts += [lines("", a.ipv4), lines("", a.ipv6)]
    elif name == "nft":
        t = f.NFT_TABLE
        declare = "".join(
            f"\tset {f.NFT_HOSTS[v]} {{\n\t\ttype ipv{v}_addr\n\t}}\n"
            f"\tset {f.NFT_NETS[v]} {{\n\t\ttype ipv{v}_addr\n\t\tflags interval\n\t}}\n"
            for v in (4, 6)
        ) + "".join(
            f"\tset {f.NFT_RETIRED[v]} {{\n\t\ttype ipv{v}_addr\n\t\tflags interval\n\t}}\n" for v in (4, 6)
        )
        parts.append(f"table {t} {{\n{declare}}}\n")
        parts += [f"delete set {t} {f.NFT_RETIRED[v]}\n" for v in (4, 6)]
        parts += [f"flush set {t} {name}\n" for v in (4, 6) for name in (f.NFT_HOSTS[v], f.NFT_NETS[v])]
        for version, items in families:
            host = f.NFT_HOST_SUFFIX[version]
            hosts = tuple(p[: -len(host)] for p in items if p.endswith(host))
            nets = tuple(p for p in items if not p.endswith(host))
            for set_name, chosen in ((f.NFT_HOSTS[version], hosts), (f.NFT_NETS[version], nets)):
                if chosen:
                    parts += [f"add element {t} {set_name} {{\n", lines("\t", chosen, ","), "}\n"]
    elif name == "ipset":
        for version, items in families:
            live = f.IPSET_SETS[version]
            tmp = f"{live}-tmp"
            options = (
                f"hash:net family {'inet' if version == 4 else 'inet6'} "
                f"hashsize {f._ipset_hashsize(len(items))} maxelem {f.ipset_maxelem(len(items))}"
            )
            parts.append(f"create {live} {options} -exist\ncreate {tmp} {options} -exist\nflush {tmp}\n")
            parts += [lines(f"add {tmp} ", items), f"swap {tmp} {live}\ndestroy {tmp}\n"]
    elif name == "bird":
        for version, items in families:
            parts.append(f"define {f.BIRD_SETS[version]} = [\n")
            parts.append(
                "\t" + ",\n\t".join(items) + "\n"
                if items
                else f"\t{f._BIRD_PLACEHOLDER[version]}\t# placeholder: no IPv{version} prefix published\n"
            )
            parts.append("];\n")
    elif name == "cisco":
        for version, items in families:
            keyword, listname = f.CISCO_LISTS[version]
            parts.append(f"no {keyword} prefix-list {listname}\n")
            head = f"{keyword} prefix-list {listname} seq "
            parts.append(
                "".join(
                    [
                        f"{head}{seq} permit {p}\n"
                        for seq, p in zip(range(5, 5 * len(items) + 1, 5), items, strict=True)
                    ]
                )
                if items
                else f"{head}5 deny {f._CISCO_DENY_ALL[version]}\n"
            )
    elif name == "juniper":
        for version, items in families:
            listname = f"policy-options prefix-list {f.JUNIPER_LISTS[version]}"
            parts += [
                f"delete {listname}\n",
                lines(f"set {listname} ", items) if items else f"set {listname}\n",
            ]
    elif name == "mikrotik":
        for menu, items in (("/ip firewall address-list", a.ipv4), ("/ipv6 firewall address-list", a.ipv6)):
            parts += [
                f"{menu}\nremove [find list={f.MIKROTIK_LIST}]\n",
                lines(f"add list={f.MIKROTIK_LIST} address=", items),
            ]
    else:
        raise ValueError(name)
    return "".join(parts)


def _render_all(allowlist, render) -> tuple[float, dict[str, str]]:
    """Every file a publication writes, rendered and encoded as publication does it: the seconds
    that took (hashing not included), and each file's SHA-256."""
    from vpnregistry.allowlist.formats import FORMATS

    seconds, digests = 0.0, {}
    for name in FORMATS:
        for operator in sorted(allowlist.msisdn) if name == "msisdn.csv" else [None]:
            start = time.perf_counter()
            data = render(name, allowlist, operator=operator).encode()
            seconds += time.perf_counter() - start
            digests[f"{name}:{operator}" if operator else name] = hashlib.sha256(data).hexdigest()
            del data
    return seconds, digests


def _time_phases(phases: dict[str, float]) -> None:
    """Add up the seconds publication spends in each of its main steps (those that exist)."""
    from vpnregistry.allowlist import services
    from vpnregistry.allowlist.formats import Allowlist

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    steps = [
        ("build", "build_allowlist"),
        ("render", "render"),
        ("write and sign", "_publish_file"),
        ("delta", "make_delta"),
        ("index", "write_index"),
    ]
    for name, attr in steps:
        if hasattr(services, attr):
            setattr(services, attr, timed(name, getattr(services, attr)))
    Allowlist.from_json = staticmethod(timed("previous read", Allowlist.from_json))


def child(way: str, at: str) -> dict:
    import django

    django.setup()
    from vpnregistry.allowlist import services

    at = datetime.fromisoformat(at)  # the same time for every way, so that their files can be compared
    base = rss_mb()
    if way == "seed":
        services.publish_snapshot(at=at, force=True)
        return {}
    if way == "publish":
        phases: dict[str, float] = {}
        _time_phases(phases)
        when = services.latest_snapshot().created_at + timedelta(minutes=1)
        base = rss_mb()
        start = time.perf_counter()
        snapshot = services.publish_snapshot(at=when, force=True)
        seconds = time.perf_counter() - start
        phases["the rest"] = seconds - sum(phases.values())
        return {
            "seconds": round(seconds, 3),
            "phases": {name: round(value, 3) for name, value in phases.items()},
            "base_mb": round(base),
            "peak_mb": round(peak_mb()),
            "ipv4": snapshot.ipv4_count,
            "ipv6": snapshot.ipv6_count,
            "files": len(snapshot.files),
        }
    from vpnregistry.allowlist.formats import render

    build, how = (build_before, render_before) if way == "before" else (services.build_allowlist, render)
    start = time.perf_counter()
    allowlist = build(session=SESSION, serial=1, at=at)
    built = time.perf_counter() - start
    rendered, digests = _render_all(allowlist, how)
    return {
        "build_seconds": round(built, 3),
        "render_seconds": round(rendered, 3),
        "seconds": round(built + rendered, 3),
        "base_mb": round(base),
        "peak_mb": round(peak_mb()),
        "ipv4": len(allowlist.ipv4),
        "ipv6": len(allowlist.ipv6),
        "digests": digests,
    }


# ---------------------------------------------------------------------------------------------------
# The run


def _env(home: Path, database_url: str | None) -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(
        VPNREGISTRY_VAR=str(home),
        VPNREGISTRY_DEBUG="1",
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def _admin(server_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


def run(count: int, database_url: str | None, repeat: int = 3) -> dict:
    db_url = database_url.rsplit("/", 1)[0] + "/" + DB_NAME if database_url else None
    with tempfile.TemporaryDirectory(prefix="vpnregistry-pubbench-") as tmp:
        home = Path(tmp)
        env = _env(home, db_url)
        if db_url:
            _admin(db_url, f"DROP DATABASE IF EXISTS {DB_NAME}")
            _admin(db_url, f"CREATE DATABASE {DB_NAME}")
        try:
            os.environ.update(env)
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connection

            call_command("migrate", verbosity=0)
            start = time.perf_counter()
            figures = {"database": connection.vendor, **populate(count)}
            figures["fill_seconds"] = round(time.perf_counter() - start, 1)
            connection.close()
            at = datetime.now(UTC).isoformat()
            print(
                f"publication: {figures['registrations']:,} registrations on {connection.vendor} "
                f"({figures['ipv4']:,} IPv4, {figures['ipv6']:,} IPv6, {figures['msisdn']:,} mobile numbers; "
                f"{figures['active']:,} active), filled in {figures['fill_seconds']} s"
            )

            def way(name: str) -> dict:
                out = subprocess.run(
                    [sys.executable, "-m", "benchmarks.publish_bench", "--child", name, "--at", at],
                    env=env,
                    cwd=tmp,
                    check=True,
                    stdout=subprocess.PIPE,
                )
                return json.loads(out.stdout.decode().strip().splitlines()[-1])

            way("seed")  # the snapshot before, which every timed publication is compared with
            for name in ("before", "keys", "publish"):
                # Best of `repeat` for the time (the machine may be busy), the highest peak of them all.
                runs = [way(name) for _ in range(repeat)]
                figures[name] = min(runs, key=lambda r: r["seconds"])
                figures[name]["peak_mb"] = max(r["peak_mb"] for r in runs)
        finally:
            if db_url:
                from django.db import connections

                connections.close_all()
                _admin(db_url, f"DROP DATABASE IF EXISTS {DB_NAME}")
    old, new = figures["before"], figures["keys"]
    assert old.pop("digests") == new.pop("digests"), "the two builds' files differ"
    print(
        f"  {f'build + render every format (best of {repeat})':<44}"
        f"{'build s':>9}{'render s':>9}{'total s':>9}{'peak MB':>9}"
    )
    for label, row in (("ipaddress objects (before)", old), ("stored keys through NumPy", new)):
        print(
            f"  {label:<44}{row['build_seconds']:>9.2f}{row['render_seconds']:>9.2f}"
            f"{row['seconds']:>9.2f}{row['peak_mb']:>9}"
        )
    print(
        f"  {'ratio (before / now)':<44}{old['build_seconds'] / new['build_seconds']:>9.1f}"
        f"{old['render_seconds'] / new['render_seconds']:>9.1f}{old['seconds'] / new['seconds']:>9.1f}"
        f"{old['peak_mb'] / new['peak_mb']:>9.1f}"
    )
    pub = figures["publish"]
    print(f"  published: {new['ipv4']:,} IPv4 and {new['ipv6']:,} IPv6 CIDRs; files identical both ways")
    print(
        f"  whole publication (publish --force, {pub['files']} files): {pub['seconds']:.2f} s, "
        f"peak {pub['peak_mb']} MB (process at start {pub['base_mb']} MB)"
    )
    print("    " + ", ".join(f"{name} {value:.2f} s" for name, value in pub["phases"].items()))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 registrations instead of 1,000,000")
    parser.add_argument("--count", type=int, help="this many registrations")
    parser.add_argument(
        "--database-url", help=f"a PostgreSQL server (postgres://user@host:port/any): uses {DB_NAME} there"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each way (the best time is kept)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--at", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.at)))
        return 0
    count = args.count or (100_000 if args.quick else 1_000_000)
    result = run(count, args.database_url, args.repeat)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "publish.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures written to {out / 'publish.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
