"""An appeal of a rejection, once, within its window, and an officer's decision on it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.applications.models import (
    Application,
    Resource,
    Review,
)
from vpnregistry.applications.services.common import (
    APPEAL_DECISIONS,
    State,
    add_review,
    clean_decision,
    require_own,
    require_role,
    stepping,
    transition,
)
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState


def application_appeal(*, actor, application: Application, grounds: str) -> Application:
    """The applicant appeals a rejection, once, within the appeal window, giving its grounds."""
    require_role(actor, Role.APPLICANT)
    grounds = (grounds or "").strip()
    if not grounds:
        raise InvalidInput({"grounds": [_("An appeal needs its grounds.")]})
    if len(grounds) > 5000:
        raise InvalidInput({"grounds": [_("The grounds are longer than 5000 characters.")]})
    with stepping(application) as (application, now):
        require_own(actor, application)
        if application.state != State.REJECTED:
            raise WrongState(_("Only a rejected application can be appealed."))
        if application.appealed_at:
            raise WrongState(_("This application was appealed already; the appeal's decision is final."))
        deadline = application.decided_at + timedelta(days=settings.APPEAL_DAYS)
        if now > deadline:
            raise WrongState(
                _("The time to appeal ended on %(date)s.") % {"date": timezone.localtime(deadline).date()}
            )
        application.appeal_grounds = grounds
        application.appealed_at = now
        transition(
            actor=actor,
            application=application,
            to_state=State.APPEALED,
            action="application.appeal",
            reason=grounds,
            at=now,
        )
    return application


def appeal_decide(*, actor, application: Application, decision: str, reason: str = "") -> Application:
    """An officer other than the one who rejected (or verified) decides the appeal.

    Upheld, the application resumes at the step that rejected it, for a fresh look by someone else:
    a regulator's rejection goes back to awaiting_decision; an agency's back to verification; a
    rejection because every resource was refused sends those resources back to their operators.
    Dismissed, it stays rejected, finally.
    """
    require_role(actor, Role.OFFICER)
    decision, reason = clean_decision(decision, reason, allowed=APPEAL_DECISIONS)
    with stepping(application) as (application, now):
        if application.state != State.APPEALED:
            raise WrongState(_("This application has no appeal waiting."))
        if actor.pk in {application.decided_by_id, application.verified_by_id}:
            raise NotAllowed(
                _("You rejected or verified this application; another officer decides its appeal.")
            )
        add_review(actor, application, Review.Stage.APPEAL, decision=decision, reason=reason, at=now)
        application.appeal_decided_at = now
        application.appeal_decided_by = actor
        if decision == "dismiss":
            transition(
                actor=actor,
                application=application,
                to_state=State.REJECTED,
                action="application.appeal-dismiss",
                reason=reason,
                at=now,
            )
            return application
        stage = application.rejected_at_stage
        to_state = _reopen(actor, application, stage=stage, reason=reason, at=now)
        transition(
            actor=actor,
            application=application,
            to_state=to_state,
            action="application.appeal-uphold",
            reason=reason,
            at=now,
            data={"stage": stage},
        )
    return application


def _reopen(actor, application: Application, *, stage: str, reason: str, at) -> str:
    """An upheld appeal's application made ready for the step that rejected it; the state it resumes in."""
    application.decided_at = None
    application.decision_reason = ""
    application.rejection_reason = None
    if stage == "decision":
        to_state = State.AWAITING_DECISION
    else:
        to_state = State.IN_REVIEW
        if stage == "agency":
            application.verified_at = None
            application.verified_by = None
        else:
            for resource in application.resources.filter(state=Resource.State.REFUSED).select_for_update(
                of=("self",)
            ):
                resource.state = Resource.State.PENDING
                resource.save(update_fields=["state"])
                record(
                    actor=actor,
                    action="resource.reopen",
                    obj=resource,
                    from_state=Resource.State.REFUSED,
                    to_state=Resource.State.PENDING,
                    reason=reason,
                    at=at,
                    data={"value": resource.value, "application": application.tracking_number},
                )
    return to_state
