"""Recording and publishing restriction events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import District, Province, Role
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.restrictions.models import RestrictionEvent, Service
from vpnregistry.timeutil import parse_time


def _codes(values: Iterable[str] | None) -> list[str]:
    return sorted({str(v).strip() for v in values or [] if str(v).strip()})


def event_create(
    *,
    actor,
    title: str,
    legal_reference: str,
    starts_at,
    ends_at,
    services: Iterable[str],
    national: bool = False,
    provinces: Iterable[str] = (),
    districts: Iterable[str] = (),
    description: str = "",
    publish: bool = False,
) -> RestrictionEvent:
    """Record an event (an officer's act); times without an offset are read in the registry's zone."""
    if getattr(actor, "role", None) != Role.OFFICER:
        raise NotAllowed(_("Only a regulator officer records restriction events."))
    errors: dict[str, list[str]] = {}
    title, legal_reference = (title or "").strip(), (legal_reference or "").strip()
    if not title:
        errors["title"] = [_("A title is required.")]
    if not legal_reference:
        errors["legal_reference"] = [_("The order's legal reference is required.")]
    start, end = _times(starts_at, ends_at, errors)
    found_services, found_provinces, found_districts = _scope(
        services, national, provinces, districts, errors
    )
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        event = RestrictionEvent.objects.create(
            title=title,
            legal_reference=legal_reference,
            description=(description or "").strip(),
            national=national,
            starts_at=start,
            ends_at=end,
            created_by=actor,
        )
        event.services.set(found_services)
        event.provinces.set(found_provinces)
        event.districts.set(found_districts)
        record(actor=actor, action="event.create", obj=event, at=now, data=_summary(event))
        if publish:
            _publish(actor, event, now)
    return event


def _times(starts_at, ends_at, errors: dict) -> tuple[datetime | None, datetime | None]:
    """The event's start and end, to the whole second; None, with the reason in `errors`, where bad."""
    start = end = None
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            # Orders are given to the minute; whole seconds keep every feed (iCalendar too) exact.
            parsed = parse_time(value).replace(microsecond=0)
        except ValueError as exc:
            errors[field] = [str(exc)]
        else:
            start, end = (parsed, end) if field == "starts_at" else (start, parsed)
    if start and end and end <= start:
        errors["ends_at"] = [_("The end must come after the start.")]
    return start, end


def _scope(
    services: Iterable[str] | None,
    national: bool,
    provinces: Iterable[str] | None,
    districts: Iterable[str] | None,
    errors: dict,
) -> tuple[list[Service], list[Province], list[District]]:
    """The services, provinces and districts named by their codes; an unknown code, no service, or a
    scope both national and local or neither, is a reason in `errors`."""
    service_codes, province_codes, district_codes = _codes(services), _codes(provinces), _codes(districts)
    found_services = list(Service.objects.filter(code__in=service_codes))
    found_provinces = list(Province.objects.filter(code__in=province_codes))
    found_districts = list(District.objects.filter(code__in=district_codes))
    if not service_codes:
        errors["services"] = [_("Name at least one service the order restricts.")]
    for field, codes, found in (
        ("services", service_codes, found_services),
        ("provinces", province_codes, found_provinces),
        ("districts", district_codes, found_districts),
    ):
        unknown = sorted(set(codes) - {obj.code for obj in found})
        if unknown:
            errors.setdefault(field, []).append(
                _("Unknown codes: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
    if not national and not province_codes and not district_codes:
        errors["scope"] = [_("An event is national, or names provinces or districts.")]
    if national and (province_codes or district_codes):
        errors["scope"] = [_("A national event names no provinces or districts.")]
    return found_services, found_provinces, found_districts


def _summary(event: RestrictionEvent) -> dict:
    return {
        "title": event.title,
        "legal_reference": event.legal_reference,
        "national": event.national,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "services": sorted(event.services.values_list("code", flat=True)),
        "provinces": sorted(event.provinces.values_list("code", flat=True)),
        "districts": sorted(event.districts.values_list("code", flat=True)),
    }


def _publish(actor, event: RestrictionEvent, at: datetime) -> None:
    event.published_at = at
    event.save(update_fields=["published_at"])
    record(actor=actor, action="event.publish", obj=event, at=at, to_state="published")


def event_publish(*, actor, event: RestrictionEvent) -> RestrictionEvent:
    """Make a recorded event public: the calendar, the feeds and exemption answers show it from now on."""
    if getattr(actor, "role", None) != Role.OFFICER:
        raise NotAllowed(_("Only a regulator officer publishes restriction events."))
    with transaction.atomic():
        event = RestrictionEvent.objects.select_for_update().get(pk=event.pk)
        if event.published_at is not None:
            raise WrongState(_("This event is published already."))
        _publish(actor, event, timezone.now())
    return event
