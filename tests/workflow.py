"""Helpers that walk an application through the workflow by the services, for tests."""

from __future__ import annotations

import itertools

from django.test import TestCase

from vpnregistry.applications import services
from vpnregistry.registrations.models import Registration


def draft(world, *values, user=None, subscriber_id="SUB-1"):
    return services.application_create(
        actor=user or world.applicant,
        resources=[{"value": v, "subscriber_id": subscriber_id} for v in values],
    )


_references = itertools.count(1)


def attested(world, *values, user=None):
    """A submitted, verified and attested application: awaiting the fee or the officer."""
    application = draft(world, *values, user=user)
    services.application_submit(actor=user or world.applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    for resource in application.resources.all():
        staff = world.operator if resource.operator_id == world.indus.pk else world.other_operator
        services.resource_attest(actor=staff, resource=resource, decision="approve")
    application.refresh_from_db()
    return application


def pay(world, application):
    """The fee paid: an officer other than the one who decides in these helpers records it."""
    services.payment_record(
        actor=world.officer2, application=application, reference=f"PAY-{next(_references)}"
    )
    application.refresh_from_db()
    return application


def to_decision(world, *values, user=None):
    """A submitted, verified and attested application, its fee paid if it had one: awaiting the officer."""
    application = attested(world, *values, user=user)
    if application.state == "awaiting_payment":
        pay(world, application)
    return application


def approved(world, *values, user=None):
    """Approved and published (the publication runs on commit, which tests must trigger)."""
    application = to_decision(world, *values, user=user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.application_decide(
            actor=world.officer, application=application, decision="approve", reason="ok"
        )
    application.refresh_from_db()
    return application


def registration(world, value="14.1.105.0/24", user=None) -> Registration:
    """The registration of `value`, approved and published."""
    approved(world, value, user=user)
    return Registration.objects.get(value=value)
