"""The allowlist built from the stored keys is the one the values make, byte for byte, in every format.

`build_allowlist` reads each registration's (family, first, last) keys into arrays; the reference
here is the way it used to be built, and the way anyone would write it: every active value parsed
with `ipaddress`, collapsed, printed with `str`. Both are rendered in every format and compared.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import OperatorFactory
from vpnregistry.accounts.models import Operator
from vpnregistry.allowlist.formats import FORMATS, Allowlist, render
from vpnregistry.allowlist.services import build_allowlist
from vpnregistry.applications.models import Application, Resource
from vpnregistry.db import network_keys
from vpnregistry.registrations.models import Registration
from vpnregistry.registrations.selectors import active_at_q
from vpnregistry.timeutil import utc_iso

SESSION = "0b7e6d3c-6f1a-4d2b-9c4e-2a1f5e8d9c01"
MOBILE = ("jazz", "zong")
# Blocks are drawn inside regions, each region held by one organisation (registrations of different
# organisations never overlap), regions side by side (so that blocks of different organisations abut).
V4_BASE = int(ipaddress.IPv4Address("14.1.0.0"))  # /24 regions: 14.1.0.0/24, 14.1.1.0/24, ...
V6_BASE = int(ipaddress.IPv6Address("2001:dd8:1c::"))  # /48 regions: 2001:dd8:1c::/48, 2001:dd8:1d::/48, ...
STATES = ["active", "active", "active", "revoked", "expired", "future"]


def reference_build(at) -> Allowlist:
    """The allowlist from the values of the active registrations, one `ipaddress` object each."""
    active = Registration.objects.filter(active_at_q(at))
    nets = [
        ipaddress.ip_network(v) for v in active.filter(family__isnull=False).values_list("value", flat=True)
    ]
    numbers: dict[str, set[str]] = {}
    for value, operator in active.filter(kind="msisdn").values_list("value", "operator__code"):
        numbers.setdefault(operator, set()).add(value)
    return Allowlist(
        session=SESSION,
        serial=7,
        generated_at=utc_iso(at, timespec="seconds"),
        ipv4=tuple(str(n) for n in ipaddress.collapse_addresses(n for n in nets if n.version == 4)),
        ipv6=tuple(str(n) for n in ipaddress.collapse_addresses(n for n in nets if n.version == 6)),
        msisdn={op: tuple(sorted(v)) for op, v in sorted(numbers.items())},
    )


def _store(world, rows, now) -> None:
    """Registrations straight into the table, keyed as the workflow keys them (`network_keys`)."""
    Registration.objects.all().delete()
    Resource.objects.all().delete()
    orgs = [world.org, world.other_org, world.freelancer_org]
    application = Application.objects.create(
        organisation=world.org, category=world.company, created_by=world.applicant, state="approved"
    )
    operators = {"fixed": world.indus, **{code: Operator.objects.get(code=code) for code in MOBILE}}
    resources, registrations = [], []
    for kind, value, org, operator, state in rows:
        family, first, last = (
            network_keys(ipaddress.ip_network(value)) if kind != "msisdn" else (None, "", "")
        )
        common = {"kind": kind, "value": value, "family": family, "first": first, "last": last}
        resources.append(
            Resource(
                application=application,
                operator=operators[operator],
                subscriber_id="S",
                state="confirmed",
                **common,
            )
        )
        valid_from = now + timedelta(days=1) if state == "future" else now - timedelta(days=10)
        valid_until = now - timedelta(days=1) if state == "expired" else now + timedelta(days=30)
        registrations.append(
            Registration(
                organisation=orgs[org],
                operator=operators[operator],
                state="revoked" if state == "revoked" else "active",
                valid_from=valid_from,
                valid_until=valid_until,
                **common,
            )
        )
    for resource, registration in zip(Resource.objects.bulk_create(resources), registrations, strict=True):
        registration.resource = resource
    Registration.objects.bulk_create(registrations)


def _assert_same_everywhere(now) -> None:
    new = build_allowlist(session=SESSION, serial=7, at=now)
    old = reference_build(now)
    assert (list(new.ipv4), list(new.ipv6), new.msisdn) == (list(old.ipv4), list(old.ipv6), old.msisdn)
    assert new.to_json() == old.to_json()
    for name in FORMATS:
        for operator in (*MOBILE, "nobody") if name == "msisdn.csv" else (None,):
            assert render(name, new, operator=operator) == render(name, old, operator=operator), name


@pytest.fixture
def mobile(world):
    for code in MOBILE:
        OperatorFactory(code=code, kind=Operator.Kind.MOBILE)


@st.composite
def registrations(draw) -> list[tuple]:
    rows = []
    for region in draw(st.lists(st.integers(0, 11), unique=True, max_size=6)):
        org = draw(st.integers(0, 2))
        for length, offset in draw(
            st.lists(st.tuples(st.integers(24, 32), st.integers(0, 255)), min_size=1, max_size=5)
        ):
            start = V4_BASE + (region << 8) + (offset >> (32 - length) << (32 - length))
            rows.append(
                (
                    "ipv4",
                    str(ipaddress.IPv4Network((start, length))),
                    org,
                    "fixed",
                    draw(st.sampled_from(STATES)),
                )
            )
    lengths = st.sampled_from([48, 56, 64, 64, 64, 128, 128])
    for region in draw(st.lists(st.integers(0, 7), unique=True, max_size=4)):
        org = draw(st.integers(0, 2))
        for length, offset in draw(
            st.lists(st.tuples(lengths, st.integers(0, 2**80 - 1)), min_size=1, max_size=5)
        ):
            start = V6_BASE + (region << 80) + (offset >> (128 - length) << (128 - length))
            rows.append(
                (
                    "ipv6",
                    str(ipaddress.IPv6Network((start, length))),
                    org,
                    "fixed",
                    draw(st.sampled_from(STATES)),
                )
            )
    for number, operator in draw(
        st.lists(st.tuples(st.integers(0, 30), st.sampled_from(MOBILE)), max_size=6)
    ):
        rows.append(
            (
                "msisdn",
                f"+92300{number:07d}",
                number % 3,  # a number is one organisation's (an exclusion constraint on PostgreSQL)
                operator,
                draw(st.sampled_from(STATES)),
            )
        )
    return draw(st.permutations(rows))


@pytest.mark.usefixtures("mobile")
@settings(
    max_examples=max(10, settings.default.max_examples // 2),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=registrations())
def test_built_from_keys_as_from_values(world, rows):
    now = timezone.now()
    _store(world, rows, now)
    _assert_same_everywhere(now)


def _walk(
    rng: random.Random, count: int, bits: int, start: int, host_bits: list[int]
) -> list[tuple[int, int, int]]:
    """(first, length, org) ascending from `start`: a third abutting the block before, some with a
    smaller block of the same organisation inside them."""
    out = []
    address, org = start, 0
    while len(out) < count:
        host = rng.choice(host_bits)
        address = (address + (1 << host) - 1) >> host << host
        if rng.random() < 0.4:
            org = rng.randrange(3)
        out.append((address, bits - host, org))
        if host >= 2 and rng.random() < 0.1:
            inner = rng.randrange(host)
            out.append((address + (rng.randrange(1 << (host - inner)) << inner), bits - inner, org))
        address += 1 << host
        if rng.random() >= 0.35:
            address += rng.randrange(1, 4) << host
    return out


@pytest.mark.usefixtures("mobile")
def test_thousands_of_registrations_of_every_shape(world):
    rng = random.Random(15)
    rows = [
        ("ipv4", str(ipaddress.IPv4Network((a, n))), org, "fixed", rng.choice(STATES))
        for a, n, org in _walk(rng, 3000, 32, V4_BASE, [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    ]
    rows += [
        ("ipv6", str(ipaddress.IPv6Network((a, n))), org, "fixed", rng.choice(STATES))
        for a, n, org in _walk(rng, 800, 128, V6_BASE, [0, 0, 64, 64, 64, 72, 80])
    ]
    rows += [
        ("msisdn", f"+92300{rng.randrange(10**7):07d}", 0, rng.choice(MOBILE), "active") for _ in range(300)
    ]
    rng.shuffle(rows)
    now = timezone.now()
    _store(world, rows, now)
    new = build_allowlist(session=SESSION, serial=7, at=now)
    assert len(new.ipv4) > 1000 and len(new.ipv6) > 300  # many blocks stay apart, many merged
    _assert_same_everywhere(now)


def test_empty_registry(db):
    now = timezone.now()
    new = build_allowlist(session=str(uuid.uuid4()), serial=1, at=now)
    assert (len(new.ipv4), len(new.ipv6), new.msisdn) == (0, 0, {})


@pytest.mark.usefixtures("mobile")
@pytest.mark.parametrize("last", ["not a key", "z" * 32, "f" * 32])
def test_keys_that_are_not_keys_are_refused(world, last):
    """A stored key that is not 32 hex digits, or an IPv4 key beyond the IPv4 space, stops the build."""
    now = timezone.now()
    _store(world, [("ipv4", "14.1.0.0/24", 0, "fixed", "active")], now)
    Registration.objects.update(last=last)
    with pytest.raises(ValueError, match="stored keys"):
        build_allowlist(session=SESSION, serial=1, at=now)


@pytest.mark.usefixtures("mobile")
def test_read_in_small_blocks_as_in_one(world, monkeypatch):
    """The rows come in blocks (COPY's on PostgreSQL, a cursor's elsewhere); a block boundary that
    cuts a row in two, or falls between a number and an address, changes nothing."""
    from vpnregistry.allowlist import services

    rng = random.Random(3)
    rows = [
        ("ipv4", str(ipaddress.IPv4Network((a, n))), org, "fixed", "active")
        for a, n, org in _walk(rng, 400, 32, V4_BASE, [0, 0, 1, 8])
    ]
    rows += [
        ("ipv6", str(ipaddress.IPv6Network((a, n))), org, "fixed", "active")
        for a, n, org in _walk(rng, 50, 128, V6_BASE, [0, 64, 72])
    ]
    rows += [("msisdn", f"+92300{i:07d}", 0, MOBILE[i % 2], "active") for i in range(40)]
    rng.shuffle(rows)
    now = timezone.now()
    _store(world, rows, now)
    whole = build_allowlist(session=SESSION, serial=1, at=now)
    monkeypatch.setattr(services, "COPY_BLOCK", 1000)  # not a multiple of a row's 66 bytes
    monkeypatch.setattr(services, "ROWS_A_FETCH", 7)
    blocks = build_allowlist(session=SESSION, serial=1, at=now)
    assert (blocks.ipv4, blocks.ipv6, blocks.msisdn) == (whole.ipv4, whole.ipv6, whole.msisdn)
    assert len(whole.ipv4) > 50 and sum(map(len, whole.msisdn.values())) == 40
