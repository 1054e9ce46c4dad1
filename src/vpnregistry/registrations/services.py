"""Writes to registrations: creation on approval, suspension, reinstatement, revocation, surrender,
the operator's report that a resource is no longer assigned, and the sweep that expires and reminds."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vpnregistry.audit.services import record
from vpnregistry.db import hold_lock, overlapping_q
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.notifications.services import Text, notify_organisation
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.registrations.outbox import request_publication

State = Registration.State


def registrations_create(
    *, actor, application, resources, at: datetime, suspension_acknowledged: bool = False
) -> list[Registration]:
    """Register the confirmed `resources` of an approved application (applications.Application and
    Resource, the app above); the caller holds the approval lock.

    A resource that renews a registration replaces it without a gap: the old one ends at `at`, the
    instant the new one begins, and the new one runs for the validity from the later of `at` and
    the old one's end (renewing early loses no time). The old one is recorded as expired, with the
    new one named as the reason. A suspended one is replaced only when the deciding officer
    acknowledged its suspension (`suspension_acknowledged`); a revoked or surrendered one never.
    """
    validity = timedelta(days=settings.REGISTRATION_VALIDITY_DAYS)
    created = []
    for resource in resources:
        old = _to_renew(resource, suspension_acknowledged) if resource.renews_id else None
        until = (max(at, old.valid_until) if old is not None else at) + validity
        registration = _register(actor, application, resource, at=at, until=until, renews=old)
        if old is not None and old.state in {State.ACTIVE, State.SUSPENDED}:
            _replace(actor, old, by=registration, at=at)
        created.append(registration)
    return created


def _to_renew(resource, suspension_acknowledged: bool) -> Registration:
    """The registration that `resource` renews, locked; WrongState when it cannot be renewed now."""
    old = Registration.objects.select_for_update(of=("self",)).get(pk=resource.renews_id)
    renewable = {State.ACTIVE, State.EXPIRED}
    if suspension_acknowledged:
        renewable.add(State.SUSPENDED)
    if old.state not in renewable:
        raise WrongState(
            _("%(ref)s is %(state)s now and cannot be renewed.")
            % {"ref": old.reference, "state": old.get_state_display()}
        )
    return old


def _register(
    actor, application, resource, *, at: datetime, until: datetime, renews: Registration | None
) -> Registration:
    """The resource's registration, active from `at` until `until`, and its record."""
    registration = Registration.objects.create(
        resource=resource,
        organisation_id=application.organisation_id,
        operator_id=resource.operator_id,
        kind=resource.kind,
        value=resource.value,
        family=resource.family,
        first=resource.first,
        last=resource.last,
        district_id=resource.district_id,
        state=Registration.State.ACTIVE,
        valid_from=at,
        valid_until=until,
    )
    ActivePeriod.objects.create(registration=registration, start=at, end=until)
    data = {
        "value": registration.value,
        "application": application.tracking_number,
        "valid_until": until.isoformat(),
    }
    if renews is not None:
        data["renews"] = renews.reference
    record(
        actor=actor,
        action="registration.create",
        obj=registration,
        to_state=registration.state,
        data=data,
        at=at,
    )
    return registration


def _replace(actor, old: Registration, *, by: Registration, at: datetime) -> None:
    """The active or suspended registration `old`, renewed `by` another, recorded as expired at `at`."""
    from_state = old.state
    if from_state == State.ACTIVE:
        end_activity(registration=old, at=at)
        old.state_reason = _("Renewed by %(ref)s.") % {"ref": by.reference}
    else:
        old.state_reason = _("Renewed by %(ref)s, the officer acknowledging its suspension (%(reason)s).") % {
            "ref": by.reference,
            "reason": old.state_reason,
        }
    old.state = State.EXPIRED
    old.state_changed_at = at
    old.save(update_fields=["state", "state_reason", "state_changed_at"])
    record(
        actor=actor,
        action="registration.renewed",
        obj=old,
        from_state=from_state,
        to_state=State.EXPIRED,
        reason=old.state_reason,
        at=at,
        data={"value": old.value, "renewed_by": by.reference},
    )


def end_activity(*, registration: Registration, at: datetime) -> None:
    """Close the registration's current active period at `at` (suspension, revocation, surrender)."""
    ActivePeriod.objects.filter(registration=registration, start__lte=at, end__gt=at).update(end=at)


