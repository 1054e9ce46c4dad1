"""Reads about registrations: conflicts, what is active when, who holds what."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from vpnregistry.accounts.models import Organisation
from vpnregistry.db import Network, overlapping_q
from vpnregistry.registrations.models import Registration


def active_at_q(at: datetime) -> Q:
    return Q(state=Registration.State.ACTIVE, valid_from__lte=at, valid_until__gt=at)


def conflicting_registration(*, net: Network, organisation: Organisation) -> Registration | None:
    """An active registration of another organisation that shares an address with `net`."""
    return (
        Registration.objects.filter(overlapping_q(net), state=Registration.State.ACTIVE)
        .exclude(organisation=organisation)
        .only("id", "value", "reference")
        .first()
    )


def conflicting_number(*, number: str, organisation: Organisation) -> Registration | None:
    """An active registration of the same mobile number (E.164) by another organisation."""
    return (
        Registration.objects.filter(kind="msisdn", value=number, state=Registration.State.ACTIVE)
        .exclude(organisation=organisation)
        .only("id", "value", "reference")
        .first()
    )


# What a registration is shown with, read in the same query.
REGISTRATION_RELATED = ("organisation", "operator")


def suspended_held(organisation_id, resources) -> list[Registration]:
    """The organisation's suspended registrations that `resources` renew or overlap (the same
    number, for a mobile number): asking for them again, by a renewal or by a new application,
    would lift the suspension, which only an officer who acknowledges it may do.

    One query for the organisation's suspended registrations (an index seek; most have none), then
    each resource compared with them by its address keys.
    """
    suspended = list(
        Registration.objects.filter(
            organisation_id=organisation_id, state=Registration.State.SUSPENDED
        ).order_by("pk")
    )
    if not suspended:
        return []
    held: dict[int, Registration] = {}
    for resource in resources:
        for registration in suspended:
            if (
                resource.renews_id == registration.pk
                or (
                    resource.family is None
                    and registration.family is None
                    and resource.value == registration.value
                )
                or (
                    resource.family is not None
                    and resource.family == registration.family
                    and resource.first <= registration.last
                    and registration.first <= resource.last
                )
            ):
                held[registration.pk] = registration
    return [held[pk] for pk in sorted(held)]


@dataclass(frozen=True)
class Conflict:
    """A resource asked for that another organisation holds (an active registration), for review."""

    resource: str
    registration: str
    value: str
    organisation: str
    valid_until: datetime


def held_by_others(organisation_id, resources) -> list[Conflict]:
    """Active registrations of other organisations that `resources` overlap (the same number, for a
    mobile number): shown to those who review and decide the application, never to the applicant,
    whose answer at entry must not tell whether someone holds a resource.

    One query: the overlap conditions of every resource joined by OR, each an index seek.
    """
    resources = [r for r in resources if r.value]
    if not resources:
        return []
    condition = Q()
    for resource in resources:
        if resource.family is None:
            condition |= Q(kind="msisdn", value=resource.value)
        else:
            condition |= overlapping_q(ipaddress.ip_network(resource.value))
    held = list(
        Registration.objects.filter(condition, state=Registration.State.ACTIVE)
        .exclude(organisation_id=organisation_id)
        .select_related("organisation")
        .order_by("pk")
    )
    conflicts = []
    for resource in resources:
        for registration in held:
            if (
                resource.family is None
                and registration.family is None
                and resource.value == registration.value
            ) or (
                resource.family is not None
                and resource.family == registration.family
                and resource.first <= registration.last
                and registration.first <= resource.last
            ):
                conflicts.append(
                    Conflict(
                        resource=resource.value,
                        registration=registration.reference,
                        value=registration.value,
                        organisation=registration.organisation.name,
                        valid_until=registration.valid_until,
                    )
                )
    return conflicts
