"""Portal pages for the queues, the turnaround report and each user's notifications."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vpnregistry.accounts.models import Agency, Category, District, Operator, Province, Role
from vpnregistry.applications import queues
from vpnregistry.applications.models import StepTarget
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.notifications import mail
from vpnregistry.notifications import services as notifications
from vpnregistry.notifications.models import Notification
from vpnregistry.portal.forms import NoInputForm, StepTargetForm
from vpnregistry.portal.paging import keyset_page
from vpnregistry.portal.steps import field_message, step_view

TURNAROUND_ROLES = {Role.OFFICER, Role.AUDITOR}


@login_required
def queue(request):
    """The signed-in user's own queue: the routed agency's, the operator's or the regulator's."""
    user = request.user
    if user.role not in queues.QUEUE_ROLES:
        raise PermissionDenied(_("Only agency reviewers, operators and officers have a queue."))
    errors = {}
    try:
        filters = queues.parse_filters(request.GET, user.role)
    except InvalidInput as exc:
        errors, filters = exc.errors, queues.Filters()
    try:
        page = queues.queue_page(user, filters, request.GET.get("after", ""))
    except InvalidInput as exc:
        errors.update(exc.errors)
        page = queues.queue_page(user, filters)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    context = {
        "page": page,
        "filters": filters,
        "errors": [field_message(name, m) for name, msgs in errors.items() for m in msgs],
        "steps": queues.steps_for(user.role),
        "categories": Category.objects.order_by("name"),
        "agencies": Agency.objects.order_by("name") if user.role != Role.AGENCY else None,
        "operators": Operator.objects.order_by("name") if user.role != Role.OPERATOR else None,
        "provinces": Province.objects.order_by("name"),
        "districts": District.objects.select_related("province").order_by("province__name", "name"),
        "next_query": (
            urlencode({**filters.as_query(), "after": page.next_cursor}) if page.next_cursor else ""
        ),
    }
    return render(request, "portal/queue.html", context)


def _day(value: str, default):
    try:
        return datetime.strptime(value, "%Y-%m-%d").date() if value else default
    except ValueError:
        return None


@login_required
def turnaround(request):
    """Per step: how many completed in the period, median and 90th percentile, what waits now."""
    if request.user.role not in TURNAROUND_ROLES:
        raise PermissionDenied(_("The turnaround report is for officers and auditors."))
    today = timezone.localdate()
    first = _day(request.GET.get("from", ""), today - timedelta(days=29))
    last = _day(request.GET.get("to", ""), today)
    if first is None or last is None or first > last:
        messages.error(request, _("Give the period as two dates, YYYY-MM-DD, the first not after the last."))
        first, last = today - timedelta(days=29), today
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return render(
        request,
        "portal/turnaround.html",
        {
            "rows": queues.turnaround(start, end),
            "first": first,
            "last": last,
            "can_edit": request.user.role == Role.OFFICER,
            "targets": {t.step: t for t in StepTarget.objects.select_related("updated_by")},
        },
    )


# An officer sets a step's target number of days from the turnaround report.
step_target = step_view(StepTargetForm, queues.set_step_target, then="portal:turnaround")


@login_required
def notification_list(request):
    """The user's own notifications, newest first."""
    qs = Notification.objects.visible_to(request.user).order_by("-id")
    unread = request.GET.get("unread") == "1"
    if unread:
        qs = qs.filter(read_at__isnull=True)
    page = keyset_page(qs, request.GET.get("before"))
    return render(request, "portal/notifications.html", {"page": page, "unread": unread})


@require_POST
@login_required
def notification_read(request, pk: int | None = None):
    notifications.mark_read(actor=request.user, pk=pk)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("portal:notifications")


@login_required
def failed_mail(request):
    """The emails given up on after every try (the mail server down too long): officers only."""
    if request.user.role != Role.OFFICER:
        raise PermissionDenied(_("Only officers see the emails that could not be sent."))
    page = keyset_page(mail.failed_mail(), request.GET.get("before"))
    return render(request, "portal/failed_mail.html", {"page": page})


# An officer sends the failed emails again, once the mail server works.
failed_mail_retry = step_view(NoInputForm, mail.retry_failed, then="portal:failed-mail")
