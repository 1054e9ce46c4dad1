"""Restriction events and the registrations they touch, for the tests of events, exemptions,
complaints and statements."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.workflow import approved
from vpnregistry.accounts.models import District
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.restrictions.services import event_create

LAHORE, KARACHI_SOUTH = "pb-lahore", "sd-karachi-south"


def located(world, value, district_code, *, user=None, since_days=30):
    """An approved registration in a district, active since `since_days` ago (history moved back)."""
    application = approved(world, value, user=user)
    registration = Registration.objects.get(resource__application=application, value=value)
    start = timezone.now() - timedelta(days=since_days)
    Registration.objects.filter(pk=registration.pk).update(
        district=District.objects.get(code=district_code), valid_from=start
    )
    ActivePeriod.objects.filter(registration=registration).update(start=start)
    registration.refresh_from_db()
    return registration


def make_event(world, start, end, *, published=True, services=("mobile-data",), **scope):
    scope = scope or {"national": True}
    return event_create(
        actor=world.officer,
        title="Polling day",
        legal_reference="Order 12/2026",
        starts_at=start,
        ends_at=end,
        services=list(services),
        publish=published,
        **scope,
    )
