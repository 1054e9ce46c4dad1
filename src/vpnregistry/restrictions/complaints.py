"""Complaints: an organisation reports that a registered resource was blocked during an event.

Each complaint goes to the operator concerned (the registration's operator) and to the regulator,
and is tracked to resolution: open -> answered (by the operator) -> resolved | rejected (by an
officer, with a reason); the complainant may reopen a closed complaint once. Every step is a
message on the timeline and an audit record. Writes are here; so are the reads, which check role
and organisation (anyone else gets 404, never 403, so that ids disclose nothing).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vpnregistry import storage
from vpnregistry.accounts.models import Role, User
from vpnregistry.audit.services import record
from vpnregistry.db import whole_number
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.notifications.services import notify_users
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.restrictions.evidence import (  # noqa: F401 (the views read them all here)
    EVIDENCE_TYPES,
    MAX_EVIDENCE,
    Evidence,
    files,
    open_evidence,
    read_evidence,
)
from vpnregistry.restrictions.models import Complaint, ComplaintMessage, RestrictionEvent, Service
from vpnregistry.timeutil import parse_time, utc_iso

logger = logging.getLogger(__name__)

MAX_TEXT = 5000
PAGE_SIZE = 25
State = Complaint.State


# --- reads ------------------------------------------------------------------------------------


# What a complaint is shown with, read in the same query.
COMPLAINT_RELATED = ("registration", "event", "service", "organisation", "operator")


def timeline(complaint: Complaint) -> QuerySet[ComplaintMessage]:
    return complaint.messages.select_related("author").order_by("at", "id")


def open_first(user) -> bool:
    """Operators and officers work through the oldest open complaints first; others read newest first."""
    return getattr(user, "role", None) in {Role.OPERATOR, Role.OFFICER}


@dataclass
class Page:
    items: list
    next_cursor: str | None


def page_for(user, cursor: str | None = None, *, state: str | None = None, size: int | None = None) -> Page:
    """One page of the user's complaints by keyset: each page is an index seek.

    Open-first order is (closed, id) ascending, its cursor "closed.id"; otherwise id descending.
    """
    size = size or PAGE_SIZE
    qs = Complaint.objects.visible_to(user).select_related(*COMPLAINT_RELATED)
    if state:
        qs = qs.filter(state=state)
    if open_first(user):
        if cursor and re.fullmatch(r"[01]\.[0-9]+", cursor):
            closed, last = cursor.split(".")
            qs = qs.filter(Q(closed__gt=closed == "1") | Q(closed=closed == "1", id__gt=int(last)))
        qs = qs.order_by("closed", "id")
    else:
        if (before := whole_number(cursor)) is not None:
            qs = qs.filter(id__lt=before)
        qs = qs.order_by("-id")
    items = list(qs[: size + 1])
    more = len(items) > size
    items = items[:size]
    if not more:
        return Page(items, None)
    last = items[-1]
    return Page(items, f"{int(last.closed)}.{last.pk}" if open_first(user) else str(last.pk))


def registrations_to_complain_about(user) -> QuerySet[Registration]:
    if getattr(user, "role", None) != Role.APPLICANT:
        return Registration.objects.none()
    return Registration.objects.filter(organisation_id=user.organisation_id).order_by("reference")


# --- writes -----------------------------------------------------------------------------------


def _text(value, field: str, errors: dict, *, required: bool = True, what: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[field] = [what or _("This is required.")]
    elif len(text) > MAX_TEXT:
        errors[field] = [_("At most %(n)d characters.") % {"n": MAX_TEXT}]
    return text


def _message(complaint, actor, kind, text, from_state, at) -> ComplaintMessage:
    return ComplaintMessage.objects.create(
        complaint=complaint,
        author=actor,
        author_role=actor.role,
        kind=kind,
        text=text,
        from_state=from_state,
        to_state=complaint.state,
        at=at,
    )


def _notify(complaint: Complaint, *, subject: Promise, exclude) -> None:
    """Email the complainant's organisation, the operator's staff and the officers, after commit, each
    in their own language: `subject` is a lazy translation, given the complaint's number and state."""
    people = User.objects.filter(is_active=True).filter(
        Q(role=Role.APPLICANT, organisation_id=complaint.organisation_id)
        | Q(role=Role.OPERATOR, operator_id=complaint.operator_id)
        | Q(role=Role.OFFICER)
    )
    number, state = complaint.pk, Complaint.State(complaint.state)
    link = reverse("portal:complaint-detail", args=[complaint.pk])

    def subject_text() -> str:
        return str(subject) % {"id": number, "state": state.label}

    def body() -> str:
        return _("Complaint %(id)s is now %(state)s. Read its timeline in the portal.") % {
            "id": number,
            "state": state.label,
        }

    def send():
        # An email and a notification in the portal for each; failures are logged, never raised.
        notify_users(people.exclude(pk=exclude.pk), subject=subject_text, body=body, link=link)

    transaction.on_commit(send)