def resume_activity(*, registration: Registration, at: datetime) -> None:
    """Open a new active period from `at` to the end of validity (reinstatement)."""
    if at < registration.valid_until:
        ActivePeriod.objects.create(registration=registration, start=at, end=registration.valid_until)


REMINDER_DAYS = (30, 7)


@dataclass(frozen=True)
class Transition:
    action: str
    roles: tuple[str, ...]
    from_states: tuple[str, ...]
    to_state: str
    needs_reason: bool


TRANSITIONS = {
    "suspend": Transition("registration.suspend", ("officer",), (State.ACTIVE,), State.SUSPENDED, True),
    "reinstate": Transition("registration.reinstate", ("officer",), (State.SUSPENDED,), State.ACTIVE, True),
    "revoke": Transition(
        "registration.revoke", ("officer",), (State.ACTIVE, State.SUSPENDED), State.REVOKED, True
    ),
    "surrender": Transition(
        "registration.surrender", ("applicant",), (State.ACTIVE, State.SUSPENDED), State.SURRENDERED, False
    ),
    "report-unassigned": Transition(
        "registration.unassigned", ("operator",), (State.ACTIVE,), State.SUSPENDED, True
    ),
}


def _may_act(actor, registration: Registration, step: Transition) -> None:
    role = getattr(actor, "role", None)
    if role not in step.roles:
        raise NotAllowed(_("This step needs one of the roles: %(roles)s.") % {"roles": ", ".join(step.roles)})
    if role == "applicant" and registration.organisation_id != actor.organisation_id:
        raise NotAllowed(_("This registration belongs to another organisation."))
    if role == "operator" and registration.operator_id != actor.operator_id:
        raise NotAllowed(_("This registration is not in your address space or numbering."))


def registration_change_state(
    *, actor, registration: Registration, step: str, reason: str = ""
) -> Registration:
    """One lifecycle step, audited, with the exemption history and the allowlist kept in step."""
    transition = TRANSITIONS[step]
    reason = (reason or "").strip()
    if transition.needs_reason and not reason:
        raise InvalidInput({"reason": [_("This step needs a reason.")]})
    now = timezone.now()
    with transaction.atomic():
        registration = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
        _may_change(actor, registration, transition, step=step, now=now)
        from_state = registration.state
        registration.state = transition.to_state
        registration.state_reason = reason
        registration.state_changed_at = now
        _save_state(registration)
        if transition.to_state == State.ACTIVE:
            resume_activity(registration=registration, at=now)
        elif from_state == State.ACTIVE:
            end_activity(registration=registration, at=now)
        record(
            actor=actor,
            action=transition.action,
            obj=registration,
            from_state=from_state,
            to_state=registration.state,
            reason=reason,
            at=now,
            data={"value": registration.value},
        )
        request_publication(reason=f"{step} of {registration.reference}")
        state = registration.state
        transaction.on_commit(lambda: _notify_state(registration, state, reason))
    return registration


def _may_change(
    actor, registration: Registration, transition: Transition, *, step: str, now: datetime
) -> None:
    """NotAllowed or WrongState when `actor` may not take `step` on the (locked) registration now."""
    _may_act(actor, registration, transition)
    if registration.state not in transition.from_states:
        raise WrongState(
            _("A registration that is %(state)s cannot be changed this way.")
            % {"state": registration.get_state_display()}
        )
    if transition.to_state == State.ACTIVE and registration.valid_until <= now:
        raise WrongState(_("This registration's validity has ended; it can only be renewed."))
    if transition.to_state == State.ACTIVE and step == "reinstate":
        # Another organisation may have registered the space while this one was suspended.
        hold_lock("approval")
        clash = (
            Registration.objects.filter(
                overlapping_q(ipaddress.ip_network(registration.value)), state=State.ACTIVE
            )
            .exclude(organisation_id=registration.organisation_id)
            .first()
            if registration.family
            else None
        )
        if clash is not None:
            raise WrongState(
                _("%(value)s now overlaps %(other)s, registered to another organisation.")
                % {"value": registration.value, "other": clash.value}
            )


def _save_state(registration: Registration) -> None:
    """Save the registration's new state; WrongState when the database refuses it for an overlap."""
    try:
        with transaction.atomic():
            registration.save(update_fields=["state", "state_reason", "state_changed_at"])
    except IntegrityError:
        # PostgreSQL's exclusion constraint: another organisation's active registration overlaps.
        raise WrongState(
            _("%(value)s now overlaps an active registration of another organisation.")
            % {"value": registration.value}
        ) from None


