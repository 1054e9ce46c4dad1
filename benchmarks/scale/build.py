"""The national-scale registry `make scale` measures, written by bulk COPY into an empty PostgreSQL database.

What it holds, for `registrations` = N (1,000,000 by default):

- 16 operators (12 fixed-line ISPs sharing the country's real address space block by block, 4 mobile
  operators with blocks of the country's numbering), staff with API tokens, TOTP devices and portal
  sessions for every role;
- 100,000 organisations of every category (fewer for a smaller N), one applicant each;
- N active registrations: about 80 % single IPv4 addresses and small IPv4 prefixes (a few /24s for
  banks and call centres), 15 % IPv6 (/64 for freelancers, /48 for the rest), 5 % mobile numbers,
  each with its district, operator, resource, approved application, reviews and active period;
  addresses are spaced so that most do not aggregate, which is the hard case for publication;
- thousands of applications waiting in every waiting state (submitted, in review, awaiting payment,
  awaiting decision, appealed, returned), with their resources, attestations and reviews;
- as many hash-chained audit records as registrations (1,000,000), chained exactly as
  `audit.services.record` chains them.

Rows are written with COPY in the same shapes the services write; ids are given, and the sequences
moved past them. Nothing here is used by the registry itself.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

STATE_TABLE = "vr_scale_state"
# Waiting applications, by state: "thousands in every waiting state" at the default size.
WAITING = {
    "submitted": 1200,
    "in_review": 1200,
    "awaiting_payment": 400,
    "awaiting_decision": 1000,
    "appealed": 300,
    "returned": 300,
}
# Resources per application: most ask for one or a few, large holders for up to hundreds.
APPLICATION_SIZES = [1, 1, 1, 2, 3, 5, 10, 40, 250]
FIXED_OPERATORS = 12
MOBILE_OPERATORS = 4
# Share of organisations per category, and the resources an organisation of it holds on average.
CATEGORY_MIX = [
    # code, share of organisations, share of registrations
    ("freelancer", 0.62, 0.18),
    ("company", 0.24, 0.38),
    ("call_centre", 0.08, 0.24),
    ("video_conferencing", 0.02, 0.04),
    ("bank", 0.02, 0.12),
    ("foreign_mission", 0.02, 0.04),
]
SCALE_PASSWORD_HASH = "!"  # unusable: the scale registry's applicants sign in with sessions made here


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


# --- writing -----------------------------------------------------------------------------------------


def copy_rows(model, fields: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` (tuples in the order of `fields`, Django field names) into `model`'s table."""
    meta = model._meta
    # A column a later migration added, not null with a default, that this builder does not name
    # (a person's language, say) gets the model's default, as a row saved through the ORM would.
    named = {meta.get_field(f).column for f in fields}
    defaults = [
        f
        for f in meta.concrete_fields
        if f.column not in named and not f.null and f.has_default() and not f.primary_key
    ]
    extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in defaults)
    columns = ", ".join(
        connection.ops.quote_name(c)
        for c in [*(meta.get_field(f).column for f in fields), *(f.column for f in defaults)]
    )
    count = 0
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row((*row, *extra) if extra else row)
            count += 1
    return count


def move_sequence(model) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT max(id) FROM {table}), 1))",
            [table],
        )


def next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def state_get(key: str, default=None):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {STATE_TABLE} WHERE key = %s", [key])
        row = cursor.fetchone()
    return json.loads(row[0]) if row else default


def state_set(key: str, value) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {STATE_TABLE} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [key, json.dumps(value)],
        )


def is_scale_registry() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STATE_TABLE])
        return cursor.fetchone()[0]


# --- address allocation ------------------------------------------------------------------------------


