"""Reads about applications, scoped to what the caller's role and body may see."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.accounts.selectors import names_alike
from vpnregistry.applications.models import Application, Resource
from vpnregistry.applications.queues import waiting_for
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.selectors import held_by_others, suspended_held

State = Application.State


# What an application is shown with, rejection reason included: read in the same query, so that a
# page of them costs one query and not one more per rejected application.
APPLICATION_RELATED = ("organisation", "category", "agency", "rejection_reason")


# What a resource is shown with: read in the same query, never one query per resource.
RESOURCE_RELATED = ("operator", "district", "renews", "porting")


def resources_visible_to(user, application: Application) -> QuerySet[Resource]:
    """An operator sees only the resources in its own space; the others see all of them."""
    qs = application.resources.select_related(*RESOURCE_RELATED)
    if user.role == Role.OPERATOR:
        qs = qs.filter(operator_id=user.operator_id)
    return qs


def visible_resources(user, application: Application) -> list[Resource] | QuerySet[Resource]:
    """As `resources_visible_to`, from the resources a list prefetched (`with_resources`) if it did.

    A page of applications then costs one query for all their resources, not one per application.
    """
    if "resources" not in getattr(application, "_prefetched_objects_cache", {}):
        return resources_visible_to(user, application)
    rows = application.resources.all()
    if user.role == Role.OPERATOR:
        return [r for r in rows if r.operator_id == user.operator_id]
    return list(rows)


def suspensions_shown(user, application: Application) -> list:
    """The organisation's suspended registrations that the application's live resources (those the
    user sees) renew or overlap: shown on the application, with the suspension's date and reason,
    so that whoever reviews and decides it knows."""
    live = [r for r in visible_resources(user, application) if r.state != Resource.State.REMOVED]
    return suspended_held(application.organisation_id, live)


def conflicts_shown(user, application: Application) -> list:
    """Active registrations of other organisations that the application's live resources overlap,
    with their holders: shown to the agency's reviewers and the officers, who reject the resource
    at review ("held by another organisation"). The applicant and the operators never see them:
    the applicant's answer at entry is the same whether or not somebody holds a resource."""
    if user.role not in {Role.AGENCY, Role.OFFICER}:
        return []
    live = [
        r
        for r in visible_resources(user, application)
        if r.state not in {Resource.State.REMOVED, Resource.State.REFUSED}
    ]
    return held_by_others(application.organisation_id, live)


def names_alike_shown(user, application: Application) -> list:
    """Other organisations whose names look like the applicant's (accounts/names.py), for the agency's
    reviewers and the officers to check that a name does not pass for another's; nobody else."""
    if user.role not in {Role.AGENCY, Role.OFFICER}:
        return []
    return names_alike(application.organisation)


def operator_resources(user) -> QuerySet[Resource]:
    """The resources in the operator user's own space, of applications ever submitted."""
    return Resource.objects.filter(operator_id=user.operator_id, application__submitted_at__isnull=False)


def resource_for_operator(user, pk) -> Resource:
    """A resource in the operator user's own space, in a submitted application, or 404."""
    if user.role != Role.OPERATOR:
        raise Http404("no such resource")
    try:
        return (
            Resource.objects.select_related("application", "operator")
            .filter(application__submitted_at__isnull=False)
            .get(pk=pk, operator_id=user.operator_id)
        )
    except (Resource.DoesNotExist, ValueError, TypeError):
        raise Http404("no such resource") from None


def home_queue(user) -> QuerySet[Application]:
    """The work waiting for the user, for the home page: the queues module's (`queues.waiting_for`),
    among the applications the user sees, oldest first (an applicant's by creation, other roles' by
    submission)."""
    order = ("created_at", "id") if getattr(user, "role", None) == Role.APPLICANT else ("submitted_at", "id")
    return (
        Application.objects.visible_to(user)
        .select_related(*APPLICATION_RELATED)
        .filter(waiting_for(user))
        .order_by(*order)
    )


def history_of(user, application: Application) -> list[AuditEvent]:
    """The application's own audit events and those of the resources the user sees, in order.

    An operator sees its own resources' events only: another operator's attestation, who made it and
    why ("subscriber in arrears") are that operator's business and the applicant's, not a rival's.
    Where another operator's attestation moved the application on (to review, to a decision), the
    application's event stays, its actor shown only as "an operator".
    """
    resource_ids = [str(pk) for pk in resources_visible_to(user, application).values_list("id", flat=True)]

    events = list(
        AuditEvent.objects.filter(
            Q(object_type="application", object_id=str(application.pk))
            | Q(object_type="resource", object_id__in=resource_ids)
        )
        .select_related("actor")
        .order_by("seq")
    )
    if user.role == Role.OPERATOR:
        for event in events:
            actor = event.actor
            if actor is not None and actor.role == Role.OPERATOR and actor.operator_id != user.operator_id:
                event.actor_label = _("an operator")
    return events


def with_resources(qs: QuerySet[Application]) -> QuerySet[Application]:
    return qs.prefetch_related(
        Prefetch("resources", queryset=Resource.objects.select_related(*RESOURCE_RELATED))
    )
