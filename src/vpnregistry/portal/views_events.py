"""The public calendar of restriction events, its JSON and iCalendar feeds, and the officer's form."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from vpnregistry.accounts.models import District, Province, Role
from vpnregistry.bilingual import list_separator
from vpnregistry.errors import InvalidInput
from vpnregistry.portal.forms import EventForm, cleaned
from vpnregistry.portal.paging import keyset_page
from vpnregistry.restrictions import selectors, services
from vpnregistry.restrictions.models import Service

FEED_DAYS = 400  # how far back the feeds reach; the calendar pages back without limit


def _event_dict(event) -> dict:
    return {
        "id": event.pk,
        "title": event.title,
        "legal_reference": event.legal_reference,
        "description": event.description,
        "national": event.national,
        "provinces": [p.code for p in event.provinces.all()],
        "districts": [d.code for d in event.districts.all()],
        "services": [s.code for s in event.services.all()],
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "published_at": event.published_at.isoformat() if event.published_at else None,
    }


@require_GET
def calendar(request):
    """Published events, newest first, for everyone; officers also see drafts to publish."""
    page = keyset_page(selectors.events_for_user(request.user).order_by("-id"), request.GET.get("before"))
    return render(request, "portal/events.html", {"page": page, "now": timezone.now()})


def _feed_events():
    since = timezone.now() - timedelta(days=FEED_DAYS)
    # The iCalendar feed names each district with its province (District.__str__): read once for all.
    return (
        selectors.published_events()
        .prefetch_related("districts__province")
        .filter(ends_at__gte=since)
        .order_by("starts_at", "id")[:1000]
    )


# The JSON feed as last built by this process: (publication, minute) it was built for, and its bytes.
# A new publication shows at once; an event leaving the window does so within the minute.
_feed_json: dict = {}


@require_GET
def events_json(request):
    key = (selectors.latest_publication(), int(time.time() // 60))
    held = _feed_json.get("held")
    if held is None or held[0] != key:
        body = json.dumps(
            {"events": [_event_dict(e) for e in _feed_events()], "generated_at": timezone.now().isoformat()}
        ).encode()
        _feed_json["held"] = held = (key, body)
    return HttpResponse(held[1], content_type="application/json")


@require_GET
def events_ics(request):
    cal = Calendar()
    cal.add("prodid", "-//vpnregistry//restriction events//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Service restriction events")
    host = request.get_host()
    for e in _feed_events():
        item = Event()
        item.add("uid", f"event-{e.pk}@{host}")
        item.add("summary", e.title)
        item.add("dtstart", e.starts_at)
        item.add("dtend", e.ends_at)
        item.add("dtstamp", e.published_at)
        # Places and services in the reader's language, as "National" is.
        comma = list_separator()
        scope = (
            _("National")
            if e.national
            else comma.join([p.local_name for p in e.provinces.all()] + [str(d) for d in e.districts.all()])
        )
        restricted = comma.join(s.local_name for s in e.services.all())
        item.add("description", f"{e.legal_reference}\n{scope}\n{restricted}\n{e.description}".strip())
        item.add("location", scope)
        cal.add_component(item)
    return HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")


@login_required
def event_new(request):
    if request.user.role != Role.OFFICER:
        raise Http404("only regulator officers record events")
    errors: dict = {}
    data = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            event = services.event_create(actor=request.user, **cleaned(EventForm(request.POST)))
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(
                request, _("Event recorded.") if not event.published_at else _("Event published.")
            )
            return redirect("portal:events")
    context = {
        "errors": errors,
        "data": data,
        "services": Service.objects.all(),
        "provinces": Province.objects.prefetch_related("districts"),
        "selected": {k: set(data.getlist(k)) for k in ("services", "provinces", "districts")} if data else {},
        "district_count": District.objects.count(),
    }
    return render(request, "portal/event_new.html", context, status=400 if errors else 200)