class Space:
    """Hands out resources that never overlap: each kind from its own part of the country's space.

    IPv4 /32s come 128 to a /24, at even offsets so that neighbours do not
    aggregate; small prefixes (/28) eight to a /24, every other one; whole /24s for the largest
    holders. IPv6 /64s come from /48s, every other one; /48s from the larger blocks, every other one.
    Mobile numbers count up inside each mobile operator's block. The position is kept in the
    database, so that a later run (`--reuse`) hands out fresh ones.
    """

    def __init__(
        self,
        v4: list[tuple[ipaddress.IPv4Network, int]],
        v6: list[tuple[ipaddress.IPv6Network, int]],
        mobile: list[tuple[str, int]],
        position: dict | None = None,
    ):
        self.slash24 = [
            (int(sub.network_address), op) for net, op in v4 for sub in net.subnets(new_prefix=24)
        ]
        # IPv6: the /48s of every block (a /29 holds 2**19: take the first 256 of each block).
        self.slash48 = []
        for net, op in v6:
            base = int(net.network_address)
            step = 1 << 80
            count = min(1 << (48 - net.prefixlen), 256)
            self.slash48 += [(base + i * step, op) for i in range(count)]
        self.mobile = mobile
        p = position or {}
        self.v24 = p.get("v24", 0)  # next whole /24 to start on
        self.v6 = p.get("v6", 0)  # next /48
        self.numbers = p.get("numbers", 0)
        self._hosts: Iterator | None = None
        self._small: Iterator | None = None
        self._v64: Iterator | None = None

    def position(self) -> dict:
        # An iterator part-way through a /24 or /48 is abandoned: the next run starts on a fresh one.
        return {"v24": self.v24, "v6": self.v6, "numbers": self.numbers}

    def _take24(self) -> tuple[int, int]:
        if self.v24 >= len(self.slash24):
            raise SystemExit("the country's IPv4 space is used up: ask for fewer registrations")
        out = self.slash24[self.v24]
        self.v24 += 1
        return out

    def _take48(self) -> tuple[int, int]:
        if self.v6 >= len(self.slash48):
            raise SystemExit("the IPv6 /48s set aside are used up: ask for fewer registrations")
        out = self.slash48[self.v6]
        self.v6 += 1
        return out

    def _host_iter(self):
        while True:
            base, op = self._take24()
            for offset in range(0, 256, 2):
                yield base + offset, 32, op

    def _small_iter(self):
        while True:
            base, op = self._take24()
            for offset in range(0, 256, 32):
                yield base + offset, 28, op

    def _v64_iter(self):
        while True:
            base, op = self._take48()
            for i in range(0, 1 << 16, 2):
                yield base + (i << 64), 64, op

    def host(self):
        self._hosts = self._hosts or self._host_iter()
        return next(self._hosts)

    def small(self):
        self._small = self._small or self._small_iter()
        return next(self._small)

    def slash24_net(self):
        base, op = self._take24()
        return base, 24, op

    def v6_64(self):
        self._v64 = self._v64 or self._v64_iter()
        return next(self._v64)

    def v6_48(self):
        base, op = self._take48()
        return base, 48, op

    def number(self) -> tuple[str, int]:
        prefix, op = self.mobile[self.numbers % len(self.mobile)]
        n = self.numbers // len(self.mobile)
        self.numbers += 1
        # Block "+9230" and a running seven-digit subscriber part: "+923000000017".
        return f"{prefix}{n + 1:0{13 - len(prefix)}d}", op


KEY = "{:032x}"


def v4_row(start: int, length: int) -> tuple[str, int, str, str]:
    size = 1 << (32 - length)
    text = f"{ipaddress.IPv4Address(start)}/{length}"
    return text, 4, KEY.format(start), KEY.format(start + size - 1)


def v6_row(start: int, length: int) -> tuple[str, int, str, str]:
    size = 1 << (128 - length)
    text = f"{ipaddress.IPv6Address(start)}/{length}"
    return text, 6, KEY.format(start), KEY.format(start + size - 1)