def _notify_state(registration: Registration, state: str, reason: str) -> None:
    """The holder's members, each in their language: the registration's new state, and why."""
    reference, value = registration.reference, registration.value

    def subject() -> str:
        return _("%(reference)s: %(state)s") % {"reference": reference, "state": State(state).label}

    def body() -> str:
        text = _("Registration %(reference)s (%(value)s) is now %(state)s.") % {
            "reference": reference,
            "value": value,
            "state": State(state).label,
        }
        if reason:
            text += "\n\n" + _("Reason: %(reason)s") % {"reason": reason}
        return text

    notify_organisation_of(registration, subject=subject, body=body)


def notify_organisation_of(registration: Registration, *, subject: Text, body: Text) -> None:
    """Every active member of the holder organisation, each in their own language (see `Text`)."""
    notify_organisation(registration.organisation, subject=subject, body=body)


def _notify_expiry(registration: Registration, days: int) -> None:
    """The reminder that the registration's validity ends in `days` days, in each member's language."""
    reference, value = registration.reference, registration.value
    until = f"{timezone.localtime(registration.valid_until):%Y-%m-%d %H:%M %Z}"  # the zone named: PKT

    def subject() -> str:
        return ngettext(
            "%(reference)s expires in %(days)d day", "%(reference)s expires in %(days)d days", days
        ) % {"reference": reference, "days": days}

    def body() -> str:
        return _(
            "Registration %(reference)s (%(value)s) expires on %(until)s. "
            "Renew it before then to stay on the allowlist."
        ) % {"reference": reference, "value": value, "until": until}

    notify_organisation_of(registration, subject=subject, body=body)


@dataclass
class SweepReport:
    expired: list[str]
    reminded: list[tuple[str, int]]
    published_serial: int | None = None  # filled by the sweep that publishes (allowlist/publication.py)


def registrations_expire_and_remind(*, now: datetime | None = None, batch: int = 1000) -> SweepReport:
    """For the sweep, idempotent: expire what has run out, send each reminder once.

    Only an active registration expires: a suspended or revoked one keeps its state past its end
    date, so that waiting never lifts a suspension (renewing a suspended one needs an officer who
    acknowledges the suspension, applications/services/decision.py).
    Expiry needs no change to the active periods: each one already ends at the end of validity.
    Each batch of expiries records the wish to publish in its own transaction; the sweep publishes
    after this (allowlist/publication.py `sweep`), building the allowlist only when something is due.
    """
    now = now or timezone.now()
    expired: list[str] = []
    while True:
        with transaction.atomic():
            due = list(
                Registration.objects.select_for_update(of=("self",))
                .filter(state=State.ACTIVE, valid_until__lte=now)
                .order_by("valid_until", "id")[:batch]
            )
            for registration in due:
                from_state = registration.state
                registration.state = State.EXPIRED
                registration.state_changed_at = now
                registration.save(update_fields=["state", "state_changed_at"])
                record(
                    actor=None,
                    action="registration.expire",
                    obj=registration,
                    from_state=from_state,
                    to_state=State.EXPIRED,
                    at=now,
                    data={"value": registration.value},
                )
                expired.append(registration.reference)
            if due:
                request_publication(reason=f"expiry of {len(due)} registration(s)", start=False)
        if len(due) < batch:
            break
    reminded: list[tuple[str, int]] = []
    for days in REMINDER_DAYS:
        horizon = now + timedelta(days=days)
        candidates = Registration.objects.filter(
            state=State.ACTIVE, valid_until__gt=now, valid_until__lte=horizon
        ).select_related("organisation")
        for registration in candidates.iterator(chunk_size=batch):
            if days in registration.reminders_sent:
                continue
            with transaction.atomic():
                registration.reminders_sent = sorted({*registration.reminders_sent, days})
                registration.save(update_fields=["reminders_sent"])
                record(
                    actor=None,
                    action="registration.remind",
                    obj=registration,
                    at=now,
                    data={"days": days, "valid_until": registration.valid_until.isoformat()},
                )
            _notify_expiry(registration, days)
            reminded.append((registration.reference, days))
    return SweepReport(expired=expired, reminded=reminded)
