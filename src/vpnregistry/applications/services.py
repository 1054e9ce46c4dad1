"""The application workflow: every transition is one function here, audited and notified."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import District, Operator, Organisation, Role
from vpnregistry.accounts.selectors import operator_for_network
from vpnregistry.allowlist.services import request_publication
from vpnregistry.applications.models import Application, Attestation, Resource, Review, TrackingCounter
from vpnregistry.applications.notifications import notify_transition
from vpnregistry.applications.status import issue_status_secret
from vpnregistry.audit.services import record
from vpnregistry.db import Network, network_keys, serialise
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.registrations.selectors import conflicting_registration
from vpnregistry.registrations.services import create_registrations

State = Application.State
DECISIONS = ("approve", "reject")
MAX_RESOURCES = 1000


@dataclass(frozen=True)
class CleanResource:
    net: Network
    operator: Operator
    subscriber_id: str
    district: District | None = None


def clean_resources(*, organisation: Organisation, items: Iterable[Mapping]) -> list[CleanResource]:
    """Check every resource asked for; refuse the lot, naming each bad one, or return them all."""
    items = list(items)
    if not items:
        raise InvalidInput({"resources": [_("At least one resource is required.")]})
    if len(items) > MAX_RESOURCES:
        raise InvalidInput(
            {"resources": [_("At most %(n)d resources in one application.") % {"n": MAX_RESOURCES}]}
        )
    category = organisation.category
    codes = {str(item.get("district") or "").strip() for item in items if isinstance(item, Mapping)} - {""}
    districts = {d.code: d for d in District.objects.filter(code__in=codes)} if codes else {}
    cleaned: list[CleanResource | None] = []
    errors: list[dict] = []
    for _index, item in enumerate(items):
        error: dict[str, list[str]] = {}
        if not isinstance(item, Mapping):
            errors.append({"value": [_("Each resource must be an object with a value and a subscriber_id.")]})
            cleaned.append(None)
            continue
        value = str(item.get("value") or "").strip()
        subscriber_id = str(item.get("subscriber_id") or "").strip()
        if not subscriber_id:
            error["subscriber_id"] = [
                _("The subscriber ID is required: the customer or account number on the bill.")
            ]
        elif len(subscriber_id) > 64:
            error["subscriber_id"] = [_("The subscriber ID is longer than 64 characters.")]
        district = None
        if code := str(item.get("district") or "").strip():
            district = districts.get(code)
            if district is None:
                error["district"] = [
                    _("%(code)s is not a district code (see /api/v1/districts/).") % {"code": code}
                ]
        entry = None
        try:
            net = check_prefix(value, min_len_v4=category.min_len_v4, min_len_v6=category.min_len_v6)
        except ParseError as exc:
            error["value"] = [str(exc)]
        else:
            operator = operator_for_network(net)
            clash = next(
                (i for i, other in enumerate(cleaned) if other is not None and other.net.overlaps(net)), None
            )
            if operator is None:
                error["value"] = [_("%(net)s is in no operator's address space.") % {"net": net}]
            elif clash is not None:
                error["value"] = [
                    _("%(net)s overlaps resource %(n)d (%(other)s) of this application.")
                    % {"net": net, "n": clash + 1, "other": cleaned[clash].net}
                ]
            elif (other := conflicting_registration(net=net, organisation=organisation)) is not None:
                error["value"] = [
                    _("%(net)s overlaps %(other)s, registered to another organisation.")
                    % {"net": net, "other": other.value}
                ]
            else:
                entry = CleanResource(
                    net=net, operator=operator, subscriber_id=subscriber_id, district=district
                )
        cleaned.append(None if error else entry)
        errors.append(error)
    if any(errors):
        raise InvalidInput({"resources": errors})
    return [c for c in cleaned if c is not None]


def _transition(
    *,
    actor,
    application: Application,
    to_state: str,
    action: str,
    reason: str = "",
    at: datetime,
    data: dict | None = None,
) -> None:
    from_state = application.state
    application.state = to_state
    application.version = F("version") + 1
    application.save()
    application.refresh_from_db(fields=["version"])
    record(
        actor=actor,
        action=action,
        obj=application,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
        at=at,
    )
    transaction.on_commit(
        lambda: notify_transition(
            application=application, from_state=from_state, to_state=to_state, reason=reason
        )
    )


def _locked(application: Application) -> Application:
    """Re-read the application under a row lock, so that two steps on it cannot interleave."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("organisation", "category")
        .get(pk=application.pk)
    )


