"""Restriction events and exemption answers: scope, time zones, event boundaries, exact history."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.events import KARACHI_SOUTH, LAHORE
from tests.events import make_event as event
from tests.http import text
from tests.workflow import approved
from vpnregistry.accounts.models import District
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.registrations.models import Registration
from vpnregistry.registrations.services import end_activity
from vpnregistry.restrictions import exemptions
from vpnregistry.restrictions.services import event_create, event_publish


def located(world, value, district_code):
    application = approved(world, value)
    Registration.objects.filter(resource__application=application).update(
        district=District.objects.get(code=district_code)
    )
    return Registration.objects.get(value=value)


def api_check(world, address, at, user=None):
    response = world.client(user or world.operator).get(
        "/api/v1/exemptions/check", {"address": address, "at": at}
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_event_needs_a_reference_scope_services_and_order(world):
    with pytest.raises(InvalidInput) as exc:
        event_create(
            actor=world.officer,
            title="",
            legal_reference="",
            starts_at="2026-12-01T10:00",
            ends_at="2026-12-01T09:00",
            services=[],
            provinces=["XX"],
        )
    assert {"title", "legal_reference", "ends_at", "services", "provinces"} <= set(exc.value.errors)
    with pytest.raises(InvalidInput) as exc:
        event_create(
            actor=world.officer,
            title="t",
            legal_reference="r",
            starts_at="soon",
            ends_at="2026-12-01T09:00",
            services=["mobile-data"],
            national=True,
        )
    assert "starts_at" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        event(world, "2026-12-01T08:00", "2026-12-01T09:00", national=False)
    assert "scope" in exc.value.errors
    with pytest.raises(NotAllowed):
        event_create(
            actor=world.agency,
            title="t",
            legal_reference="r",
            starts_at="2026-12-01T08:00",
            ends_at="2026-12-01T09:00",
            services=["mobile-data"],
            national=True,
        )


def test_times_without_offset_are_the_registrys_zone(world):
    e = event(world, "2026-12-01T08:00", "2026-12-01T20:00+05:00")
    assert e.starts_at == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 08:00 in Karachi is 03:00 UTC
    assert e.ends_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_exempt_answer_names_the_registration_never_the_holder(world):
    registration = located(world, "14.1.105.0/24", LAHORE)
    now = timezone.now().isoformat()
    body = api_check(world, "14.1.105.77", now)
    assert body["exempt"] is True and body["registration"] == registration.reference
    assert world.org.name not in str(body) and "SUB-1" not in str(body)
    miss = api_check(world, "14.1.106.1", now)
    assert miss["exempt"] is False and miss["registration"] is None and miss["events"] == []


def test_event_boundaries_the_minute_before_at_and_after(world):
    located(world, "14.1.105.0/24", LAHORE)
    start = timezone.now() + timedelta(hours=1)
    end = start + timedelta(hours=2)
    e = event(world, start, end)
    minute = timedelta(minutes=1)
    assert api_check(world, "14.1.105.1", (start - minute).isoformat())["events"] == []
    assert [x["id"] for x in api_check(world, "14.1.105.1", start.isoformat())["events"]] == [e.pk]
    assert [x["id"] for x in api_check(world, "14.1.105.1", (end - minute).isoformat())["events"]] == [e.pk]
    assert api_check(world, "14.1.105.1", end.isoformat())["events"] == []
    # Exempt throughout, event or not.
    for at in (start - minute, start, end, end + minute):
        assert api_check(world, "14.1.105.1", at.isoformat())["exempt"] is True


def test_the_same_instant_in_two_time_zones_gets_one_answer(world):
    located(world, "14.1.105.0/24", LAHORE)
    start = timezone.localtime(timezone.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    event(world, start, start + timedelta(hours=1))
    naive_local = start.replace(tzinfo=None).isoformat()  # read in Asia/Karachi
    in_utc = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api_check(world, "14.1.105.1", naive_local) == {
        **api_check(world, "14.1.105.1", in_utc),
        "at": api_check(world, "14.1.105.1", naive_local)["at"],
    }
    assert api_check(world, "14.1.105.1", naive_local)["events"]


def test_scope_follows_the_registrations_district(world):
    located(world, "14.1.105.0/24", LAHORE)
    located(world, "14.1.106.0/24", KARACHI_SOUTH)
    start = timezone.now() + timedelta(hours=1)
    punjab = event(world, start, start + timedelta(hours=1), provinces=["PB"])
    karachi = event(world, start, start + timedelta(hours=1), districts=[KARACHI_SOUTH])
    at = (start + timedelta(minutes=5)).isoformat()
    assert [x["id"] for x in api_check(world, "14.1.105.9", at)["events"]] == [punjab.pk]
    assert [x["id"] for x in api_check(world, "14.1.106.9", at)["events"]] == [karachi.pk]


def test_history_is_exact(world):
    registration = located(world, "14.1.105.0/24", LAHORE)
    e = event(world, timezone.now() - timedelta(hours=1), timezone.now() + timedelta(hours=1))
    moment = timezone.now()
    at = moment.isoformat()
    before = api_check(world, "14.1.105.1", at)
    assert before["exempt"] and [x["id"] for x in before["events"]] == [e.pk]
    # Afterwards the registration is suspended, and another event is published covering that moment:
    end_activity(registration=registration, at=timezone.now())
    event(world, moment - timedelta(hours=2), moment + timedelta(hours=2))
    assert api_check(world, "14.1.105.1", at) == before
    bulk = text(
        world.client(world.operator).post(
            f"/api/v1/exemptions/check?at={at}".replace("+", "%2B"),
            data="14.1.105.1\n",
            content_type="text/plain",
        )
    )
    assert bulk.splitlines()[1] == f"14.1.105.1,true,{registration.reference},{e.pk}"
    assert api_check(world, "14.1.105.1", timezone.now().isoformat())["exempt"] is False


def test_unpublished_events_do_not_count(world):
    located(world, "14.1.105.0/24", LAHORE)
    start = timezone.now() - timedelta(minutes=5)
    draft = event(world, start, start + timedelta(hours=1), published=False)
    now = timezone.now().isoformat()
    assert api_check(world, "14.1.105.1", now)["events"] == []
    event_publish(actor=world.officer, event=draft)
    # Published now: it counts from its publication on, not before.
    assert api_check(world, "14.1.105.1", timezone.now().isoformat())["events"]
    assert api_check(world, "14.1.105.1", now)["events"] == []


def test_bulk_answers_agree_with_single_ones(world):
    located(world, "14.1.105.0/24", LAHORE)
    located(world, "14.1.106.0/25", KARACHI_SOUTH)
    located(world, "2001:dd8:1c:1::/64", LAHORE)
    start = timezone.now() + timedelta(minutes=1)
    event(world, start, start + timedelta(hours=1), provinces=["SD"])
    at = start + timedelta(minutes=2)
    rng = random.Random(7)
    addresses = [
        str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("14.1.104.0")) + rng.randrange(1024)))
        for _ in range(300)
    ]
    addresses += [f"2001:dd8:1c:{rng.choice([1, 2])}::{rng.randrange(1, 9999):x}" for _ in range(50)]
    body = "\n".join(addresses) + "\n"
    response = world.client(world.operator).post(
        f"/api/v1/exemptions/check?at={at.isoformat()}".replace("+", "%2B"),
        data=body,
        content_type="text/plain",
    )
    assert response.status_code == 200
    rows = text(response).splitlines()
    assert rows[0] == "address,exempt,registration,events"
    assert len(rows) == len(addresses) + 1
    for address, row in zip(addresses, rows[1:], strict=True):
        single = exemptions.check_one(address, at)
        got_address, exempt, reference, events = row.split(",")
        assert got_address == address
        assert (exempt == "true") == single.exempt
        assert (reference or None) == single.registration
        assert events == ";".join(str(e.pk) for e in single.events)


def test_bulk_streams_past_the_body_limit_and_reports_bad_lines(world, settings):
    located(world, "14.1.105.0/24", LAHORE)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # far smaller than the body below
    lines = [f"14.1.{104 + i % 4}.{i % 256}" for i in range(20000)]
    response = world.client(world.operator).post(
        "/api/v1/exemptions/check", data="\n".join(lines), content_type="text/plain"
    )
    assert response.status_code == 200
    rows = text(response).splitlines()[1:]
    assert len(rows) == 20000
    assert sum(r.split(",")[1] == "true" for r in rows) == 5000
    mixed = "14.1.105.1\n\n# a comment\n014.1.105.1\n2001:dd8:1c::1\nnonsense\n"
    rows = text(
        world.client(world.operator).post("/api/v1/exemptions/check", data=mixed, content_type="text/plain")
    ).splitlines()[1:]
    assert rows[0].startswith("14.1.105.1,true,R-")
    assert rows[1].startswith("014.1.105.1,error,,") and "leading zero" in rows[1]
    assert rows[2] == "2001:dd8:1c::1,false,,"
    assert rows[3].startswith("nonsense,error")


def test_bulk_reads_a_csv_column(world):
    located(world, "14.1.105.0/24", LAHORE)
    csv_body = "name,address\nalpha,14.1.105.3\nbeta,8.8.8.8\n"
    rows = text(
        world.client(world.operator).post(
            "/api/v1/exemptions/check?column=2", data=csv_body, content_type="text/csv"
        )
    ).splitlines()
    assert rows[1].startswith("address,error")  # the header row is not an address
    assert rows[2].startswith("14.1.105.3,true,R-")
    assert rows[3] == "8.8.8.8,false,,"
    bad = world.client(world.operator).post(
        "/api/v1/exemptions/check?column=0", data="x", content_type="text/csv"
    )
    assert bad.status_code == 400 and "column" in bad.json()


def test_exemptions_are_for_operators_officers_and_auditors(world):
    for user in (world.applicant, world.agency):
        assert world.client(user).get("/api/v1/exemptions/check", {"address": "1.2.3.4"}).status_code == 403
    assert world.client(None).get("/api/v1/exemptions/check", {"address": "1.2.3.4"}).status_code == 401
    for user in (world.officer, world.auditor):
        assert world.client(user).get("/api/v1/exemptions/check", {"address": "1.2.3.4"}).status_code == 200
    assert (
        world.client(world.operator).get("/api/v1/exemptions/check", {"address": "1.2.3.04"}).status_code
        == 400
    )
    assert (
        world.client(world.operator)
        .get("/api/v1/exemptions/check", {"address": "1.2.3.4", "at": "yesterday"})
        .status_code
        == 400
    )


def test_events_api_public_once_published(world):
    start = timezone.now() + timedelta(days=1)
    published = event(world, start, start + timedelta(hours=2))
    draft = event(world, start, start + timedelta(hours=2), published=False)
    public = world.client(None).get("/api/v1/events/").json()["results"]
    assert [e["id"] for e in public] == [published.pk]
    assert world.client(None).get(f"/api/v1/events/{draft.pk}/").status_code == 404
    assert {e["id"] for e in world.client(world.officer).get("/api/v1/events/").json()["results"]} == {
        published.pk,
        draft.pk,
    }
    created = world.client(world.officer).post(
        "/api/v1/events/",
        {
            "title": "Ashura",
            "legal_reference": "Order 9/2026",
            "provinces": ["PB", "SD"],
            "services": ["mobile-data", "whatsapp"],
            "starts_at": "2026-12-20T06:00",
            "ends_at": "2026-12-21T00:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["published_at"] is None
    assert (
        world.client(world.officer).post(f"/api/v1/events/{created.json()['id']}/publish/").status_code == 200
    )
    assert world.client(world.operator).post("/api/v1/events/", {}, format="json").status_code == 403
    bad = world.client(world.officer).post(
        "/api/v1/events/",
        {
            "title": "x",
            "legal_reference": "y",
            "services": ["nope"],
            "starts_at": "2026-12-20T06:00",
            "ends_at": "2026-12-21T00:00",
            "national": True,
        },
        format="json",
    )
    assert bad.status_code == 400 and "services" in bad.json()
