"""Registrations in the portal: the holder's, the operator's and the regulator's view, and the lifecycle
steps each of them may take (suspend, reinstate, revoke, surrender, report as no longer assigned)."""

from __future__ import annotations

from operator import attrgetter

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from vpnregistry.audit.models import AuditEvent
from vpnregistry.db import visible_or_404
from vpnregistry.portal.forms import ReasonForm
from vpnregistry.portal.paging import keyset_page
from vpnregistry.portal.steps import Load, step_view
from vpnregistry.registrations import selectors, services
from vpnregistry.registrations.models import Registration

# The words on each step's button and what its reason field asks for.
STEP_LABELS = {
    "suspend": (_("Suspend"), _("Why is it suspended?")),
    "reinstate": (_("Reinstate"), _("Why is it reinstated?")),
    "revoke": (_("Revoke"), _("Why is it revoked?")),
    "surrender": (_("Surrender"), _("Why do you give it up? (optional)")),
    "report-unassigned": (
        _("Report as no longer assigned to this subscriber"),
        _("What changed? (it is suspended until an officer decides)"),
    ),
}


def _visible(user, pk: int) -> Registration:
    return visible_or_404(
        Registration.objects.visible_to(user).select_related(
            *selectors.REGISTRATION_RELATED, "district__province", "resource__application"
        ),
        pk,
    )


def steps_for(user, registration: Registration) -> list[dict]:
    """The lifecycle steps this user may take on this registration now, for the page's forms."""
    out = []
    for step, transition in services.TRANSITIONS.items():
        if user.role in transition.roles and registration.state in transition.from_states:
            label, prompt = STEP_LABELS[step]
            out.append(
                {"step": step, "label": label, "prompt": prompt, "needs_reason": transition.needs_reason}
            )
    return out


@require_GET
@login_required
def registration_list(request):
    if request.user.role not in {"applicant", "operator", "officer", "auditor"}:
        raise Http404("registrations are for their holders, operators, officers and auditors")
    qs = Registration.objects.visible_to(request.user).select_related(*selectors.REGISTRATION_RELATED)
    state = request.GET.get("state", "")
    if state in Registration.State.values:
        qs = qs.filter(state=state)
    # A reference or an exact value: both are index seeks, never a scan.
    if q := request.GET.get("q", "").strip():
        qs = qs.filter(Q(reference=q.upper()) | Q(value=q))
    page = keyset_page(qs.order_by("-id"), request.GET.get("before"))
    return render(
        request,
        "portal/registration_list.html",
        {"page": page, "state": state, "q": q, "states": Registration.State.choices},
    )


@require_GET
@login_required
def registration_detail(request, pk: int):
    registration = _visible(request.user, pk)
    history = (
        AuditEvent.objects.filter(object_type="registration", object_id=str(registration.pk))
        .select_related("actor")
        .order_by("seq")
    )
    context = {
        "registration": registration,
        "periods": registration.periods.all(),
        "history": history,
        "steps": steps_for(request.user, registration),
    }
    return render(request, "portal/registration_detail.html", context)


def _stepped(user, pk: int, step: str) -> Registration:
    """The registration a lifecycle step acts on; 404 for a step that does not exist, or for a
    registration the user may not see."""
    if step not in services.TRANSITIONS:
        raise Http404("no such step")
    return _visible(user, pk)


# The step's name, from the URL, goes to the service as `step`.
registration_step = step_view(
    ReasonForm,
    services.registration_change_state,
    load=Load("registration", _stepped),
    then="portal:registration-detail",
    then_pk=attrgetter("pk"),
)


urlpatterns = [
    path("registrations/", registration_list, name="registration-list"),
    path("registrations/<int:pk>/", registration_detail, name="registration-detail"),
    path("registrations/<int:pk>/<slug:step>/", registration_step, name="registration-step"),
]