def draw_resource(space: Space, category: str, rng: random.Random) -> tuple:
    """(kind, value, family, first, last, operator) of one new resource for an organisation of `category`."""
    roll = rng.random()
    if category == "freelancer":
        if roll < 0.25:
            number, op = space.number()
            return ("msisdn", number, None, "", "", op)
        if roll < 0.55:
            start, length, op = space.v6_64()
            return ("ipv6", *v6_row(start, length), op)
        start, length, op = space.host()
        return ("ipv4", *v4_row(start, length), op)
    if roll < 0.12:
        start, length, op = space.v6_48() if roll < 0.02 else space.v6_64()
        return ("ipv6", *v6_row(start, length), op)
    if category in ("bank", "call_centre") and roll < 0.1205:
        start, length, op = space.slash24_net()
    elif roll < 0.16:
        start, length, op = space.small()
    else:
        start, length, op = space.host()
    return ("ipv4", *v4_row(start, length), op)


# --- the world -------------------------------------------------------------------------------------


def _space_file(name: str):
    from importlib import resources

    text = resources.files("vpnregistry.accounts").joinpath("data", name).read_text()
    return [ipaddress.ip_network(line.strip()) for line in text.splitlines() if line.strip()]


def make_world(rng: random.Random) -> dict:
    """Operators, their space and numbering, and staff of every role with tokens, devices and sessions."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from vpnregistry.accounts.authentication import issue_token
    from vpnregistry.accounts.models import AddressSpace, Agency, NumberBlock, Operator, Role, User

    fixed = [
        Operator.objects.create(code=f"isp-{i:02d}", name=f"Scale ISP {i:02d}", kind="fixed")
        for i in range(FIXED_OPERATORS)
    ]
    mobile = [
        Operator.objects.create(code=f"mobile-{i}", name=f"Scale Mobile {i}", kind="mobile")
        for i in range(MOBILE_OPERATORS)
    ]
    rows = []
    v4, v6 = [], []
    for family_file, into in (("pk-ipv4.cidr", v4), ("pk-ipv6.cidr", v6)):
        for i, net in enumerate(_space_file(family_file)):
            op = fixed[i % len(fixed)]
            row = AddressSpace(operator=op)
            row.set_network(net)
            rows.append(row)
            into.append((str(net), op.id))
    AddressSpace.objects.bulk_create(rows, batch_size=1000)
    blocks = []
    for i, op in enumerate(mobile):
        prefix = f"+923{i}"
        NumberBlock.objects.create(operator=op, prefix=prefix)
        blocks.append((prefix, op.id))

    staff = []

    def make(username, role, **links):
        user = User.objects.create(
            username=username,
            role=role,
            email=f"{username}@scale.example.org",
            password=SCALE_PASSWORD_HASH,
            **links,
        )
        staff.append(user)
        return user

    officer = make("scale-officer", Role.OFFICER)
    make("scale-officer-2", Role.OFFICER)
    auditor = make("scale-auditor", Role.AUDITOR)
    agencies = {a.code: make(f"scale-agency-{a.code}", Role.AGENCY, agency=a) for a in Agency.objects.all()}
    operator_staff = {op.id: make(f"scale-{op.code}", Role.OPERATOR, operator=op) for op in fixed + mobile}
    accounts = {}
    for user in staff:
        TOTPDevice.objects.create(user=user, name="scale", confirmed=True)
        accounts[user.username] = {"token": issue_token(user), "id": user.id}
    return {
        "v4": v4,
        "v6": v6,
        "mobile": blocks,
        "officer": officer.id,
        "auditor": auditor.id,
        "agencies": {code: u.id for code, u in agencies.items()},
        "operator_staff": {str(k): u.id for k, u in operator_staff.items()},
        "accounts": accounts,
    }


def portal_session(user_id: int) -> str:
    """A signed-in portal session (second factor given, for staff), as `django_otp.login` leaves it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from vpnregistry.accounts.models import User

    user = User.objects.get(id=user_id)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.set_expiry(7 * 24 * 3600)
    session.create()
    return session.session_key


def _split(total: int, shares: list[float]) -> list[int]:
    counts = [int(total * s) for s in shares]
    counts[0] += total - sum(counts)
    return counts


