"""Review: the agency's verification of the applicant, each operator's attestation of its resources,
and the move on once both are in (to payment when the fee rule applies, else to a decision)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.applications.fees import fee_for
from vpnregistry.applications.models import (
    Application,
    Attestation,
    Resource,
    Review,
)
from vpnregistry.applications.services.common import (
    LIVE,
    State,
    add_review,
    clean_decision,
    not_the_rejecter,
    reject,
    rejection_reason,
    require_role,
    return_to_applicant,
    stepping,
    system_reason,
    transition,
)
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState


def _advance(*, actor, application: Application, at: datetime) -> None:
    """Move on once agency verification and every operator attestation are in; the fee comes first."""
    resources = list(application.resources.filter(LIVE).values_list("state", flat=True))
    if resources and all(s == Resource.State.REFUSED for s in resources):
        reject(
            actor=actor,
            application=application,
            reason=_("Every resource was refused by its operator."),
            code=system_reason("resources-refused"),
            stage="operators",
            at=at,
        )
        return
    if application.verified_at and Resource.State.PENDING not in resources:
        fee = fee_for(application)
        application.fee_addresses = fee.requested
        application.fee_amount = fee.amount
        # A payment once recorded covers the application's later rounds.
        if fee.due and not application.payment_reference:
            transition(
                actor=actor,
                application=application,
                to_state=State.AWAITING_PAYMENT,
                action="application.fee",
                at=at,
                data={"addresses": fee.requested, "registered": fee.registered, "amount": str(fee.amount)},
            )
        else:
            transition(
                actor=actor,
                application=application,
                to_state=State.AWAITING_DECISION,
                action="application.ready",
                at=at,
            )
    elif application.state == State.SUBMITTED:
        transition(
            actor=actor, application=application, to_state=State.IN_REVIEW, action="application.review", at=at
        )


def application_verify(
    *, actor, application: Application, decision: str, reason: str = "", reason_code: str = ""
) -> Application:
    """The agency's verification of the applicant: approve lets it go on, reject ends it, return
    sends it back to the applicant to edit and resubmit."""
    require_role(actor, Role.AGENCY)
    decision, reason = clean_decision(decision, reason)
    code = rejection_reason(reason_code) if decision == "reject" else None
    with stepping(application) as (application, now):
        if application.agency_id != actor.agency_id:
            raise NotAllowed(_("This application is routed to another agency."))
        if application.state not in {State.SUBMITTED, State.IN_REVIEW} or application.verified_at:
            raise WrongState(_("This application is not waiting for verification."))
        not_the_rejecter(actor, application, Review.Stage.AGENCY)
        add_review(actor, application, Review.Stage.AGENCY, decision=decision, reason=reason, at=now)
        if decision == "reject":
            reject(actor=actor, application=application, reason=reason, code=code, stage="agency", at=now)
        elif decision == "return":
            return_to_applicant(actor=actor, application=application, reason=reason, stage="agency", at=now)
        else:
            application.verified_at = now
            application.verified_by = actor
            record(
                actor=actor,
                action="application.verify",
                obj=application,
                reason=reason,
                at=now,
                from_state=application.state,
                to_state=application.state,
            )
            application.save(update_fields=["verified_at", "verified_by"])
            _advance(actor=actor, application=application, at=now)
    return application


def _attest(*, actor, application: Application, resource: Resource, decision: str, reason: str, at) -> None:
    """Record one attestation; the caller holds the locks and checks the role."""
    if resource.operator_id != actor.operator_id:
        raise NotAllowed(_("This resource is not in your address space."))
    if application.state not in {State.SUBMITTED, State.IN_REVIEW}:
        raise WrongState(_("This application is not waiting for attestations."))
    if resource.state != Resource.State.PENDING:
        raise WrongState(_("This resource has been attested already."))
    Attestation.objects.create(
        resource=resource,
        operator_id=actor.operator_id,
        decision=decision,
        reason=reason,
        attested_by=actor,
        at=at,
    )
    from_state = resource.state
    resource.state = Resource.State.CONFIRMED if decision == "approve" else Resource.State.REFUSED
    resource.save(update_fields=["state"])
    record(
        actor=actor,
        action="resource.attest",
        obj=resource,
        from_state=from_state,
        to_state=resource.state,
        reason=reason,
        at=at,
        data={"value": resource.value, "application": application.tracking_number},
    )


def resource_attest(*, actor, resource: Resource, decision: str, reason: str = "") -> Resource:
    """The operator's yes or no on one resource in its space; a no drops that resource alone."""
    require_role(actor, Role.OPERATOR)
    decision, reason = clean_decision(decision, reason, allowed=("approve", "reject"))
    with stepping(resource.application) as (application, now):
        resource = Resource.objects.select_for_update(of=("self",)).get(pk=resource.pk)
        _attest(
            actor=actor, application=application, resource=resource, decision=decision, reason=reason, at=now
        )
        _advance(actor=actor, application=application, at=now)
    return resource