def _require(actor, role: str) -> None:
    if getattr(actor, "role", None) != role:
        raise NotAllowed(_("Only a user with the %(role)s role can do this.") % {"role": role})


def _clean_decision(decision: str, reason: str, *, allowed=DECISIONS) -> tuple[str, str]:
    reason = (reason or "").strip()
    if decision not in allowed:
        raise InvalidInput(
            {"decision": [_("Must be one of: %(choices)s.") % {"choices": ", ".join(allowed)}]}
        )
    if decision == "reject" and not reason:
        raise InvalidInput({"reason": [_("A rejection needs a reason.")]})
    return decision, reason


def create_application(*, actor, resources: Iterable[Mapping]) -> Application:
    """A draft for the actor's organisation, with its resources checked and their operators found."""
    _require(actor, Role.APPLICANT)
    organisation = actor.organisation
    cleaned = clean_resources(organisation=organisation, items=resources)
    now = timezone.now()
    with transaction.atomic():
        application = Application.objects.create(
            organisation=organisation, category=organisation.category, created_by=actor, state=State.DRAFT
        )
        _add_resources(application, cleaned)
        record(
            actor=actor,
            action="application.create",
            obj=application,
            to_state=State.DRAFT,
            at=now,
            data={"resources": [str(c.net) for c in cleaned]},
        )
    return application


def _add_resources(application: Application, cleaned: list[CleanResource]) -> None:
    rows = []
    for c in cleaned:
        family, first, last = network_keys(c.net)
        rows.append(
            Resource(
                application=application,
                kind=f"ipv{family}",
                value=str(c.net),
                family=family,
                first=first,
                last=last,
                operator=c.operator,
                subscriber_id=c.subscriber_id,
                district=c.district,
            )
        )
    Resource.objects.bulk_create(rows)


def _next_tracking_number(at: datetime) -> str:
    year = timezone.localtime(at).year
    TrackingCounter.objects.get_or_create(year=year)
    counter = TrackingCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"VR-{year}-{counter.last:06d}"


def submit_application(*, actor, application: Application) -> Application:
    """Send a draft (or a returned application) to the agency its category routes to."""
    _require(actor, Role.APPLICANT)
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        if application.organisation_id != actor.organisation_id:
            raise NotAllowed(_("This application belongs to another organisation."))
        if application.state not in {State.DRAFT, State.RETURNED}:
            raise WrongState(_("Only a draft or a returned application can be submitted."))
        # Conflicts may have appeared since the draft was made: check again.
        clean_resources(
            organisation=application.organisation,
            items=[
                {
                    "value": r.value,
                    "subscriber_id": r.subscriber_id,
                    "district": r.district.code if r.district else "",
                }
                for r in application.resources.select_related("district")
            ],
        )
        if not application.tracking_number:
            application.tracking_number = _next_tracking_number(now)
            # For the public status page; only its hash is kept, the secret is shown once (status.py).
            application.status_secret = issue_status_secret(application)
        application.agency = application.category.agency
        application.submitted_at = now
        _transition(
            actor=actor,
            application=application,
            to_state=State.SUBMITTED,
            action="application.submit",
            at=now,
            data={"agency": application.agency.code},
        )
    return application


def _advance(*, actor, application: Application, at: datetime) -> None:
    """Move on once agency verification and every operator attestation are in."""
    resources = list(application.resources.values_list("state", flat=True))
    if resources and all(s == Resource.State.REFUSED for s in resources):
        _transition(
            actor=actor,
            application=application,
            to_state=State.REJECTED,
            action="application.reject",
            reason=_("Every resource was refused by its operator."),
            at=at,
        )
        return
    if application.verified_at and Resource.State.PENDING not in resources:
        _transition(
            actor=actor,
            application=application,
            to_state=State.AWAITING_DECISION,
            action="application.ready",
            at=at,
        )
    elif application.state == State.SUBMITTED:
        _transition(
            actor=actor, application=application, to_state=State.IN_REVIEW, action="application.review", at=at
        )


