"""The applicant's steps before review: a draft made, edited, submitted (again, once returned) or
withdrawn."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.documents import require_documents
from vpnregistry.accounts.models import Role, User
from vpnregistry.applications.models import (
    Application,
    Resource,
    TrackingCounter,
)
from vpnregistry.applications.services.common import (
    LIVE,
    State,
    require_own,
    require_role,
    stepping,
    transition,
)
from vpnregistry.applications.services.resources import (
    add_resources,
    clean_resources,
    count_entered,
    declare_porting,
    resource_items,
    resource_row,
)
from vpnregistry.applications.status import issue_status_secret
from vpnregistry.audit.services import record
from vpnregistry.errors import NotAllowed, WrongState
from vpnregistry.notifications.services import notify_users
from vpnregistry.registrations.models import PortingDeclaration

# Before a decision: the applicant may still withdraw.
WITHDRAWABLE = {
    State.DRAFT,
    State.SUBMITTED,
    State.IN_REVIEW,
    State.AWAITING_PAYMENT,
    State.AWAITING_DECISION,
    State.RETURNED,
}


def application_create(*, actor, resources: Iterable[Mapping]) -> Application:
    """A draft for the actor's organisation, with its resources checked and their operators found."""
    require_role(actor, Role.APPLICANT)
    organisation = actor.organisation
    resources = list(resources)
    count_entered(organisation, len(resources))
    cleaned = clean_resources(organisation=organisation, items=resources)
    now = timezone.now()
    with transaction.atomic():
        application = Application.objects.create(
            organisation=organisation, category=organisation.category, created_by=actor, state=State.DRAFT
        )
        add_resources(application, cleaned)
        record(
            actor=actor,
            action="application.create",
            obj=application,
            to_state=State.DRAFT,
            at=now,
            data={"resources": [c.value for c in cleaned]},
        )
    return application


def _next_tracking_number(at: datetime) -> str:
    year = timezone.localtime(at).year
    # Locked as read; the year's first submission makes the row (a racing one re-reads it).
    counter, _created = TrackingCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"VR-{year}-{counter.last:06d}"


def application_submit(*, actor, application: Application) -> Application:
    """Send a draft (or a returned application, for a new round) to the agency its category routes to.

    A new round starts afresh with the agency's verification; resources the applicant left unchanged
    keep their operator's attestation, changed ones wait for a new one.
    """
    require_role(actor, Role.APPLICANT)
    with stepping(application) as (application, now):
        if application.organisation_id != actor.organisation_id:
            raise NotAllowed(_("This application belongs to another organisation."))
        if application.state not in {State.DRAFT, State.RETURNED}:
            raise WrongState(_("Only a draft or a returned application can be submitted."))
        require_documents(application.organisation)
        # Conflicts may have appeared since the draft was made: check again.
        clean_resources(
            organisation=application.organisation,
            items=resource_items(
                application.resources.filter(LIVE).select_related("district", "operator", "porting")
            ),
        )
        resubmission = application.state == State.RETURNED
        if not application.tracking_number:
            application.tracking_number = _next_tracking_number(now)
            # For the public status page; only its hash is kept, the secret is shown once (status.py).
            application.status_secret = issue_status_secret(application)
        application.agency = application.category.agency
        application.submitted_at = now
        application.verified_at = None
        application.verified_by = None
        application.decision_reason = ""
        transition(
            actor=actor,
            application=application,
            to_state=State.SUBMITTED,
            action="application.resubmit" if resubmission else "application.submit",
            at=now,
            data={"agency": application.agency.code},
        )
        _tell_numbering_operators(application, at=now)
    return application