def build(*, registrations: int, organisations: int, audit_records: int, seed: int = 2026) -> dict:
    """Write the whole scale registry; returns what the measurements need."""
    from vpnregistry.accounts.models import Category, District, Organisation, Role, User
    from vpnregistry.applications.models import Application, Attestation, Resource, Review, TrackingCounter
    from vpnregistry.audit.models import AuditEvent
    from vpnregistry.registrations.models import ActivePeriod, Registration, new_reference

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {STATE_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
    t0 = time.perf_counter()
    world = make_world(rng)
    categories = {c.code: c for c in Category.objects.select_related("agency")}
    districts = list(District.objects.values_list("id", flat=True))
    space = Space(
        [(ipaddress.ip_network(n), op) for n, op in world["v4"]],
        [(ipaddress.ip_network(n), op) for n, op in world["v6"]],
        world["mobile"],
    )
    now = timezone.now()
    officer, agencies = world["officer"], world["agencies"]
    staff_of = {int(k): v for k, v in world["operator_staff"].items()}

    # Organisations and their applicants.
    org_counts = _split(organisations, [s for _c, s, _r in CATEGORY_MIX])
    reg_counts = _split(registrations, [r for _c, _s, r in CATEGORY_MIX])
    org_id0, user_id0 = next_id(Organisation), next_id(User)
    orgs: list[tuple[int, str]] = []  # (id, category code)
    for (code, _s, _r), n in zip(CATEGORY_MIX, org_counts, strict=True):
        orgs += [(org_id0 + len(orgs) + i, code) for i in range(n)]
    created = now - timedelta(days=800)
    from vpnregistry.accounts.names import name_skeleton

    def org_row(oid: int, code: str) -> tuple:
        name = f"Scale {code.replace('_', ' ')} {oid:06d}"
        return (oid, name, name_skeleton(name), categories[code].id, "", "", "", "", created)

    copy_rows(
        Organisation,
        [
            "id",
            "name",
            "name_skeleton",
            "category",
            "ntn",
            "secp_number",
            "pseb_number",
            "cnic",
            "created_at",
        ],
        (org_row(oid, code) for oid, code in orgs),
    )
    copy_rows(
        User,
        [
            "id",
            "password",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_superuser",
            "is_staff",
            "is_active",
            "date_joined",
            "role",
            "organisation",
            "is_org_admin",
        ],
        (
            (
                user_id0 + i,
                SCALE_PASSWORD_HASH,
                f"scale-member-{oid}",
                "",
                "",
                f"member-{oid}@scale.example.org",
                False,
                False,
                True,
                created,
                Role.APPLICANT,
                oid,
                True,
            )
            for i, (oid, _code) in enumerate(orgs)
        ),
    )
    member_of = {oid: user_id0 + i for i, (oid, _code) in enumerate(orgs)}
    log(f"{len(orgs):,} organisations and their members in {time.perf_counter() - t0:.0f} s")

    # Registrations: spread each category's share over its organisations, a few holding many.
    by_category: dict[str, list[int]] = {}
    for oid, code in orgs:
        by_category.setdefault(code, []).append(oid)
    holdings: list[tuple[int, str, int]] = []  # (organisation, category, resources)
    for (code, _s, _r), n in zip(CATEGORY_MIX, reg_counts, strict=True):
        members = by_category.get(code, [])
        if not members or not n:
            continue
        weights = [rng.paretovariate(1.6) for _ in members]
        scale = n / sum(weights)
        counts = [max(1, int(w * scale)) for w in weights]
        # Trim or pad to exactly n, from the largest holders.
        diff = n - sum(counts)
        order = sorted(range(len(counts)), key=lambda i: -counts[i])
        i = 0
        while diff:
            j = order[i % len(order)]
            if diff > 0:
                counts[j] += 1
                diff -= 1
            elif counts[j] > 1:
                counts[j] -= 1
                diff += 1
            i += 1
        holdings += [(oid, code, c) for oid, c in zip(members, counts, strict=True) if c]
    rng.shuffle(holdings)

    app_id, res_id, reg_id, per_id = (
        next_id(Application),
        next_id(Resource),
        next_id(Registration),
        next_id(ActivePeriod),
    )
    review_id = next_id(Review)
    apps_rows, res_rows, reg_rows, per_rows, review_rows = [], [], [], [], []
    tracking = 0
    flushed = 0
    t1 = time.perf_counter()

    def flush():
        nonlocal apps_rows, res_rows, reg_rows, per_rows, review_rows, flushed
        copy_rows(Application, APP_FIELDS, apps_rows)
        copy_rows(Resource, RES_FIELDS, res_rows)
        copy_rows(Registration, REG_FIELDS, reg_rows)
        copy_rows(ActivePeriod, ["id", "registration", "start", "end"], per_rows)
        copy_rows(Review, ["id", "application", "stage", "decision", "reason", "reviewer", "at"], review_rows)
        flushed += len(reg_rows)
        apps_rows, res_rows, reg_rows, per_rows, review_rows = [], [], [], [], []

    # An organisation's registrations came in applications of a few to a few hundred resources
    # (an application holds at most 1,000), one approved application each.
    batches = []
    for oid, code, count in holdings:
        while count > 0:
            n = min(count, rng.choice(APPLICATION_SIZES))
            batches.append((oid, code, n))
            count -= n
    for oid, code, count in batches:
        category = categories[code]
        decided = now - timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86400))
        submitted = decided - timedelta(days=rng.randrange(1, 6), seconds=rng.randrange(86400))
        verified = submitted + (decided - submitted) / 2
        until = decided + timedelta(days=730 + rng.randrange(0, 365))
        if until < now + timedelta(days=120):  # nothing near expiry: a sweep has nothing to do
            until = now + timedelta(days=120 + rng.randrange(0, 365))
        tracking += 1
        apps_rows.append(
            application_row(
                app_id,
                oid,
                category,
                member_of[oid],
                "approved",
                f"VR-2025-{tracking:06d}",
                submitted,
                verified,
                agencies[category.agency.code],
                decided,
                officer,
            )
        )
        review_rows.append(
            (
                review_id,
                app_id,
                "agency",
                "approve",
                "Documents verified.",
                agencies[category.agency.code],
                verified,
            )
        )
        review_rows.append((review_id + 1, app_id, "decision", "approve", "Approved.", officer, decided))
        review_id += 2
        district = rng.choice(districts)
        for _ in range(count):
            kind, value, family, first, last, op = draw_resource(space, code, rng)
            res_rows.append(
                (res_id, app_id, kind, value, family, first, last, op, f"SUB-{res_id}", district, "confirmed")
            )
            reg_rows.append(
                (
                    reg_id,
                    new_reference(),
                    res_id,
                    oid,
                    op,
                    kind,
                    value,
                    family,
                    first,
                    last,
                    district,
                    "active",
                    decided,
                    until,
                    decided,
                    "",
                    None,
                    "[]",
                )
            )
            per_rows.append((per_id, reg_id, decided, until))
            res_id += 1
            reg_id += 1
            per_id += 1
        app_id += 1
        if len(reg_rows) >= 50_000:
            flush()
            log(f"{flushed:,} registrations ({flushed / (time.perf_counter() - t1):,.0f} a second)")
    flush()
    log(f"{flushed:,} registrations in {time.perf_counter() - t1:.0f} s")

    # Applications waiting in every waiting state, on fresh resources; at the default size the numbers
    # of WAITING, scaled down with the registry.
    t2 = time.perf_counter()
    factor = min(1.0, registrations / 1_000_000) if registrations < 1_000_000 else 1.0
    waiting = {state: max(20, int(n * factor)) for state, n in WAITING.items()}
    att_id = next_id(Attestation)
    att_rows = []
    small_orgs = [h for h in holdings if h[2] <= 2] or holdings
    this_year = timezone.localtime(now).year
    counter = 0
    for state, n in waiting.items():
        for _ in range(n):
            oid, code, _count = rng.choice(small_orgs)
            category = categories[code]
            agency_user = agencies[category.agency.code]
            submitted = now - timedelta(days=rng.randrange(0, 20), seconds=rng.randrange(86400))
            counter += 1
            verified = (
                submitted + timedelta(hours=6)
                if state in ("awaiting_payment", "awaiting_decision", "appealed")
                else None
            )
            decided = submitted + timedelta(days=1) if state == "appealed" else None
            row = list(
                application_row(
                    app_id,
                    oid,
                    category,
                    member_of[oid],
                    state,
                    f"VR-{this_year}-{counter:06d}",
                    submitted,
                    verified,
                    agency_user if verified else None,
                    decided,
                    officer if decided else None,
                )
            )
            if state == "awaiting_payment":
                row[APP_FIELDS.index("fee_addresses")] = 6
                row[APP_FIELDS.index("fee_amount")] = "6000.00"
            if state == "appealed":
                row[APP_FIELDS.index("appeal_grounds")] = (
                    "The address is assigned to us; the bill is attached."
                )
                row[APP_FIELDS.index("appealed_at")] = submitted + timedelta(days=2)
                row[APP_FIELDS.index("rejected_at_stage")] = "decision"
            apps_rows.append(tuple(row))
            if verified:
                review_rows.append(
                    (review_id, app_id, "agency", "approve", "Documents verified.", agency_user, verified)
                )
                review_id += 1
            if state == "appealed":
                review_rows.append(
                    (review_id, app_id, "decision", "reject", "Not shown to be assigned.", officer, decided)
                )
                review_id += 1
            if state == "returned":
                review_rows.append(
                    (
                        review_id,
                        app_id,
                        "agency",
                        "return",
                        "Please attach a clearer letter.",
                        agency_user,
                        submitted + timedelta(hours=3),
                    )
                )
                review_id += 1
            district = rng.choice(districts)
            for r in range(rng.choice((1, 1, 1, 2, 3))):
                kind, value, family, first, last, op = draw_resource(space, code, rng)
                attested = state in ("awaiting_payment", "awaiting_decision", "appealed") or (
                    state == "in_review" and r == 0
                )
                res_rows.append(
                    (
                        res_id,
                        app_id,
                        kind,
                        value,
                        family,
                        first,
                        last,
                        op,
                        f"SUB-{res_id}",
                        district,
                        "confirmed" if attested else "pending",
                    )
                )
                if attested:
                    att_rows.append(
                        (att_id, res_id, op, "approve", "", staff_of[op], submitted + timedelta(hours=2))
                    )
                    att_id += 1
                res_id += 1
            app_id += 1
    copy_rows(Application, APP_FIELDS, apps_rows)
    copy_rows(Resource, RES_FIELDS, res_rows)
    copy_rows(Review, ["id", "application", "stage", "decision", "reason", "reviewer", "at"], review_rows)
    copy_rows(
        Attestation, ["id", "resource", "operator", "decision", "reason", "attested_by", "at"], att_rows
    )
    TrackingCounter.objects.update_or_create(year=2025, defaults={"last": tracking})
    TrackingCounter.objects.update_or_create(year=this_year, defaults={"last": counter})
    log(f"{sum(waiting.values()):,} waiting applications in {time.perf_counter() - t2:.0f} s")

    # The audit log: one record per registration made (the bulk of a real log), chained.
    t3 = time.perf_counter()
    written = write_audit(
        audit_records, now=now, officer=officer, first_registration=next_id(Registration) - registrations
    )
    log(f"{written:,} audit records in {time.perf_counter() - t3:.0f} s")

    for model in (
        Organisation,
        User,
        Application,
        Resource,
        Registration,
        ActivePeriod,
        Review,
        Attestation,
        AuditEvent,
    ):
        move_sequence(model)
    state_set("space", space.position())
    state_set("world", world)
    state_set("size", {"registrations": registrations, "organisations": len(orgs), "audit": written})
    # As after any bulk load: VACUUM sets the rows' visibility (hint bits, the visibility map), or the
    # first scan of a million fresh rows (the first publication) writes every page it reads.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log(f"built in {time.perf_counter() - t0:.0f} s")
    return world


