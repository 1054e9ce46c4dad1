"""The regulator's decision: approval registers every confirmed resource (registrations/services.py)
and asks for a publication; a rejection names a reason; a return sends it back."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.applications.models import (
    Application,
    Resource,
    Review,
)
from vpnregistry.applications.services.common import (
    State,
    add_review,
    clean_decision,
    not_the_rejecter,
    reject,
    rejection_reason,
    require_role,
    return_to_applicant,
    stepping,
    transition,
)
from vpnregistry.applications.services.resources import resource_network
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.registrations.models import Registration
from vpnregistry.registrations.outbox import request_publication
from vpnregistry.registrations.selectors import conflicting_number, conflicting_registration, suspended_held
from vpnregistry.registrations.services import registrations_create


def suspension_notes(registrations) -> list[str]:
    """Each suspended registration named, with when and why it was suspended: for the history,
    the officer's page and the refusal of an approval that does not acknowledge them."""
    return [
        _("%(ref)s (%(value)s) is suspended since %(since)s: %(reason)s")
        % {
            "ref": r.reference,
            "value": r.value,
            "since": f"{timezone.localtime(r.state_changed_at):%Y-%m-%d}" if r.state_changed_at else "?",
            "reason": r.state_reason or _("no reason recorded"),
        }
        for r in registrations
        if r.state == Registration.State.SUSPENDED
    ]


def application_decide(
    *,
    actor,
    application: Application,
    decision: str,
    reason: str = "",
    reason_code: str = "",
    acknowledge_suspension: bool = False,
) -> Application:
    """The regulator's decision. Approval registers every confirmed resource and republishes;
    a rejection names a reason from the regulator's list; a return sends it back to the applicant.

    An application that asks again for what the organisation holds under a suspension (a renewal of
    a suspended registration, or a new application overlapping one) is never approved the ordinary
    way: the officer must acknowledge the suspension (`acknowledge_suspension`) and say why it no
    longer stands (`reason`); the approval's history then names the suspension and its reason."""
    require_role(actor, Role.OFFICER)
    decision, reason = clean_decision(decision, reason)
    code = rejection_reason(reason_code) if decision == "reject" else None
    with stepping(application, serialised=True) as (application, now):
        if application.state != State.AWAITING_DECISION:
            raise WrongState(_("This application is not awaiting a decision."))
        if application.verified_by_id == actor.pk:
            raise NotAllowed(_("You verified this application; another officer must decide it."))
        not_the_rejecter(actor, application, Review.Stage.DECISION)
        add_review(actor, application, Review.Stage.DECISION, decision=decision, reason=reason, at=now)
        if decision == "return":
            return_to_applicant(actor=actor, application=application, reason=reason, stage="decision", at=now)
        elif decision == "approve":
            _approve(actor, application, reason=reason, acknowledge_suspension=acknowledge_suspension, at=now)
        else:
            application.decided_by = actor
            reject(actor=actor, application=application, reason=reason, code=code, stage="decision", at=now)
    return application


def _suspensions_acknowledged(
    application: Application, *, reason: str, acknowledge_suspension: bool
) -> list[str]:
    """The suspensions the approval lifts (notes, empty when none), refused unless the officer
    acknowledges them with a reason."""
    suspended = suspension_notes(
        suspended_held(
            application.organisation_id, application.resources.filter(state=Resource.State.CONFIRMED)
        )
    )
    if suspended and not acknowledge_suspension:
        raise InvalidInput(
            {
                "acknowledge_suspension": [
                    *suspended,
                    _(
                        "This asks again for what the organisation holds under a suspension: "
                        "approve it only acknowledging the suspension, with the reason it no "
                        "longer stands."
                    ),
                ]
            }
        )
    if suspended and not reason:
        raise InvalidInput(
            {"reason": [_("Say why the suspension no longer stands: this approval lifts it.")]}
        )
    return suspended


def _approve(
    actor, application: Application, *, reason: str, acknowledge_suspension: bool, at: datetime
) -> None:
    """Register every confirmed resource, refusing any another organisation holds, and ask for a
    publication; the caller holds the approval lock."""
    suspended = _suspensions_acknowledged(
        application, reason=reason, acknowledge_suspension=acknowledge_suspension
    )
    application.decided_at = at
    application.decided_by = actor
    application.decision_reason = reason
    clashes = [
        message
        for resource in application.resources.filter(state=Resource.State.CONFIRMED)
        if (message := _clash(resource, application.organisation))
    ]
    if clashes:
        raise WrongState("; ".join(clashes))
    registrations = _register(actor, application, suspension_acknowledged=bool(suspended), at=at)
    data = {"registrations": [r.pk for r in registrations]}
    if suspended:
        data["suspensions_acknowledged"] = suspended
    transition(
        actor=actor,
        application=application,
        to_state=State.APPROVED,
        action="application.approve",
        reason="\n".join([reason, *suspended]) if suspended else reason,
        at=at,
        data=data,
    )
    request_publication(reason=f"approval of {application.tracking_number}", application_id=application.pk)


def _register(actor, application: Application, *, suspension_acknowledged: bool, at: datetime) -> list:
    """The registrations of the application's confirmed resources (registrations/services.py)."""
    try:
        with transaction.atomic():
            return registrations_create(
                actor=actor,
                application=application,
                resources=application.resources.filter(state=Resource.State.CONFIRMED).order_by("id"),
                at=at,
                suspension_acknowledged=suspension_acknowledged,
            )
    except IntegrityError:
        # PostgreSQL's exclusion constraint caught an overlap the checks above did not see
        # (a row written outside the approval lock): the same refusal, nothing written.
        raise WrongState(
            _(
                "A resource of this application overlaps an active registration of another "
                "organisation; reject it, or ask the applicant to remove it."
            )
        ) from None


def _clash(resource: Resource, organisation) -> str:
    """The officer's refusal to approve a resource another organisation holds (invariant 3)."""
    if resource.kind == Resource.Kind.MSISDN:
        other = conflicting_number(number=resource.value, organisation=organisation)
    else:
        other = conflicting_registration(net=resource_network(resource), organisation=organisation)
    if other is None:
        return ""
    return _(
        "%(value)s overlaps %(other)s (%(ref)s), registered to another organisation: it cannot be "
        "approved; reject the application with the reason that the resources are registered to "
        "another organisation."
    ) % {"value": resource.value, "other": other.value, "ref": other.reference}