def _tell_numbering_operators(application: Application, *, at: datetime) -> None:
    """Each operator whose numbering holds a number declared ported away is told, once, at submission:
    it may know the number was not ported, and say so to the regulator."""
    declarations = list(
        PortingDeclaration.objects.filter(resource__application=application, notified_at__isnull=True)
        .exclude(resource__state=Resource.State.REMOVED)
        .select_related("resource__operator", "numbering_operator")
    )
    if not declarations:
        return
    PortingDeclaration.objects.filter(pk__in=[d.pk for d in declarations]).update(notified_at=at)
    by_owner: dict[int, list] = {}
    for declaration in declarations:
        by_owner.setdefault(declaration.numbering_operator_id, []).append(declaration)
    number = application.tracking_number

    def subject() -> str:
        return _("%(number)s: numbers declared ported from your numbering") % {"number": number}

    for owner_id, owned in by_owner.items():
        ported = [(d.resource.value, d.resource.operator.code) for d in owned]

        def body(ported=ported) -> str:  # in each staff member's language (notifications.Text)
            line = _("%(value)s: declared ported to %(operator)s")
            lines = "\n".join(line % {"value": value, "operator": code} for value, code in ported)
            return _(
                "Application %(number)s declares numbers of your numbering ported to another "
                "operator:\n%(lines)s\nIf a number was not ported, tell the regulator."
            ) % {"number": number, "lines": lines}

        staff = User.objects.filter(operator_id=owner_id, role=Role.OPERATOR, is_active=True)
        transaction.on_commit(lambda staff=staff, body=body: notify_users(staff, subject=subject, body=body))


def application_withdraw(*, actor, application: Application, reason: str = "") -> Application:
    """The applicant takes its application back, at any time before a decision."""
    require_role(actor, Role.APPLICANT)
    reason = (reason or "").strip()[:2000]
    with stepping(application) as (application, now):
        require_own(actor, application)
        if application.state not in WITHDRAWABLE:
            raise WrongState(_("Only an application not yet decided can be withdrawn."))
        transition(
            actor=actor,
            application=application,
            to_state=State.WITHDRAWN,
            action="application.withdraw",
            reason=reason,
            at=now,
        )
    return application


def resources_replace(*, actor, application: Application, resources: Iterable[Mapping]) -> Application:
    """The applicant's new list of resources for a draft or a returned application.

    Every item is checked as at creation. A resource asked for again unchanged (same value, operator,
    subscriber ID and district) keeps its operator's attestation; any other is new and waits for one.
    Resources left out are marked removed, so that the history of every round stays readable (a
    draft's, never seen by anybody else, are deleted).
    """
    require_role(actor, Role.APPLICANT)
    with stepping(application) as (application, now):
        require_own(actor, application)
        if application.state not in {State.DRAFT, State.RETURNED}:
            raise WrongState(_("Only a draft or a returned application can be edited."))
        resources = list(resources)
        count_entered(application.organisation, len(resources))
        cleaned = clean_resources(organisation=application.organisation, items=resources)
        current = {
            (r.value, r.operator_id, r.subscriber_id, r.district_id): r
            for r in application.resources.filter(LIVE).select_for_update(of=("self",))
        }
        wanted = {
            (c.value, c.operator.pk, c.subscriber_id, c.district.pk if c.district else None): c
            for c in cleaned
        }
        kept = [current[key] for key in wanted if key in current]
        gone = [r for key, r in current.items() if key not in wanted]
        renews = {r.value: r.renews_id for r in current.values() if r.renews_id}
        new = [c for key, c in wanted.items() if key not in current]
        added = [resource_row(application, c, renews=None) for c in new]
        for row in added:
            row.renews_id = renews.get(row.value)
        if application.state == State.DRAFT:
            Resource.objects.filter(pk__in=[r.pk for r in gone]).delete()
        else:
            Resource.objects.filter(pk__in=[r.pk for r in gone]).update(state=Resource.State.REMOVED)
        added = Resource.objects.bulk_create(added)
        declare_porting(added, new)
        # A kept number now declared ported (it was asked for with the numbering's operator's name
        # changed back and forth): declared once.
        undeclared = [(current[key], c) for key, c in wanted.items() if key in current and c.ported_from]
        undeclared = [(r, c) for r, c in undeclared if not hasattr(r, "porting")]
        declare_porting([r for r, _c in undeclared], [c for _r, c in undeclared])
        application.version = F("version") + 1
        application.save(update_fields=["version"])
        application.refresh_from_db(fields=["version"])
        record(
            actor=actor,
            action="application.edit",
            obj=application,
            from_state=application.state,
            to_state=application.state,
            at=now,
            data={
                "added": [r.value for r in added],
                "removed": [r.value for r in gone],
                "kept": [r.value for r in kept],
            },
        )
    return application
