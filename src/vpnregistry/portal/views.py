"""Portal views: parse the request, call one service or selector, render."""

from __future__ import annotations

from operator import attrgetter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.forms.utils import ErrorDict
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from vpnregistry.accounts import language
from vpnregistry.accounts.models import Role
from vpnregistry.allowlist import selectors as allowlist_selectors
from vpnregistry.allowlist.publication import backlog as publication_backlog
from vpnregistry.allowlist.selectors import latest_serial
from vpnregistry.allowlist.services import file_url, msisdn_name
from vpnregistry.applications import queues, selectors, services
from vpnregistry.applications.models import Application, RejectionReason
from vpnregistry.db import visible_or_404, whole_number
from vpnregistry.errors import InvalidInput, TooMany
from vpnregistry.identifiers import identifiers_for
from vpnregistry.portal.forms import DecideForm, DecisionForm, ResourceFormSet, StepDecisionForm, VerifyForm
from vpnregistry.portal.history import tell
from vpnregistry.portal.paging import keyset_page
from vpnregistry.portal.steps import (
    Load,
    application_step,
    application_step_view,
    step_view,
    take_failed_form,
)
from vpnregistry.registrations.models import Registration
from vpnregistry.signing import keys


@require_GET
def healthz(request):
    # A backlog is reported, never a reason to answer other than 200: taking a server out of the load
    # balancer would not publish anything sooner.
    return JsonResponse(
        {
            "status": "ok",
            "database": connection.vendor,
            "allowlist_serial": latest_serial(),
            "publication": publication_backlog().as_dict(),
        }
    )


def set_language(request):
    """The portal's language switch: Django's `set_language` (the cookie, then back to the page), and
    the choice stored on the person's account too, for their emails and next logins: at once when
    they are signed in with every step of their login, else once they are (accounts/language.py).
    """
    response = i18n.set_language(request)
    if request.method == "POST":
        language.choose(request, request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER))
    return response


@login_required
def home(request):
    queue = selectors.home_queue(request.user)
    return render(request, "portal/home.html", {"queue": queue[:25], "queue_more": queue[25:26].exists()})


@login_required
def application_list(request):
    qs = Application.objects.visible_to(request.user).select_related(*selectors.APPLICATION_RELATED)
    if state := request.GET.get("state"):
        qs = qs.filter(state=state)
    page = keyset_page(qs.order_by("-id"), request.GET.get("before"))
    return render(
        request,
        "portal/application_list.html",
        {"page": page, "state": state, "states": Application.State.choices},
    )


@login_required
def application_new(request):
    if request.user.role != Role.APPLICANT:
        raise Http404("only applicants make applications")
    data = request.POST or None
    adding = data is not None and "add" in data
    if adding:
        # "Add another resource": the same form again with one more, empty resource; nothing saved.
        data = data.copy()
        total = whole_number(data.get("form-TOTAL_FORMS")) or 0
        data["form-TOTAL_FORMS"] = str(min(total + 1, services.MAX_RESOURCES))
    formset = ResourceFormSet(data)
    if adding:  # shown as typed, not checked yet: the check comes with "Save draft"
        for form in formset.forms:
            form._errors = ErrorDict()
        formset._non_form_errors = formset.error_class()
    elif request.method == "POST" and formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms]
        # The positions of filled rows, so that each error lands beside its own field.
        filled = [i for i, row in enumerate(rows) if row.get("value") or row.get("subscriber_id")]
        try:
            application = services.application_create(actor=request.user, resources=[rows[i] for i in filled])
        except InvalidInput as exc:
            items = exc.errors.get("resources", [])
            if items and isinstance(items[0], str):
                formset._non_form_errors = formset.error_class(items)
            else:
                for position, errors in zip(filled, items, strict=True):
                    for field, field_errors in errors.items():
                        for message in field_errors:
                            formset.forms[position].add_error(field, message)
        except TooMany as exc:
            formset._non_form_errors = formset.error_class([exc.message])
        else:
            messages.success(request, _("Draft saved. Check it, then submit it."))
            return redirect("portal:application-detail", pk=application.pk)
    category = request.user.organisation.category
    return render(
        request,
        "portal/application_new.html",
        {"formset": formset, "v4": category.min_len_v4, "v6": category.min_len_v6},
    )


