"""Escalation, for cron: work waiting past its step's target is escalated once per entry into the
step, and its owners and the officers are told in one digest each."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vpnregistry.accounts.models import Role, User
from vpnregistry.applications.models import Application, Escalation, Resource
from vpnregistry.applications.queues.steps import STEPS, Step, _waiting, owners, step_targets
from vpnregistry.audit.services import record
from vpnregistry.notifications.services import Message, send
from vpnregistry.timeutil import shown


@dataclass
class EscalationReport:
    escalated: dict[str, int] = field(default_factory=dict)
    recipients: int = 0


def _overdue(step: Step, cutoff: datetime, batch: int):
    """(application, party, entered, operator id or None) for work in `step` waiting since before
    `cutoff` and not yet escalated for this entry; bounded by the work waiting in the step."""
    done = Escalation.objects.filter(
        application=OuterRef("pk"), step=step.code, entered_at=OuterRef(step.since)
    )
    if step.party != "operator":
        qs = (
            Application.objects.filter(_waiting(step), **{f"{step.since}__lt": cutoff})
            .exclude(Exists(done))
            .select_related("agency")
            .order_by(step.since, "id")
        )
        for application in qs.iterator(chunk_size=batch):
            party = f"agency:{application.agency.code}" if step.party == "agency" else "regulator"
            yield application, party, getattr(application, step.since), None
        return
    pairs = (
        Resource.objects.filter(
            state=Resource.State.PENDING,
            application__state__states_in=step.states,
            application__submitted_at__lt=cutoff,
        )
        .values_list("application_id", "operator_id", "operator__code", "application__submitted_at")
        .distinct()
        .order_by("application__submitted_at", "application_id", "operator_id")
    )
    for app_id, operator_id, code, entered in pairs.iterator(chunk_size=batch):
        party = f"operator:{code}"
        if not Escalation.objects.filter(
            application_id=app_id, step=step.code, party=party, entered_at=entered
        ).exists():
            yield Application.objects.get(pk=app_id), party, entered, operator_id


def _escalation_text(lines: list[dict]):
    """The subject and body of one recipient's escalation digest, as functions that write them in the
    active language (notifications.send calls them in the recipient's)."""

    def subject() -> str:
        return ngettext(
            "%(n)d item waiting past its target", "%(n)d items waiting past their target", len(lines)
        ) % {"n": len(lines)}

    def line(values: dict) -> str:
        return (
            ngettext(
                "%(ref)s: %(step)s (%(party)s) waiting since %(since)s, target %(days)d day",
                "%(ref)s: %(step)s (%(party)s) waiting since %(since)s, target %(days)d days",
                values["days"],
            )
            % values
        )

    def body() -> str:
        heading = _("These waited longer than the regulator's target and have been escalated:")
        return heading + "\n\n" + "\n".join(line(values) for values in lines)

    return subject, body


def escalate(*, now: datetime | None = None, batch: int = 500) -> EscalationReport:
    """For cron, idempotent: escalate each piece of work past its target once per entry into its step.

    Each escalation is recorded (an `Escalation` row and an audit event, in one transaction); then
    every recipient (the step's owners and the officers) gets one message listing what was escalated.
    """
    now = now or timezone.now()
    report = EscalationReport()
    targets = step_targets()
    # What each recipient is told, as the values of its lines: written in their language when sent.
    digest: dict[int, list[dict]] = defaultdict(list)
    officers = list(User.objects.filter(is_active=True, role=Role.OFFICER).values_list("pk", flat=True))
    for step in STEPS:
        days = targets.get(step.code)
        if days is None:
            continue
        report.escalated[step.code] = _escalate_step(step, days, now, batch, officers, digest)
    link = reverse("portal:queue") + "?overdue=1"
    # One message a recipient, in their language, written together in batches rather than a
    # transaction each.
    send(
        Message([user], *_escalation_text(digest[user.pk]), link)
        for user in User.objects.filter(pk__in=list(digest)).only("pk", "email", "language").order_by("pk")
    )
    report.recipients = len(digest)
    return report


def _escalate_step(
    step: Step, days: int, now: datetime, batch: int, officers: list[int], digest: dict[int, list[dict]]
) -> int:
    """Escalate the work waiting in `step` for longer than its target of `days`, adding each line to
    the digest of each of its recipients (the step's owners and the officers); how many this run did."""
    cutoff = now - timedelta(days=days)
    count = 0
    for application, party, entered, operator_id in _overdue(step, cutoff, batch):
        if not _record_escalation(step, application, party, entered, days, now):
            continue
        count += 1
        line = {
            "ref": application.tracking_number,
            "step": step.label,
            "party": party,
            "since": shown(entered),
            "days": days,
        }
        ops = [operator_id] if operator_id is not None else None
        for user_id in {*owners(step, application, ops).values_list("pk", flat=True), *officers}:
            digest[user_id].append(line)
    return count


def _record_escalation(
    step: Step, application: Application, party: str, entered: datetime, days: int, now: datetime
) -> bool:
    """Record one escalation, its `Escalation` row and audit event in one transaction; False when another
    run escalated the same entry meanwhile."""
    try:
        with transaction.atomic():
            Escalation.objects.create(
                step=step.code, application=application, party=party, entered_at=entered, at=now
            )
            record(
                actor=None,
                action="application.escalate",
                obj=application,
                at=now,
                data={
                    "step": step.code,
                    "party": party,
                    "entered_at": entered.isoformat(),
                    "target_days": days,
                },
            )
    except IntegrityError:  # escalated meanwhile by another run
        return False
    return True
