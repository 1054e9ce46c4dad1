"""Running one workflow step from a portal form: the same outcome rules on every page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from vpnregistry.applications import selectors as application_selectors
from vpnregistry.applications.models import Application
from vpnregistry.db import visible_or_404
from vpnregistry.errors import InvalidInput, NotAllowed, RegistryError
from vpnregistry.portal.forms import cleaned

# The fields a refusal names, as the page's own labels call them: a message on the page says which
# box it is about in the reader's language, never by the API's field name.
FIELD_LABELS = {
    "reason": gettext_lazy("Reason"),
    "decision": gettext_lazy("Decision"),
    "grounds": gettext_lazy("Grounds"),
    "reference": gettext_lazy("Payment reference"),
    "resources": gettext_lazy("Resources"),
    "value": gettext_lazy("Address, prefix or mobile number"),
    "subscriber_id": gettext_lazy("Subscriber ID"),
    "operator": gettext_lazy("Operator"),
    "district": gettext_lazy("District"),
    "province": gettext_lazy("Province"),
    "category": gettext_lazy("Category"),
    "agency": gettext_lazy("Agency"),
    "overdue": gettext_lazy("Overdue"),
    "after": gettext_lazy("Page"),
    "ported": gettext_lazy("Ported to this operator"),
    "text": gettext_lazy("Message"),
    "step": gettext_lazy("Step"),
    "days": gettext_lazy("Days"),
    "acknowledge_suspension": gettext_lazy("Suspension"),
}


def field_message(field: str, message: str) -> str:
    """A refusal of one field for the page: "Reason: ...", or the message alone for a field without a
    label (its sentence names what it is about)."""
    label = FIELD_LABELS.get(field)
    if label is None:
        return str(message)
    return _("%(field)s: %(message)s") % {"field": label, "message": message}


def run_step(
    request,
    call: Callable[[], object],
    *,
    then: str,
    form: str = "",
    success: Callable[[object], str | None] | None = None,
    **kwargs,
):
    """Call the service; a refusal by role is a 403, a mistake or a wrong state a message on the page.

    Either way the caller is sent back to `then` (a URL name, with `kwargs`) to see the outcome. With
    `form` (the prefix of the form on that page), a mistake is shown as GOV.UK shows one instead: the
    page lists it at the top, linked to the field, says it beside the field, and fills the form in
    again with what was chosen and typed (kept for that one page, in the session). `success` words
    the outcome from what the service returned (None: no message, the next page says it); by
    default "Done.".
    """
    try:
        result = call()
    except NotAllowed as exc:
        # Not a mistake to correct on the page: the role or body may not do this at all.
        raise PermissionDenied(exc.message) from None
    except InvalidInput as exc:
        if form:
            request.session[FAILED_FORM] = failed_form(form, exc, request.POST)
            return redirect(reverse(then, kwargs=kwargs) + f"#{form}-form")
        for field, errors in exc.errors.items():
            for message in errors if isinstance(errors, list) else [errors]:
                messages.error(
                    request, field_message(field, message) if isinstance(message, str) else str(message)
                )
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        message = _("Done.") if success is None else success(result)
        if message:
            messages.success(request, message)
    return redirect(then, **kwargs)


# The session key of a form refused on the step before (see run_step's `form`).
FAILED_FORM = "vpnregistry.failed-form"
KEPT_FIELDS = ("decision", "reason", "reason_code", "acknowledge_suspension", "reference", "grounds")


def failed_form(prefix: str, exc: InvalidInput, posted) -> dict:
    """What a refused form showed and held, for the page that shows it again (JSON for the session)."""
    errors = {
        field: [str(m) for m in (found if isinstance(found, list) else [found])]
        for field, found in exc.errors.items()
    }
    return {"form": prefix, "errors": errors, "data": {k: posted.get(k, "") for k in KEPT_FIELDS}}


def take_failed_form(request) -> dict | None:
    """The form refused on the step before, once: shown again on this page, then forgotten."""
    return request.session.pop(FAILED_FORM, None)


def application_step(
    request,
    pk: int,
    call: Callable[[], object],
    *,
    form: str = "",
    success: Callable[[object], str | None] | None = None,
):
    """run_step for a step on an application: the outcome is shown on the application's page."""
    return run_step(request, call, then="portal:application-detail", form=form, success=success, pk=pk)


@dataclass(frozen=True)
class Load:
    """How a step finds what it acts on: `select(user, **the URL's parts)` gives the object the user may
    see, or raises Http404 (another organisation's: not even its existence is disclosed) or NotAllowed
    (answered 403); the service takes it as its keyword argument `keyword`."""

    keyword: str
    select: Callable[..., Any]


def visible(model, *related: str) -> Callable[..., Any]:
    """A Load's `select` for the object of `model` named by the URL's pk that the user may see
    (`model.objects.visible_to(user)`, read with `related`), or Http404."""

    def select(user, pk, **_parts):
        return visible_or_404(model.objects.visible_to(user).select_related(*related), pk)

    return select


def step_view(
    form_class: type[forms.Form],
    service: Callable[..., object],
    *,
    then: str,
    load: Load | None = None,
    then_pk: Callable[[Any], object] | None = None,
    success: str | Promise | Callable[[Any], str | None] | None = None,
    error_form: str | Callable[[Any], str] = "",
):
    """A view taking one workflow step: POST only, signed in, then run_step's outcome rules.

    The view finds the object (`load`; none for a step on no object), reads `form_class` from the POST
    (its fields only shape the input) and calls `service(actor=user, <load.keyword>=object, **the URL's
    parts but pk, **the form's cleaned data)`. Then it redirects to `then` (a URL name; with
    pk=then_pk(object) when given): `success` says the outcome ("Done." by default; a function of
    what the service returned words it, None from it for no message), a refusal by role is 403 and a
    mistake or a wrong state is shown on that page; with `error_form` (the prefix of the form on that
    page, or a function of the object giving it) a mistake comes back as GOV.UK shows a refused form.
    """
    worded = (lambda _result: success) if isinstance(success, str | Promise) else success

    def view(request, **kwargs):
        found = _loaded(load, request.user, kwargs)
        form = form_class(request.POST)
        target = {load.keyword: found} if load is not None else {}
        parts = {key: value for key, value in kwargs.items() if key != "pk"}

        def call():
            return service(actor=request.user, **target, **parts, **cleaned(form))

        return run_step(
            request,
            call,
            then=then,
            form=error_form(found) if callable(error_form) else error_form,
            success=worded,
            **({} if then_pk is None else {"pk": then_pk(found)}),
        )

    view.__name__ = view.__qualname__ = f"step_view({service.__name__})"
    return require_POST(login_required(view))


def application_step_view(form_class: type[forms.Form], service: Callable[..., object], **options):
    """step_view for a step on an application the user may see (404 for any other), taken as the
    service's `application`; the outcome is shown on the application's page."""
    return step_view(
        form_class,
        service,
        load=Load("application", visible(Application, *application_selectors.APPLICATION_RELATED)),
        then="portal:application-detail",
        then_pk=attrgetter("pk"),
        **options,
    )


def _loaded(load: Load | None, user, kwargs: dict):
    if load is None:
        return None
    try:
        return load.select(user, **kwargs)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
