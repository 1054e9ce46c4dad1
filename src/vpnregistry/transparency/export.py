"""Everything the registry holds about one organisation, for its own members.

One JSON document, written as a stream: an organisation may hold thousands of resources and
registrations, so every list is read with `iterator()` in chunks and written item by item; memory
stays bounded whatever the size. Its own identifiers are in full (it is their own); members carry
no password hashes; audit events are those whose object is the organisation, one of its members,
applications, resources, registrations, complaints or exemption statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import transaction
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Organisation, Role, User
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import record
from vpnregistry.errors import NotAllowed
from vpnregistry.identifiers import full_identifiers
from vpnregistry.registrations.models import Registration
from vpnregistry.restrictions.models import Complaint, ExemptionStatement

FORMAT = "vpnregistry-organisation-export/1"
CHUNK = 500


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dump(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _array(items: Iterable[dict]) -> Iterator[bytes]:
    yield b"["
    first = True
    for item in items:
        yield _dump(item) if first else b"," + _dump(item)
        first = False
    yield b"]"


def _organisation(org: Organisation) -> dict:
    return {
        "id": org.pk,
        "name": org.name,
        "category": org.category.code,
        "created_at": _t(org.created_at),
        **full_identifiers(org),
    }


def _members(org: Organisation) -> Iterator[dict]:
    for user in User.objects.filter(organisation=org).order_by("pk").iterator(chunk_size=CHUNK):
        yield {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.role,
            "is_active": user.is_active,
            "date_joined": _t(user.date_joined),
            "last_login": _t(user.last_login),
        }


def _resources(application: Application) -> Iterator[dict]:
    qs = (
        Resource.objects.filter(application=application)
        .select_related("operator", "district")
        .prefetch_related("attestations__operator", "attestations__attested_by")
        .order_by("pk")
    )
    for r in qs.iterator(chunk_size=CHUNK):
        yield {
            "id": r.pk,
            "kind": r.kind,
            "value": r.value,
            "operator": r.operator.code,
            "subscriber_id": r.subscriber_id,
            "district": r.district.code if r.district_id else None,
            "state": r.state,
            "attestations": [
                {
                    "operator": a.operator.code,
                    "decision": a.decision,
                    "reason": a.reason,
                    "by": a.attested_by.username,
                    "at": _t(a.at),
                }
                for a in r.attestations.all()
            ],
        }


def _applications(org: Organisation) -> Iterator[bytes]:
    qs = (
        Application.objects.filter(organisation=org)
        .select_related("category", "agency", "created_by")
        .prefetch_related("reviews__reviewer")
        .order_by("pk")
    )
    yield b"["
    for n, app in enumerate(qs.iterator(chunk_size=100)):
        head = {
            "id": app.pk,
            "tracking_number": app.tracking_number,
            "state": app.state,
            "category": app.category.code,
            "agency": app.agency.code if app.agency_id else None,
            "created_by": app.created_by.username,
            "created_at": _t(app.created_at),
            "submitted_at": _t(app.submitted_at),
            "verified_at": _t(app.verified_at),
            "decided_at": _t(app.decided_at),
            "decision_reason": app.decision_reason,
            "reviews": [
                {
                    "stage": rv.stage,
                    "decision": rv.decision,
                    "reason": rv.reason,
                    "by": rv.reviewer.username,
                    "at": _t(rv.at),
                }
                for rv in app.reviews.all()
            ],
        }
        # The object is closed by hand so that its resources can stream inside it.
        yield (b"," if n else b"") + _dump(head)[:-1] + b',"resources":'
        yield from _array(_resources(app))
        yield b"}"
    yield b"]"


def _registrations(org: Organisation) -> Iterator[dict]:
    qs = (
        Registration.objects.filter(organisation=org)
        .select_related("operator", "district", "resource")
        .prefetch_related("periods")
        .order_by("pk")
    )
    for reg in qs.iterator(chunk_size=CHUNK):
        yield {
            "id": reg.pk,
            "reference": reg.reference,
            "application": reg.resource.application_id,
            "kind": reg.kind,
            "value": reg.value,
            "operator": reg.operator.code,
            "district": reg.district.code if reg.district_id else None,
            "state": reg.state,
            "state_reason": reg.state_reason,
            "state_changed_at": _t(reg.state_changed_at),
            "valid_from": _t(reg.valid_from),
            "valid_until": _t(reg.valid_until),
            "active_periods": [{"start": _t(p.start), "end": _t(p.end)} for p in reg.periods.all()],
        }


def _complaints(org: Organisation) -> Iterator[dict]:
    qs = (
        Complaint.objects.filter(organisation=org)
        .select_related("registration", "operator", "event", "service")
        .prefetch_related("messages__author")
        .order_by("pk")
    )
    for c in qs.iterator(chunk_size=CHUNK):
        yield {
            "id": c.pk,
            "registration": c.registration.reference,
            "operator": c.operator.code,
            "event": c.event_id,
            "happened_at": _t(c.happened_at),
            # The English name, as the rest of this document is codes and English: stable for machines.
            "service": c.service.name if c.service_id else c.service_text,
            "description": c.description,
            "state": c.state,
            "decision_reason": c.decision_reason,
            "evidence": {"name": c.evidence_name, "type": c.evidence_type, "sha256": c.evidence_sha256}
            if c.evidence_file
            else None,
            "created_at": _t(c.created_at),
            "messages": [
                {
                    "by": m.author.username,
                    "role": m.author_role,
                    "kind": m.kind,
                    "text": m.text,
                    "from_state": m.from_state,
                    "to_state": m.to_state,
                    "at": _t(m.at),
                }
                for m in c.messages.all()
            ],
        }


def _statements(org: Organisation) -> Iterator[dict]:
    qs = ExemptionStatement.objects.filter(organisation=org).select_related("event").order_by("issued_at")
    for s in qs.iterator(chunk_size=CHUNK):
        yield {
            "id": str(s.pk),
            "event": s.event_id,
            "event_title": s.event.title,
            "issued_at": _t(s.issued_at),
            "sha256": s.sha256,
            "content": s.content,  # the exact signed document
        }


def _owned_ids(org: Organisation) -> Iterator[tuple[str, Iterable]]:
    """(audit object_type, ids) of every object that is the organisation's."""
    yield "organisation", [org.pk]
    yield "user", User.objects.filter(organisation=org).values_list("pk", flat=True)
    yield "application", Application.objects.filter(organisation=org).values_list("pk", flat=True)
    yield (
        "resource",
        Resource.objects.filter(application__organisation=org).values_list("pk", flat=True),
    )
    yield "registration", Registration.objects.filter(organisation=org).values_list("pk", flat=True)
    yield "complaint", Complaint.objects.filter(organisation=org).values_list("pk", flat=True)
    yield (
        "exemptionstatement",
        ExemptionStatement.objects.filter(organisation=org).values_list("pk", flat=True),
    )


