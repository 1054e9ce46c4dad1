"""Sending the emails that notifications write (`OutgoingMail`), by a task, never inside a request.

A notification's emails are written in the same transaction as the notification itself, then the
task `vpnregistry.send_mail` sends what is due. A mail server that is down costs a try, not the
email: each failed try moves the next one further off (1, 2, 4, ... minutes, at most an hour apart),
and only after `VPNREGISTRY_MAIL_ATTEMPTS` tries is an email given up on, kept as failed and listed
for officers, who may send the failed ones again. The task takes the emails it sends by moving
their next try a lease ahead first, so two workers never send the same email at once and a worker
killed mid-way leaves its emails to a later try (an email may then go out twice, never zero times).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.audit.services import record
from vpnregistry.celery import broker_url, dispatch
from vpnregistry.errors import NotAllowed
from vpnregistry.notifications.models import OutgoingMail
from vpnregistry.roles import Role

logger = logging.getLogger(__name__)

SEND_TASK = "vpnregistry.send_mail"
BATCH = 200  # emails a task takes at once
LEASE = timedelta(minutes=5)  # how long a taken email is left alone before another try may take it
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)
State = OutgoingMail.State


def max_attempts() -> int:
    return settings.MAIL_ATTEMPTS


def pause_after(attempts: int) -> timedelta:
    """The wait before the next try, after `attempts` failed ones: doubling, capped."""
    return min(FIRST_PAUSE * (2 ** max(0, attempts - 1)), LONGEST_PAUSE)


def start_sending() -> None:
    """Ask for the task: once the current transaction commits with a broker, here and now without one
    (as notifications were mailed before, so that a development server prints them at once)."""
    if broker_url():
        transaction.on_commit(lambda: dispatch(SEND_TASK), robust=True)
    else:
        dispatch(SEND_TASK)


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    retried: int = 0  # failed tries with tries left
    failed: int = 0  # given up on by this run
    next_due: datetime | None = None  # when the earliest email still pending is due


def deliver_due(*, now: datetime | None = None, batch: int = BATCH) -> Delivery:
    """Send the emails whose try is due; safe to run at any time, from any number of workers."""
    now = now or timezone.now()
    with transaction.atomic():
        taken = list(
            OutgoingMail.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING, next_attempt_at__lte=now)
            .order_by("id")[:batch]
        )
        if taken:
            OutgoingMail.objects.filter(pk__in=[m.pk for m in taken]).update(next_attempt_at=now + LEASE)
    sent: list[int] = []
    retried = failed = 0
    if taken:
        connection = get_connection(fail_silently=False)
        try:
            for mail in taken:
                message = EmailMessage(
                    mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to], connection=connection
                )
                try:
                    message.send()
                except (OSError, smtplib.SMTPException) as exc:
                    if _failed_try(mail, exc, now):
                        failed += 1
                    else:
                        retried += 1
                else:
                    sent.append(mail.pk)
        finally:
            try:
                connection.close()
            except (OSError, smtplib.SMTPException):
                logger.warning("closing the mail connection failed", exc_info=True)
        if sent:
            # The body may hold a status secret: not kept once the email is out.
            OutgoingMail.objects.filter(pk__in=sent).update(state=State.SENT, sent_at=now, body="")
    next_due = OutgoingMail.objects.filter(state=State.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    return Delivery(sent=len(sent), retried=retried, failed=failed, next_due=next_due)


def _failed_try(mail: OutgoingMail, exc: Exception, now: datetime) -> bool:
    """Note a failed try; True when that was the last one."""
    attempts = mail.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:300]
    last = attempts >= max_attempts()
    OutgoingMail.objects.filter(pk=mail.pk).update(
        attempts=attempts,
        last_error=error,
        state=State.FAILED if last else State.PENDING,
        next_attempt_at=now + pause_after(attempts),
    )
    log = logger.error if last else logger.warning
    log(
        "could not send email %d (try %d of %d)%s: %s",
        mail.pk,
        attempts,
        max_attempts(),
        ", given up: listed for officers" if last else "",
        error,
    )
    return last


def failed_mail():
    """The emails given up on, newest first: for officers (see the portal's failed-mail page)."""
    return OutgoingMail.objects.filter(state=State.FAILED).order_by("-id")


def retry_failed(*, actor) -> int:
    """An officer sends the failed emails again (the mail server fixed): each gets its tries anew."""
    if getattr(actor, "role", None) != Role.OFFICER:
        raise NotAllowed(_("Only an officer may send failed emails again."))
    now = timezone.now()
    with transaction.atomic():
        count = OutgoingMail.objects.filter(state=State.FAILED).update(
            state=State.PENDING, attempts=0, next_attempt_at=now
        )
        if count:
            record(actor=actor, action="mail.retry", object_type="mail", at=now, data={"emails": count})
            start_sending()
    return count


def send_email(subject: str, body: str, to: str) -> None:
    """Mail one person as notifications are mailed (an invitation, a password reset): written as an
    outgoing mail and sent by the mail task (retried while the mail server is down, listed for
    officers if every try fails), never inside the request when a broker is set."""
    OutgoingMail.objects.create(to=to, subject=f"[vpnregistry] {subject}"[:255], body=body)
    start_sending()