@login_required
def application_detail(request, pk: int):
    application = visible_or_404(
        Application.objects.visible_to(request.user).select_related(*selectors.APPLICATION_RELATED), pk
    )
    user = request.user
    applicant = user.role == Role.APPLICANT
    state = application.state
    context = {
        "application": application,
        "resources": selectors.resources_visible_to(user, application).select_related(
            "renews", "registration"
        ),
        "history": tell(selectors.history_of(user, application)),
        "failed": take_failed_form(request),
        "identifiers": identifiers_for(user, application),
        "suspensions": selectors.suspensions_shown(user, application),
        "conflicts": selectors.conflicts_shown(user, application),
        "names_alike": selectors.names_alike_shown(user, application),
        "can_submit": applicant and state in {"draft", "returned"},
        "can_edit": applicant and state in {"draft", "returned"},
        "can_withdraw": applicant and state in services.WITHDRAWABLE,
        "can_appeal": applicant and state == "rejected" and not application.appealed_at,
        "can_renew": applicant and state == "approved",
        "can_verify": user.role == Role.AGENCY and application.is_open and not application.verified_at,
        "can_attest": user.role == Role.OPERATOR and application.is_open,
        "can_decide": user.role == Role.OFFICER and state == "awaiting_decision",
        "can_pay": user.role == Role.OFFICER and state == "awaiting_payment",
        "can_decide_appeal": user.role == Role.OFFICER and state == "appealed",
        "show_voucher": bool(application.fee_amount)
        and user.role in {Role.APPLICANT, Role.OFFICER, Role.AUDITOR},
        "reasons": RejectionReason.objects.filter(active=True),
        "decision_form": DecisionForm(),
    }
    return render(request, "portal/application_detail.html", context)


@require_POST
@login_required
def application_submit(request, pk: int):
    application = visible_or_404(
        Application.objects.visible_to(request.user).select_related(*selectors.APPLICATION_RELATED), pk
    )
    done = []
    submit = services.application_submit
    response = application_step(
        request,
        pk,
        lambda: done.append(submit(actor=request.user, application=application)),
        success=lambda _result: None,  # the confirmation page says it
    )
    if not done:
        return response  # refused: the reason is shown on the application's page
    # The first submission's status secret is kept in the session for the confirmation page, which
    # shows it once and forgets it; a resubmission (after a return) has none.
    if secret := getattr(done[0], "status_secret", None):
        request.session[SECRET_KEY % pk] = secret
    return redirect("portal:application-submitted", pk=pk)


SECRET_KEY = "status-secret:%d"


@require_GET
@login_required
def application_submitted(request, pk: int):
    """The confirmation of a submission: tracking number, the status secret once, what happens next."""
    application = visible_or_404(
        Application.objects.visible_to(request.user).select_related(*selectors.APPLICATION_RELATED), pk
    )
    if application.submitted_at is None:
        return redirect("portal:application-detail", pk=pk)
    secret = request.session.pop(SECRET_KEY % pk, None)
    return render(
        request,
        "portal/application_submitted.html",
        {"application": application, "secret": secret, "steps_ahead": queues.steps_ahead(application)},
    )


def _decided(application: Application) -> str:
    """After a decision: for an approval, which registrations it made and where they are published."""
    if application.state != Application.State.APPROVED:
        return _("Done.")
    made = Registration.objects.filter(resource__application=application).order_by("id")
    listed = format_html_join(", ", '<bdi dir="ltr">{} ({})</bdi>', made.values_list("reference", "value"))
    return format_html(
        "{} {}",
        format_html(
            ngettext(
                "Approved: {count} registration made, {listed}.",
                "Approved: {count} registrations made, {listed}.",
                len(made),
            ),
            count=len(made),
            listed=listed,
        ),
        _(
            "The allowlist publishes them within a minute; the Allowlist line below shows the serial "
            "that carries them once it does."
        ),
    )


# The three steps of the reviewers on the application's page; a refused decision comes back in its form.
application_verify = application_step_view(VerifyForm, services.application_verify, error_form="verify")
application_decide = application_step_view(
    DecideForm, services.application_decide, error_form="decide", success=_decided
)
resource_attest = step_view(
    StepDecisionForm,
    services.resource_attest,
    load=Load("resource", selectors.resource_for_operator),
    then="portal:application-detail",
    then_pk=attrgetter("application_id"),
    error_form=lambda resource: f"attest-{resource.pk}",
)


@login_required
def allowlist(request):
    """The published allowlist: latest serial, its files, the signing keys and who runs behind."""
    user = request.user
    if user.role not in {Role.OPERATOR, Role.OFFICER, Role.AUDITOR}:
        raise Http404("the allowlist is for operators, officers and auditors")
    snapshot = allowlist_selectors.snapshot_at("latest")
    files = []
    if snapshot is not None:
        for name, meta in sorted(snapshot.files.items()):
            if (
                name.startswith("msisdn.")
                and user.role == Role.OPERATOR
                and name != msisdn_name(user.operator.code)
            ):
                continue
            files.append({"name": name, "url": file_url(snapshot.serial, name), **meta})
    announced = keys.next_key()
    context = {
        "snapshot": snapshot,
        "files": files,
        "current_key": keys.current_key().public,
        "next_key": announced.key.public if announced else None,
        "operators": allowlist_selectors.operator_sync_status()[:200] if user.role != Role.OPERATOR else None,
    }
    return render(request, "portal/allowlist.html", context)
