"""Writes to registrations: creation on approval (the rest of the lifecycle comes with its issue)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.services import record
from vpnregistry.registrations.models import ActivePeriod, Registration


def create_registrations(*, actor, application: Application, at: datetime) -> list[Registration]:
    """Register every confirmed resource of an approved application; the caller holds the approval lock."""
    until = at + timedelta(days=settings.REGISTRATION_VALIDITY_DAYS)
    created = []
    for resource in application.resources.filter(state=Resource.State.CONFIRMED):
        registration = Registration.objects.create(
            resource=resource,
            organisation_id=application.organisation_id,
            operator_id=resource.operator_id,
            kind=resource.kind,
            value=resource.value,
            family=resource.family,
            first=resource.first,
            last=resource.last,
            district_id=resource.district_id,
            state=Registration.State.ACTIVE,
            valid_from=at,
            valid_until=until,
        )
        ActivePeriod.objects.create(registration=registration, start=at, end=until)
        record(
            actor=actor,
            action="registration.create",
            obj=registration,
            to_state=registration.state,
            data={
                "value": registration.value,
                "application": application.tracking_number,
                "valid_until": until.isoformat(),
            },
            at=at,
        )
        created.append(registration)
    return created


def end_activity(*, registration: Registration, at: datetime) -> None:
    """Close the registration's current active period at `at` (suspension, revocation, surrender)."""
    ActivePeriod.objects.filter(registration=registration, start__lte=at, end__gt=at).update(end=at)


def resume_activity(*, registration: Registration, at: datetime) -> None:
    """Open a new active period from `at` to the end of validity (reinstatement)."""
    if at < registration.valid_until:
        ActivePeriod.objects.create(registration=registration, start=at, end=registration.valid_until)