def complaint_file(
    *,
    actor,
    registration,
    event,
    happened_at,
    description: str,
    service: str = "",
    service_text: str = "",
    evidence=None,
) -> Complaint:
    """Report a block of one of the actor's organisation's registrations during a published event.

    `registration` is a reference or a Registration, `event` an id or a RestrictionEvent,
    `service` a code of one of the event's services (or `service_text` says what failed),
    `evidence` an uploaded file or None. Nothing is stored unless everything is valid.
    """
    if getattr(actor, "role", None) != Role.APPLICANT or not actor.organisation_id:
        raise NotAllowed(_("Complaints are filed by registrants, about their own registrations."))
    errors: dict[str, list[str]] = {}
    reg = _own_registration(actor, registration, errors)
    ev = _published_event(event, errors)
    at = None
    try:
        at = parse_time(happened_at)
    except ValueError as exc:
        errors["happened_at"] = [str(exc)]
    now = timezone.now()
    _check_when(at, ev, now, errors)
    if reg is not None and ev is not None:
        _check_scope(reg, ev, at, errors)
    service_text = str(service_text or "").strip()
    found_service = _service(ev, str(service or "").strip(), service_text, errors)
    description = _text(description, "description", errors, what=_("Describe what happened."))
    found_evidence, evidence_errors = read_evidence(evidence)
    if evidence_errors:
        errors["evidence"] = evidence_errors
    if errors:
        raise InvalidInput(errors)
    complaint = Complaint(
        registration=reg,
        organisation_id=reg.organisation_id,
        operator_id=reg.operator_id,
        event=ev,
        happened_at=at,
        service=found_service,
        service_text=service_text,
        description=description,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _store(complaint, actor, found_evidence, now)
    return complaint


def _check_when(at: datetime | None, ev: RestrictionEvent | None, now: datetime, errors: dict) -> None:
    """The moment of the block falls in the event's window, and is not in the future."""
    if at is not None and ev is not None and not (ev.starts_at <= at < ev.ends_at):
        errors["happened_at"] = [
            _("%(at)s is outside the event's window, %(start)s to %(end)s.")
            % {"at": utc_iso(at), "start": utc_iso(ev.starts_at), "end": utc_iso(ev.ends_at)}
        ]
    elif at is not None and at > now:
        errors["happened_at"] = [_("This time is in the future.")]


def _check_scope(reg: Registration, ev: RestrictionEvent, at: datetime | None, errors: dict) -> None:
    """The registration is used where the event applies, and was active (so exempt) at that moment."""
    district = reg.district
    if not ev.covers(
        district_id=reg.district_id,
        province_id=district.province_id if district else None,
        districts={d.pk for d in ev.districts.all()},
        provinces={p.pk for p in ev.provinces.all()},
    ):
        errors.setdefault("registration", []).append(_("This registration is outside the event's scope."))
    elif at is not None and "happened_at" not in errors:
        active = ActivePeriod.objects.filter(registration=reg, start__lte=at, end__gt=at).exists()
        if not active:
            errors.setdefault("registration", []).append(
                _("This registration was not active at that time, so it was not exempt.")
            )


def _service(
    ev: RestrictionEvent | None, service_code: str, service_text: str, errors: dict
) -> Service | None:
    """The event's service of that code, or None when the failed service is described in words."""
    found_service = None
    if service_code and ev is not None:
        found_service = ev.services.filter(code=service_code).first()
        if found_service is None:
            errors["service"] = [
                _(
                    "%(code)s is not among the services this event restricts: choose one of them, or "
                    "describe the service in words."
                )
                % {"code": service_code}
            ]
    elif not service_code and not service_text:
        errors["service"] = [_("Choose the service that failed, or describe it in words.")]
    if len(service_text) > 200:
        errors["service_text"] = [_("At most 200 characters.")]
    return found_service


def _store(complaint: Complaint, actor, evidence: Evidence | None, now: datetime) -> None:
    """Save the new complaint, its evidence file, its first message and its audit record together;
    the file is removed again if the transaction fails."""
    written = None
    try:
        with transaction.atomic():
            if evidence is not None:
                written = storage.save_new(files(), evidence.content)
                complaint.evidence_file = written
                complaint.evidence_name = evidence.name
                complaint.evidence_type = evidence.media_type
                complaint.evidence_size = len(evidence.content)
                complaint.evidence_sha256 = hashlib.sha256(evidence.content).hexdigest()
            complaint.save()
            _message(complaint, actor, ComplaintMessage.Kind.REPORT, complaint.description, "", now)
            record(
                actor=actor,
                action="complaint.create",
                obj=complaint,
                to_state=complaint.state,
                at=now,
                data={
                    "registration": complaint.registration.reference,
                    "event": complaint.event.pk,
                    "operator": complaint.registration.operator.code,
                    "evidence_sha256": complaint.evidence_sha256,
                },
            )
            _notify(complaint, subject=gettext_lazy("New complaint %(id)s"), exclude=actor)
    except BaseException:
        if written is not None:
            files().delete(written)
        raise


def _own_registration(actor, registration, errors) -> Registration | None:
    reference = registration.reference if isinstance(registration, Registration) else str(registration or "")
    reference = reference.strip()
    if not reference:
        errors["registration"] = [
            _("Choose the registration the complaint is about, or give its reference, such as R-7K3Q9M2XHD.")
        ]
        return None
    found = (
        Registration.objects.select_related("district", "operator")
        .filter(reference=reference, organisation_id=actor.organisation_id)
        .first()
    )
    if found is None:
        errors["registration"] = [_("Your organisation holds no registration %(ref)s.") % {"ref": reference}]
    return found


def _published_event(event, errors) -> RestrictionEvent | None:
    pk = event.pk if isinstance(event, RestrictionEvent) else event
    found = None
    if (number := whole_number(str(pk or "").strip())) is not None:
        found = (
            RestrictionEvent.objects.filter(pk=number, published_at__isnull=False)
            .prefetch_related("districts", "provinces", "services")
            .first()
        )
    if found is None:
        errors["event"] = [_("There is no published event %(id)s.") % {"id": pk or "-"}]
    return found


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def complaint_message_add(*, actor, complaint: Complaint, text: str) -> ComplaintMessage:
    """An answer or a comment. The operator concerned answering an open complaint makes it answered;
    the complainant and the regulator comment; a closed complaint takes no more messages."""
    role = getattr(actor, "role", None)
    if role == Role.AUDITOR:
        raise NotAllowed(_("Auditors read complaints; they do not write on them."))
    _visible(actor, complaint)
    errors: dict = {}
    text = _text(text, "text", errors, what=_("Write the message."))
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.closed:
            raise WrongState(
                _("This complaint is closed.")
                + (" " + _("Its complainant may reopen it once.") if not complaint.reopened else "")
            )
        before = complaint.state
        kind = ComplaintMessage.Kind.COMMENT
        if role == Role.OPERATOR and before == State.OPEN:
            kind = ComplaintMessage.Kind.ANSWER
            complaint.state = State.ANSWERED
        elif role == Role.OPERATOR:
            kind = ComplaintMessage.Kind.ANSWER
        complaint.updated_at = now
        complaint.save(update_fields=["state", "updated_at"])
        message = _message(complaint, actor, kind, text, before, now)
        record(
            actor=actor,
            action=f"complaint.{kind}",
            obj=complaint,
            from_state=before,
            to_state=complaint.state,
            at=now,
            data={"message": message.pk},
        )
        if before != complaint.state:
            _notify(complaint, subject=gettext_lazy("Complaint %(id)s answered"), exclude=actor)
    return message


def complaint_decide(*, actor, complaint: Complaint, decision: str, reason: str = "") -> Complaint:
    """An officer closes a complaint: resolved, or rejected with a reason."""
    if getattr(actor, "role", None) != Role.OFFICER:
        _visible(actor, complaint)
        raise NotAllowed(_("Only a regulator officer resolves or rejects a complaint."))
    errors: dict = {}
    if decision not in {State.RESOLVED, State.REJECTED}:
        errors["decision"] = [_("Choose a decision: resolved or rejected.")]
    reason = _text(
        reason,
        "reason",
        errors,
        required=decision == State.REJECTED,
        what=_("A rejection gives its reason."),
    )
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.closed:
            raise WrongState(_("This complaint is closed already."))
        before = complaint.state
        complaint.state = decision
        complaint.closed = True
        complaint.decision_reason = reason
        complaint.updated_at = now
        complaint.save(update_fields=["state", "closed", "decision_reason", "updated_at"])
        kind = ComplaintMessage.Kind.RESOLVE if decision == State.RESOLVED else ComplaintMessage.Kind.REJECT
        text = reason or _("Resolved.")
        _message(complaint, actor, kind, text, before, now)
        record(
            actor=actor,
            action=f"complaint.{kind}",
            obj=complaint,
            from_state=before,
            to_state=complaint.state,
            reason=reason,
            at=now,
        )
        _notify(
            complaint,
            subject=gettext_lazy("Complaint %(id)s: %(state)s"),
            exclude=actor,
        )
    return complaint


def complaint_reopen(*, actor, complaint: Complaint, reason: str) -> Complaint:
    """The complainant reopens a resolved or rejected complaint, once, saying why."""
    _visible(actor, complaint)
    if getattr(actor, "role", None) != Role.APPLICANT:
        raise NotAllowed(_("Only the complainant's organisation reopens a complaint."))
    errors: dict = {}
    reason = _text(reason, "reason", errors, what=_("Say why you reopen the complaint."))
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        complaint = _locked(complaint)
        if not complaint.closed:
            raise WrongState(_("This complaint is still open."))
        if complaint.reopened:
            raise WrongState(_("This complaint has been reopened once already; it stays closed."))
        before = complaint.state
        complaint.state = State.OPEN
        complaint.closed = False
        complaint.reopened = True
        complaint.updated_at = now
        complaint.save(update_fields=["state", "closed", "reopened", "updated_at"])
        _message(complaint, actor, ComplaintMessage.Kind.REOPEN, reason, before, now)
        record(
            actor=actor,
            action="complaint.reopen",
            obj=complaint,
            from_state=before,
            to_state=complaint.state,
            reason=reason,
            at=now,
        )
        _notify(complaint, subject=gettext_lazy("Complaint %(id)s reopened"), exclude=actor)
    return complaint


def _visible(actor, complaint: Complaint) -> None:
    """Services are called with objects the views fetched for the actor; check again all the same."""
    if not Complaint.objects.visible_to(actor).filter(pk=complaint.pk).exists():
        raise Http404("no such complaint")