MAX_BULK_ATTEST = 1000


def resources_attest(*, actor, resource_ids, decision: str, reason: str = "") -> list[Resource]:
    """The same yes or no on many resources at once: all of them are recorded, or none.

    Ids that are not pending resources in the operator's own space are named and refuse the lot.
    """
    require_role(actor, Role.OPERATOR)
    decision, reason = clean_decision(decision, reason, allowed=("approve", "reject"))
    _check_ids(resource_ids)
    now = timezone.now()
    with transaction.atomic():
        applications, resources = _lock_for_attestation(actor, resource_ids)
        unknown = [i for i in resource_ids if i not in resources]
        if unknown:
            raise InvalidInput(
                {
                    "resources": [
                        _("%(id)d is not a resource in your address space or numbering.") % {"id": i}
                        for i in unknown
                    ]
                }
            )
        stale = [
            r.pk
            for r in resources.values()
            if r.state != Resource.State.PENDING
            or applications[r.application_id].state not in {State.SUBMITTED, State.IN_REVIEW}
        ]
        if stale:
            raise WrongState(
                _("These resources are not waiting for an attestation: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(stale))}
            )
        for pk in resource_ids:
            resource = resources[pk]
            _attest(
                actor=actor,
                application=applications[resource.application_id],
                resource=resource,
                decision=decision,
                reason=reason,
                at=now,
            )
        for application in applications.values():
            _advance(actor=actor, application=application, at=now)
    return [resources[pk] for pk in resource_ids]


def _check_ids(resource_ids) -> None:
    """A bulk attestation's ids: a list of distinct positive whole numbers, not too many."""
    if not isinstance(resource_ids, list | tuple) or not resource_ids:
        raise InvalidInput({"resources": [_("Choose at least one resource.")]})
    if len(resource_ids) > MAX_BULK_ATTEST:
        raise InvalidInput({"resources": [_("At most %(n)d resources at once.") % {"n": MAX_BULK_ATTEST}]})
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in resource_ids):
        raise InvalidInput({"resources": [_("Resource ids are positive whole numbers.")]})
    if len(set(resource_ids)) != len(resource_ids):
        raise InvalidInput({"resources": [_("A resource id is repeated.")]})


def _lock_for_attestation(actor, resource_ids) -> tuple[dict, dict]:
    """The submitted applications and the operator's own resources among the ids, locked: (applications
    by id, resources by id)."""
    # Applications first, then resources, each in id order: two bulk attestations cannot deadlock.
    app_ids = sorted(
        set(
            Resource.objects.filter(pk__in=resource_ids, operator_id=actor.operator_id)
            .filter(application__submitted_at__isnull=False)
            .values_list("application_id", flat=True)
        )
    )
    applications = {
        a.pk: a
        for a in Application.objects.select_for_update(of=("self",)).filter(pk__in=app_ids).order_by("pk")
    }
    resources = {
        r.pk: r
        for r in Resource.objects.select_for_update(of=("self",))
        .filter(pk__in=resource_ids, operator_id=actor.operator_id, application_id__in=app_ids)
        .order_by("pk")
    }
    return applications, resources