def _chunks(ids: Iterable, size: int) -> Iterator[list[str]]:
    batch = []
    for pk in ids.iterator(chunk_size=size) if hasattr(ids, "iterator") else ids:
        batch.append(str(pk))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _audit_events(org: Organisation) -> Iterator[dict]:
    for object_type, ids in _owned_ids(org):
        for batch in _chunks(ids, CHUNK):
            qs = AuditEvent.objects.filter(object_type=object_type, object_id__in=batch).order_by("seq")
            for e in qs.iterator(chunk_size=CHUNK):
                yield {
                    "seq": e.seq,
                    "at": _t(e.at),
                    "actor": e.actor_label,
                    "action": e.action,
                    "object": f"{e.object_type}:{e.object_id}",
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "reason": e.reason,
                    "data": e.data,
                    "hash": e.hash,
                }


def _document(org: Organisation, at: datetime) -> Iterator[bytes]:
    yield b'{"format":' + _dump(FORMAT) + b',"exported_at":' + _dump(_t(at))
    yield b',"organisation":' + _dump(_organisation(org))
    yield b',"members":'
    yield from _array(_members(org))
    yield b',"applications":'
    yield from _applications(org)
    yield b',"registrations":'
    yield from _array(_registrations(org))
    yield b',"complaints":'
    yield from _array(_complaints(org))
    yield b',"exemption_statements":'
    yield from _array(_statements(org))
    yield b',"audit_events":'
    yield from _array(_audit_events(org))
    yield b"}\n"


def export_organisation(*, actor) -> tuple[Organisation, Iterator[bytes]]:
    """The caller's own organisation and its export as a stream of JSON bytes; applicants only.

    The export itself is audited (who took a copy, when), before the first byte is written.
    """
    if getattr(actor, "role", None) != Role.APPLICANT or not actor.organisation_id:
        raise NotAllowed(_("Only an organisation's own members can download what is held about it."))
    org = Organisation.objects.select_related("category").get(pk=actor.organisation_id)
    now = timezone.now()
    with transaction.atomic():
        record(actor=actor, action="organisation.export", obj=org, at=now)
    return org, _document(org, now)


def export_response(user) -> StreamingHttpResponse:
    """The export as a download (the same in the API and the portal), never kept by a cache."""
    organisation, stream = export_organisation(actor=user)
    response = StreamingHttpResponse(stream, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="organisation-{organisation.pk}-export.json"'
    response["Cache-Control"] = "no-store"
    return response