APP_FIELDS = [
    "id",
    "organisation",
    "category",
    "agency",
    "state",
    "tracking_number",
    "created_by",
    "created_at",
    "submitted_at",
    "verified_at",
    "verified_by",
    "decided_at",
    "decided_by",
    "decision_reason",
    "status_secret_hash",
    "rejected_at_stage",
    "fee_addresses",
    "fee_amount",
    "appeal_grounds",
    "appealed_at",
    "state_changed_at",
    "version",
]
RES_FIELDS = [
    "id",
    "application",
    "kind",
    "value",
    "family",
    "first",
    "last",
    "operator",
    "subscriber_id",
    "district",
    "state",
]
REG_FIELDS = [
    "id",
    "reference",
    "resource",
    "organisation",
    "operator",
    "kind",
    "value",
    "family",
    "first",
    "last",
    "district",
    "state",
    "valid_from",
    "valid_until",
    "created_at",
    "state_reason",
    "state_changed_at",
    "reminders_sent",
]


def application_row(
    app_id, oid, category, member, state, tracking, submitted, verified, verifier, decided, decider
):
    changed = decided or verified or submitted
    return (
        app_id,
        oid,
        category.id,
        category.agency_id,
        state,
        tracking,
        member,
        submitted - timedelta(hours=1),
        submitted,
        verified,
        verifier,
        decided if state == "approved" else None,
        decider if state == "approved" else None,
        "Approved." if state == "approved" else "",
        hashlib.sha256(f"scale-{app_id}".encode()).hexdigest(),
        "",
        None,
        None,
        "",
        None,
        changed,
        1,
    )


