"""The public calendar, its feeds, and the officer's form."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from icalendar import Calendar

from tests.auth import login
from vpnregistry.restrictions.models import RestrictionEvent
from vpnregistry.restrictions.services import event_create


def make(world, title, *, published=True, days=1):
    start = timezone.now() + timedelta(days=days)
    return event_create(
        actor=world.officer,
        title=title,
        legal_reference="Order 1/2026",
        starts_at=start,
        ends_at=start + timedelta(hours=6),
        services=["mobile-data", "whatsapp"],
        provinces=["PB"],
        districts=["sd-karachi-south"],
        publish=published,
    )


def test_calendar_and_feeds_show_published_events_only(client, world):
    shown = make(world, "Polling day")
    make(world, "Draft order", published=False)
    page = client.get("/events/").content.decode()
    assert "Polling day" in page and "Draft order" not in page and "Punjab" in page and "WhatsApp" in page
    feed = client.get("/events.json").json()["events"]
    assert [e["id"] for e in feed] == [shown.pk]
    assert feed[0]["provinces"] == ["PB"] and feed[0]["districts"] == ["sd-karachi-south"]
    ics = client.get("/events.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    events = [c for c in Calendar.from_ical(ics.content).walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["Polling day"]
    assert events[0].decoded("dtstart") == shown.starts_at
    assert "Karachi South, Sindh" in str(events[0]["location"])


def test_calendar_and_its_feed_name_places_and_services_in_the_readers_language(client, world):
    from vpnregistry.accounts.models import District, Province
    from vpnregistry.restrictions.models import Service

    Province.objects.filter(code="PB").update(name_ur="پنجاب")
    Province.objects.filter(code="SD").update(name_ur="سندھ")
    District.objects.filter(code="sd-karachi-south").update(name_ur="کراچی جنوبی")
    Service.objects.filter(code="whatsapp").update(name_ur="واٹس ایپ")
    make(world, "Polling day")
    client.cookies["django_language"] = "ur"
    page = client.get("/events/").content.decode()
    assert "پنجاب" in page and "کراچی جنوبی" in page and "واٹس ایپ" in page
    assert "Punjab" not in page and "WhatsApp" not in page
    event = next(iter(Calendar.from_ical(client.get("/events.ics").content).walk("VEVENT")))
    assert str(event["location"]) == "پنجاب، کراچی جنوبی، سندھ"
    assert "واٹس ایپ" in str(event["description"])


def test_officers_see_drafts_on_the_calendar(client, world):
    make(world, "Draft order", published=False)
    login(client, world.officer)
    assert "Draft order" in client.get("/events/").content.decode()


def test_officer_records_an_event_from_the_portal(client, world):
    login(client, world.officer)
    response = client.post(
        "/events/new/",
        {
            "title": "Ashura",
            "legal_reference": "Order 9/2026",
            "services": ["mobile-data"],
            "provinces": ["SD"],
            "starts_at": "2026-12-20T06:00",
            "ends_at": "2026-12-21T00:00",
            "publish": "on",
        },
    )
    assert response.status_code == 302
    event = RestrictionEvent.objects.get()
    assert event.published_at and event.starts_at.isoformat() == "2026-12-20T01:00:00+00:00"


def test_bad_event_form_names_the_fields_and_saves_nothing(client, world):
    login(client, world.officer)
    response = client.post(
        "/events/new/",
        {"title": "", "legal_reference": "x", "starts_at": "2026-12-20T06:00", "ends_at": "2026-12-19T00:00"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A title is required" in html and "The end must come after the start" in html
    assert "An event is national, or names provinces or districts" in html
    assert not RestrictionEvent.objects.exists()


def test_only_officers_open_the_form(client, world):
    for user in (world.applicant, world.operator, world.auditor):
        login(client, user)
        assert client.get("/events/new/").status_code == 404