def verify_application(*, actor, application: Application, decision: str, reason: str = "") -> Application:
    """The agency's verification of the applicant: approve lets it go on, reject ends it."""
    _require(actor, Role.AGENCY)
    decision, reason = _clean_decision(decision, reason)
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        if application.agency_id != actor.agency_id:
            raise NotAllowed(_("This application is routed to another agency."))
        if application.state not in {State.SUBMITTED, State.IN_REVIEW} or application.verified_at:
            raise WrongState(_("This application is not waiting for verification."))
        Review.objects.create(
            application=application,
            stage=Review.Stage.AGENCY,
            decision=decision,
            reason=reason,
            reviewer=actor,
            at=now,
        )
        if decision == "reject":
            application.decided_at = now
            application.decision_reason = reason
            _transition(
                actor=actor,
                application=application,
                to_state=State.REJECTED,
                action="application.reject",
                reason=reason,
                at=now,
                data={"stage": "agency"},
            )
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


def attest_resource(*, actor, resource: Resource, decision: str, reason: str = "") -> Resource:
    """The operator's yes or no on one resource in its space; a no drops that resource alone."""
    _require(actor, Role.OPERATOR)
    decision, reason = _clean_decision(decision, reason)
    now = timezone.now()
    with transaction.atomic():
        application = _locked(resource.application)
        resource = Resource.objects.select_for_update(of=("self",)).get(pk=resource.pk)
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
            at=now,
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
            at=now,
            data={"value": resource.value, "application": application.tracking_number},
        )
        _advance(actor=actor, application=application, at=now)
    return resource


def decide_application(*, actor, application: Application, decision: str, reason: str = "") -> Application:
    """The regulator's decision. Approval registers every confirmed resource and republishes."""
    _require(actor, Role.OFFICER)
    decision, reason = _clean_decision(decision, reason)
    now = timezone.now()
    with transaction.atomic():
        # Approvals are serialised: of two overlapping applications only the first can win.
        serialise("approval")
        application = _locked(application)
        if application.state != State.AWAITING_DECISION:
            raise WrongState(_("This application is not awaiting a decision."))
        if application.verified_by_id == actor.pk:
            raise NotAllowed(_("You verified this application; another officer must decide it."))
        Review.objects.create(
            application=application,
            stage=Review.Stage.DECISION,
            decision=decision,
            reason=reason,
            reviewer=actor,
            at=now,
        )
        application.decided_at = now
        application.decided_by = actor
        application.decision_reason = reason
        if decision == "approve":
            confirmed = application.resources.filter(state=Resource.State.CONFIRMED)
            clashes = {}
            for resource in confirmed:
                other = conflicting_registration(
                    net=resource_network(resource), organisation=application.organisation
                )
                if other is not None:
                    clashes[resource.value] = [
                        _(
                            "%(net)s overlaps %(other)s, registered to another organisation since this was "
                            "submitted."
                        )
                        % {"net": resource.value, "other": other.value}
                    ]
            if clashes:
                raise WrongState("; ".join(m for msgs in clashes.values() for m in msgs))
            registrations = create_registrations(actor=actor, application=application, at=now)
            _transition(
                actor=actor,
                application=application,
                to_state=State.APPROVED,
                action="application.approve",
                reason=reason,
                at=now,
                data={"registrations": [r.pk for r in registrations]},
            )
            request_publication(reason=f"approval of {application.tracking_number}")
        else:
            _transition(
                actor=actor,
                application=application,
                to_state=State.REJECTED,
                action="application.reject",
                reason=reason,
                at=now,
                data={"stage": "decision"},
            )
    return application


def resource_network(resource: Resource) -> Network:
    return ipaddress.ip_network(resource.value)
