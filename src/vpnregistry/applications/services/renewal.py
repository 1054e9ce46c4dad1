"""Renewal: a draft application copied from registrations, approved like any other."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.applications.models import (
    Application,
    Resource,
)
from vpnregistry.applications.services.common import LIVE, State, require_role
from vpnregistry.applications.services.decision import suspension_notes
from vpnregistry.applications.services.resources import (
    clean_resources,
    declare_porting,
    resource_items,
    resource_row,
)
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.registrations.models import Registration


def registrations_renew(*, actor, registrations) -> Application:
    """A draft application copied from the organisation's registrations, to renew them.

    Approved, it replaces each of them without a gap (see registrations/services.py). A registration
    can have one renewal under way at a time; an active, expired or suspended one can be renewed. A
    suspended one's renewal carries the suspension and its reason in its history, and only an officer
    acknowledging the suspension approves it (application_decide).
    """
    require_role(actor, Role.APPLICANT)
    registrations = list(registrations)
    if not registrations:
        raise InvalidInput({"registrations": [_("Name at least one registration to renew.")]})
    _check_renewable(actor, registrations)
    now = timezone.now()
    with transaction.atomic():
        ids = [r.pk for r in registrations]
        locked = list(Registration.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
        under_way = (
            Resource.objects.filter(renews_id__in=ids)
            .filter(LIVE)
            .exclude(application__state__in=[State.APPROVED, State.REJECTED, State.WITHDRAWN])
            .select_related("renews", "application")
            .first()
        )
        if under_way is not None:
            raise WrongState(
                _("%(ref)s has a renewal under way already: %(app)s.")
                % {"ref": under_way.renews.reference, "app": under_way.application}
            )
        by_id = {r.pk: r for r in locked}
        originals = [
            Resource.objects.select_related("operator", "district", "porting").get(pk=by_id[pk].resource_id)
            for pk in ids
        ]
        cleaned = clean_resources(organisation=actor.organisation, items=resource_items(originals))
        application = Application.objects.create(
            organisation=actor.organisation,
            category=actor.organisation.category,
            created_by=actor,
            state=State.DRAFT,
        )
        rows = Resource.objects.bulk_create(
            [resource_row(application, c, renews=by_id[pk]) for c, pk in zip(cleaned, ids, strict=True)]
        )
        declare_porting(rows, cleaned)
        suspended = suspension_notes(locked)
        data = {"renews": [by_id[pk].reference for pk in ids], "resources": [c.value for c in cleaned]}
        if suspended:
            data["suspended"] = suspended
        record(
            actor=actor,
            action="application.renew",
            obj=application,
            to_state=State.DRAFT,
            reason="\n".join(suspended),
            at=now,
            data=data,
        )
    return application


def _check_renewable(actor, registrations) -> None:
    """Only the organisation's own registrations, active, expired or suspended, are renewed."""
    for registration in registrations:
        if registration.organisation_id != actor.organisation_id:
            raise NotAllowed(_("This registration belongs to another organisation."))
        renewable = {Registration.State.ACTIVE, Registration.State.EXPIRED, Registration.State.SUSPENDED}
        if registration.state not in renewable:
            raise WrongState(
                _("%(ref)s is %(state)s; only an active, expired or suspended registration can be renewed.")
                % {"ref": registration.reference, "state": registration.get_state_display()}
            )
