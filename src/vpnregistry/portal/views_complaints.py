"""Portal pages for exemption statements (organisations, and the public check by id) and complaints."""

from __future__ import annotations

import json
from functools import partial
from operator import attrgetter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vpnregistry import printing
from vpnregistry.accounts.models import Role
from vpnregistry.db import visible_or_404
from vpnregistry.errors import InvalidInput, RegistryError
from vpnregistry.portal.forms import (
    ComplaintForm,
    ComplaintMessageForm,
    ReasonForm,
    StepDecisionForm,
    cleaned,
)
from vpnregistry.portal.paging import keyset_page
from vpnregistry.portal.steps import Load, step_view, visible
from vpnregistry.registrations.certificates import certificate_language
from vpnregistry.restrictions import complaints, statements
from vpnregistry.restrictions.models import Complaint, ExemptionStatement
from vpnregistry.restrictions.responses import evidence_response
from vpnregistry.restrictions.selectors import published_events

# --- statements -------------------------------------------------------------------------------


def _applicant(request) -> None:
    if request.user.role != Role.APPLICANT:
        raise Http404("statements are for applicant organisations")


@login_required
def statement_list(request):
    """Published events that have begun, each with a link to the organisation's statement."""
    _applicant(request)
    qs = published_events().filter(starts_at__lte=timezone.now()).order_by("-id")
    page = keyset_page(qs, request.GET.get("before"))
    return render(request, "portal/statement_list.html", {"page": page})


@login_required
def statement_issue(request, event_id: int):
    """Issue a new statement for the event and show it, printable, with its downloads."""
    _applicant(request)
    event = statements.event_for_statement(event_id)
    try:
        statement = statements.statement_issue(actor=request.user, event=event)
    except RegistryError as exc:
        messages.error(request, exc.message)
        return redirect("portal:statement-list")
    return redirect("portal:statement-print", pk=statement.pk)


@login_required
def statement_print(request, pk):
    statement = visible_or_404(
        ExemptionStatement.objects.visible_to(request.user).select_related("event"), pk
    )
    document = json.loads(statement.content)
    return render(
        request,
        "portal/statement_print.html",
        {"statement": statement, "document": document, "pretty": json.dumps(document, indent=2)},
    )