def write_audit(count: int, *, now: datetime, officer: int, first_registration: int) -> int:
    """`count` records chained from the log's current tail, as `record` would append them."""
    from vpnregistry.audit.models import AuditEvent
    from vpnregistry.audit.services import GENESIS, _digest

    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = last if last else (0, GENESIS)
    start = now - timedelta(days=700)
    step = (now - timedelta(hours=2) - start) / max(count, 1)
    actions = [
        ("registration.create", "registration", "", "active", "scale-officer"),
        ("application.decide", "application", "awaiting_decision", "approved", "scale-officer"),
        ("application.verify", "application", "in_review", "awaiting_decision", "scale-agency-pseb"),
        ("resource.attest", "resource", "pending", "confirmed", "scale-isp-00"),
        ("application.submit", "application", "draft", "submitted", "system"),
    ]
    event_id = next_id(AuditEvent)

    def rows():
        nonlocal seq, prev, event_id
        for i in range(count):
            action, otype, from_state, to_state, actor = actions[i % len(actions)]
            seq += 1
            at = (start + step * i).astimezone(UTC)
            oid = str(first_registration + i // len(actions))
            data = {"value": f"scale-{i}"} if otype == "registration" else {}
            reason = "Approved." if action == "application.decide" else ""
            digest = _digest(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                object_type=otype,
                object_id=oid,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
                data=data,
                prev_hash=prev,
            )
            yield (
                event_id,
                seq,
                at,
                officer if actor == "scale-officer" else None,
                actor,
                action,
                otype,
                oid,
                from_state,
                to_state,
                reason,
                json.dumps(data),
                prev,
                digest,
            )
            prev = digest
            event_id += 1

    return copy_rows(
        AuditEvent,
        [
            "id",
            "seq",
            "at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "from_state",
            "to_state",
            "reason",
            "data",
            "prev_hash",
            "hash",
        ],
        rows(),
    )
