"""Signed exemption statements: proof for an organisation that its registrations were active during an event.

A statement is a canonical JSON document (sorted keys, no spaces, UTF-8) naming the event, the
organisation's registrations in the event's scope whose active periods overlap the event's window,
and for each whether it was active for the whole window and the stretches it was. It is signed
with the registry's key (minisign, detached) and recorded by id and SHA-256, so that a third party
can check by id that the registry issued it. History is exact (active periods are only added, or
shortened when a stretch ends), so the same organisation and event give the same registrations on
any later day. An event still under way is covered up to the statement's time, and says so.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.audit.services import record
from vpnregistry.canonical import canonical
from vpnregistry.errors import NotAllowed, WrongState
from vpnregistry.registrations.models import ActivePeriod
from vpnregistry.restrictions.models import ExemptionStatement, RestrictionEvent
from vpnregistry.restrictions.selectors import published_events
from vpnregistry.signing import keys
from vpnregistry.timeutil import utc_iso

FORMAT = "vpnregistry-exemption-statement/1"


def event_for_statement(pk) -> RestrictionEvent:
    """A published event, or 404: drafts are nobody's business but the regulator's."""
    try:
        return published_events().get(pk=pk)
    except (RestrictionEvent.DoesNotExist, ValueError, TypeError):
        raise Http404("no such event") from None


def registrations_during(*, organisation_id: int, event: RestrictionEvent, until: datetime) -> list[dict]:
    """The organisation's registrations in the event's scope that were active at some time in
    [event start, until), each with the stretches it was active there, clipped to that window."""
    start = event.starts_at
    periods = (
        ActivePeriod.objects.filter(
            registration__organisation_id=organisation_id, start__lt=until, end__gt=start
        )
        .select_related("registration", "registration__district")
        .order_by("registration__reference", "start", "id")
    )
    districts = {d.pk for d in event.districts.all()}
    provinces = {p.pk for p in event.provinces.all()}
    stretches: dict[str, list[list[datetime]]] = defaultdict(list)
    registrations = {}
    for period in periods:
        registration = period.registration
        district = registration.district
        if not event.covers(
            district_id=registration.district_id,
            province_id=district.province_id if district else None,
            districts=districts,
            provinces=provinces,
        ):
            continue
        registrations[registration.reference] = registration
        piece = [max(period.start, start), min(period.end, until)]
        merged = stretches[registration.reference]
        if merged and piece[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], piece[1])  # touching periods are one stretch
        else:
            merged.append(piece)
    rows = []
    for reference in sorted(registrations):
        registration = registrations[reference]
        merged = stretches[reference]
        row = {
            "reference": reference,
            "kind": registration.kind,
            "district": registration.district.code if registration.district else None,
            "whole_window": len(merged) == 1 and merged[0][0] <= start and merged[0][1] >= until,
            "active": [{"from": utc_iso(a), "until": utc_iso(b)} for a, b in merged],
        }
        row["prefix" if registration.family else "number"] = registration.value
        rows.append(row)
    return rows


def build_document(*, statement_id: str, organisation, event: RestrictionEvent, issued_at: datetime) -> dict:
    until = min(event.ends_at, issued_at)
    return {
        "format": FORMAT,
        "statement": {
            "id": statement_id,
            "issued_at": utc_iso(issued_at),
            "verify": f"/statements/{statement_id}/",
        },
        "organisation": {"name": organisation.name, "category": organisation.category.code},
        "event": {
            "id": event.pk,
            "title": event.title,
            "legal_reference": event.legal_reference,
            "starts_at": utc_iso(event.starts_at),
            "ends_at": utc_iso(event.ends_at),
        },
        # Up to when the statement speaks: the event's end, or the statement's time while it runs.
        "covers": {
            "from": utc_iso(event.starts_at),
            "until": utc_iso(until),
            "complete": until == event.ends_at,
        },
        "registrations": registrations_during(organisation_id=organisation.pk, event=event, until=until),
    }


def trusted_comment(statement: ExemptionStatement) -> str:
    return f"vpnregistry exemption statement id:{statement.id} sha256:{statement.sha256}"


def signature(statement: ExemptionStatement) -> str:
    """The `.minisig` text for the statement's bytes (Ed25519 is deterministic: the same every time
    while the key is the same)."""
    return keys.current_key().sign(
        statement.content.encode(),
        trusted_comment=trusted_comment(statement),
        untrusted_comment=f"exemption statement {statement.id}",
    )


def statement_issue(*, actor, event: RestrictionEvent) -> ExemptionStatement:
    """Issue and record a new statement for the actor's organisation about a published event."""
    if getattr(actor, "role", None) != Role.APPLICANT or not actor.organisation_id:
        raise NotAllowed(_("Statements are issued to registrants, for their own organisation."))
    if event.published_at is None:
        raise Http404("no such event")
    now = timezone.now()
    if now < event.starts_at:
        raise WrongState(
            _("The event begins at %(start)s; a statement can be issued once it has begun.")
            % {"start": utc_iso(event.starts_at)}
        )
    statement = ExemptionStatement(
        organisation=actor.organisation, event=event, issued_at=now, issued_by=actor
    )
    document = build_document(
        statement_id=str(statement.id), organisation=actor.organisation, event=event, issued_at=now
    )
    content = canonical(document, ensure_ascii=False, newline=False)
    statement.content = content.decode()
    statement.sha256 = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        statement.save(force_insert=True)
        record(
            actor=actor,
            action="statement.issue",
            obj=statement,
            at=now,
            data={
                "event": event.pk,
                "sha256": statement.sha256,
                "registrations": len(document["registrations"]),
            },
        )
    return statement


def latest_statement(*, user, event: RestrictionEvent) -> ExemptionStatement | None:
    return (
        ExemptionStatement.objects.filter(organisation_id=user.organisation_id, event=event)
        .order_by("-issued_at")
        .first()
    )


def public_statement(pk) -> ExemptionStatement:
    """Any recorded statement by id, for the public check (which shows nothing personal)."""
    try:
        return ExemptionStatement.objects.select_related("event").get(pk=pk)
    except (ExemptionStatement.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("no such statement") from None