@login_required
def statement_pdf(request, pk):
    """The printable copy as a PDF, in the portal's language (Urdu shaped, as the certificate)."""
    statement = visible_or_404(
        ExemptionStatement.objects.visible_to(request.user).select_related("event"), pk
    )
    language = certificate_language()
    check_url = request.build_absolute_uri(reverse("portal:statement-check", args=[statement.pk]))
    with translation.override(language):
        html = render_to_string(
            "printing/statement.html",
            {
                "statement": statement,
                "document": json.loads(statement.content),
                "language": language,
                "direction": "rtl" if translation.get_language_bidi() else "ltr",
                "check_url": check_url,
                "fonts": printing.font_urls(),
            },
        )
    css = render_to_string("printing/statement.css", {"fonts": printing.font_urls()})
    response = HttpResponse(printing.html_to_pdf(html, css), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def statement_download(request, pk, signature: str = ""):
    statement = visible_or_404(
        ExemptionStatement.objects.visible_to(request.user).select_related("event"), pk
    )
    if signature:
        response = HttpResponse(statements.signature(statement), content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(statement.content.encode(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.pk}.json{signature}"'
    return response


@require_GET
def statement_check(request, pk):
    """Public: that the registry issued this statement, about which event, when, and its SHA-256."""
    statement = statements.public_statement(pk)
    given = (request.GET.get("sha256") or "").strip().lower()
    return render(
        request,
        "portal/statement_check.html",
        {"statement": statement, "event": statement.event, "given": given},
    )


# --- complaints -------------------------------------------------------------------------------


@login_required
def complaint_list(request):
    if request.user.role not in {Role.APPLICANT, Role.OPERATOR, Role.OFFICER, Role.AUDITOR}:
        raise Http404("complaints are for applicant organisations, operators and the regulator")
    state = request.GET.get("state") or None
    page = complaints.page_for(request.user, request.GET.get("after"), state=state)
    return render(
        request,
        "portal/complaint_list.html",
        {
            "page": page,
            "state": state,
            "states": Complaint.State.choices,
            "open_first": complaints.open_first(request.user),
        },
    )


@login_required
def complaint_new(request):
    if request.user.role != Role.APPLICANT:
        raise Http404("only applicant organisations file complaints")
    errors: dict = {}
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        try:
            complaint = complaints.complaint_file(
                actor=request.user, **cleaned(ComplaintForm(request.POST, request.FILES))
            )
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Complaint filed. The operator and the regulator have been told."))
            return redirect("portal:complaint-detail", pk=complaint.pk)
    events = list(published_events().filter(starts_at__lte=timezone.now()).order_by("-starts_at")[:100])
    context = {
        "errors": errors,
        "data": data,
        "registrations": complaints.registrations_to_complain_about(request.user),
        "events": events,
        "services": sorted({s for e in events for s in e.services.all()}, key=lambda s: s.local_name),
    }
    return render(request, "portal/complaint_new.html", context, status=400 if errors else 200)


@login_required
def complaint_detail(request, pk: int):
    complaint = visible_or_404(
        Complaint.objects.visible_to(request.user).select_related(*complaints.COMPLAINT_RELATED), pk
    )
    role = request.user.role
    context = {
        "complaint": complaint,
        "timeline": complaints.timeline(complaint),
        "can_write": not complaint.closed and role in {Role.APPLICANT, Role.OPERATOR, Role.OFFICER},
        "can_decide": not complaint.closed and role == Role.OFFICER,
        "can_reopen": complaint.closed and not complaint.reopened and role == Role.APPLICANT,
    }
    return render(request, "portal/complaint_detail.html", context)


# The steps on a complaint, each shown on the complaint's page; one another organisation's is a 404.
complaint_step_view = partial(
    step_view,
    load=Load("complaint", visible(Complaint, *complaints.COMPLAINT_RELATED)),
    then="portal:complaint-detail",
    then_pk=attrgetter("pk"),
)
complaint_message = complaint_step_view(ComplaintMessageForm, complaints.complaint_message_add)
complaint_resolve = complaint_step_view(StepDecisionForm, complaints.complaint_decide)
complaint_reopen = complaint_step_view(ReasonForm, complaints.complaint_reopen)


@login_required
def complaint_evidence(request, pk: int):
    return evidence_response(
        visible_or_404(
            Complaint.objects.visible_to(request.user).select_related(*complaints.COMPLAINT_RELATED), pk
        )
    )


urlpatterns = [
    path("statements/", statement_list, name="statement-list"),
    path("statements/events/<int:event_id>/", statement_issue, name="statement-issue"),
    path("statements/<uuid:pk>/", statement_check, name="statement-check"),
    path("statements/<uuid:pk>/print/", statement_print, name="statement-print"),
    path("statements/<uuid:pk>/statement.pdf", statement_pdf, name="statement-pdf"),
    path("statements/<uuid:pk>/statement.json", statement_download, name="statement-json"),
    path(
        "statements/<uuid:pk>/statement.json.minisig",
        statement_download,
        {"signature": ".minisig"},
        name="statement-signature",
    ),
    path("complaints/", complaint_list, name="complaint-list"),
    path("complaints/new/", complaint_new, name="complaint-new"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint-detail"),
    path("complaints/<int:pk>/messages/", complaint_message, name="complaint-message"),
    path("complaints/<int:pk>/resolve/", complaint_resolve, name="complaint-resolve"),
    path("complaints/<int:pk>/reopen/", complaint_reopen, name="complaint-reopen"),
    path("complaints/<int:pk>/evidence/", complaint_evidence, name="complaint-evidence"),
]
