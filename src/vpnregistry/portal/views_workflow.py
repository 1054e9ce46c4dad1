"""Portal pages of the workflow beyond the five steps: resources in bulk (CSV upload, editing a
returned application, the operator's bulk attestation), withdrawal, the fee (voucher and payment),
appeals and renewal. Each view parses the request, calls one service, renders or redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from vpnregistry.accounts.models import Role
from vpnregistry.applications import bulk, selectors, services
from vpnregistry.applications.models import Application, Resource
from vpnregistry.bidi import sentence
from vpnregistry.db import visible_or_404
from vpnregistry.errors import InvalidInput, NotAllowed, RegistryError, TooMany
from vpnregistry.portal.forms import (
    AppealForm,
    BulkAttestForm,
    CsvForm,
    PaymentForm,
    ReasonForm,
    StepDecisionForm,
    cleaned,
)
from vpnregistry.portal.paging import keyset_page
from vpnregistry.portal.steps import application_step_view, field_message
from vpnregistry.registrations import selectors as registration_selectors
from vpnregistry.registrations.models import Registration

State = Application.State


def _messages_of(exc: InvalidInput) -> list[str]:
    out = []
    for field, errors in exc.errors.items():
        for message in errors if isinstance(errors, list) else [errors]:
            if isinstance(message, dict):  # per-resource errors from the JSON shape
                out.extend(field_message(f, m) for f, ms in message.items() for m in ms)
            elif field == "csv":
                out.append(str(message))
            else:
                out.append(field_message(field, message))
    return out


@login_required
def application_csv(request):
    """A new application from a CSV file (or pasted CSV text): every row checked, all or nothing."""
    if request.user.role != Role.APPLICANT:
        raise Http404("only applicants make applications")
    errors: list[str] = []
    text = ""
    if request.method == "POST":
        try:
            values = cleaned(CsvForm(request.POST, request.FILES))
            text = values["text"]
            application = bulk.application_create_from_csv(actor=request.user, data=values["data"])
        except InvalidInput as exc:
            errors = _messages_of(exc)
        except TooMany as exc:
            errors = [exc.message]
        else:
            messages.success(
                request,
                ngettext(
                    "Draft saved with %(n)d resource. Check it, then submit it.",
                    "Draft saved with %(n)d resources. Check it, then submit it.",
                    count := application.resources.count(),
                )
                % {"n": count},
            )
            return redirect("portal:application-detail", pk=application.pk)
    return render(
        request,
        "portal/application_csv.html",
        {"errors": errors, "text": text, "columns": bulk.COLUMNS, "editing": None},
        status=400 if errors else 200,
    )


@login_required
def application_resources(request, pk: int):
    """The applicant's new list of resources for a draft or returned application, as CSV."""
    application = visible_or_404(
        Application.objects.visible_to(request.user).select_related(*selectors.APPLICATION_RELATED), pk
    )
    if request.user.role != Role.APPLICANT:
        raise PermissionDenied(_("Only the applicant edits its resources."))
    if application.state not in {State.DRAFT, State.RETURNED}:
        messages.error(request, _("Only a draft or a returned application can be edited."))
        return redirect("portal:application-detail", pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        text = ""
        try:
            values = cleaned(CsvForm(request.POST, request.FILES))
            text = values["text"]
            bulk.resources_replace_from_csv(actor=request.user, application=application, data=values["data"])
        except InvalidInput as exc:
            errors = _messages_of(exc)
        except RegistryError as exc:
            errors = [exc.message]
        else:
            messages.success(request, _("Resources saved. Submit the application again when ready."))
            return redirect("portal:application-detail", pk=pk)
    else:
        live = application.resources.exclude(state=Resource.State.REMOVED).select_related(
            "operator", "district", "porting"
        )
        text = bulk.resources_as_csv(live)
    return render(
        request,
        "portal/application_csv.html",
        {"errors": errors, "text": text, "columns": bulk.COLUMNS, "editing": application},
        status=400 if errors else 200,
    )


application_withdraw = application_step_view(ReasonForm, services.application_withdraw)
application_payment = application_step_view(PaymentForm, services.payment_record)
application_appeal = application_step_view(AppealForm, services.application_appeal)
application_appeal_decision = application_step_view(StepDecisionForm, services.appeal_decide)


@login_required
def application_voucher(request, pk: int):
    """The fee voucher, a printable page: for the applicant, officers and auditors."""
    application = visible_or_404(
        Application.objects.visible_to(request.user).select_related(*selectors.APPLICATION_RELATED), pk
    )
    if request.user.role not in {Role.APPLICANT, Role.OFFICER, Role.AUDITOR}:
        raise PermissionDenied(_("The fee voucher is for the applicant and the regulator."))
    if not application.fee_amount:
        raise Http404("no fee is due on this application")
    return render(request, "portal/voucher.html", {"application": application})


@require_POST
@login_required
def registration_renew(request, pk: int):
    """A draft renewal copied from the registration; the applicant checks and submits it."""
    registration = visible_or_404(
        Registration.objects.visible_to(request.user).select_related(
            *registration_selectors.REGISTRATION_RELATED
        ),
        pk,
    )
    try:
        application = services.registrations_renew(actor=request.user, registrations=[registration])
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except RegistryError as exc:
        messages.error(request, exc.message)
        return redirect("portal:application-detail", pk=registration.resource.application_id)
    messages.success(
        request,
        sentence(_("Renewal drafted from %(ref)s. Check it, then submit it."), ref=registration.reference),
    )
    return redirect("portal:application-detail", pk=application.pk)


@login_required
def attestation_queue(request):
    """The operator's pending resources, oldest application first, with checkboxes to attest many."""
    if request.user.role != Role.OPERATOR:
        raise Http404("attestations are for operators")
    if request.method == "POST":
        try:
            values = cleaned(BulkAttestForm(request.POST))
            done = services.resources_attest(
                actor=request.user,
                resource_ids=values["resource"],
                decision=values["decision"],
                reason=values["reason"],
            )
        except InvalidInput as exc:
            for message in _messages_of(exc):
                messages.error(request, message)
        except RegistryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                ngettext("%(n)d resource attested.", "%(n)d resources attested.", len(done))
                % {"n": len(done)},
            )
        return redirect("portal:attestation-queue")
    pending = (
        Resource.objects.filter(
            operator_id=request.user.operator_id,
            state=Resource.State.PENDING,
            application__state__in=[State.SUBMITTED, State.IN_REVIEW],
        )
        # A district is shown with its province (District.__str__): joined, not read once per row.
        .select_related("application", "district__province")
        .order_by("-id")
    )
    page = keyset_page(pending, request.GET.get("before"), size=100)
    return render(request, "portal/attestation_queue.html", {"page": page})
