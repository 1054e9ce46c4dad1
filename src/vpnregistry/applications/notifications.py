"""Telling people: an email and a notification in the portal, to everyone concerned by a change.

The applicant organisation's members hear of every transition of their application; the staff who
must act next (the routed agency's reviewers, the operators whose resources wait, the officers) hear
when work starts waiting for them, as the table of steps in `applications/queues.py` says.

Each person is told in their own language (`User.language`, accounts/language.py), whoever made the
change and in whichever language: a message's text is a function that `send` calls once for each
language among its recipients, under that language, so one transition tells an Urdu reader in Urdu
and an English one in English, from a request or from a worker alike.

These run after the transaction that made the change has committed, never inside it; recipients are
written in batches, so that a message to many people never holds one large transaction. Each batch's
emails are written with its notifications (`OutgoingMail`) and sent by a task (applications/mail.py):
a mail server that is down delays them, retried with growing pauses, and never loses one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from vpnregistry.accounts import language as languages
from vpnregistry.accounts.models import Role
from vpnregistry.applications.models import Notification, OutgoingMail

logger = logging.getLogger(__name__)
BATCH = 500


# A message's text: words the same in every language (what a person typed), a lazy translation, or a
# function of no arguments that writes the text in the active language.
Text = str | Promise | Callable[[], str]


@dataclass(frozen=True)
class Message:
    """One subject and body for some users, each user's in their own language (see `Text`).
    `email_only` is added to the email and never stored."""

    users: Iterable | QuerySet
    subject: Text
    body: Text
    link: str = ""
    email_only: Text = ""

    def written(self, language: str) -> tuple[str, str, str]:
        """(subject, body, email_only) in `language`."""
        with languages.speaking(language):
            return _write(self.subject), _write(self.body), _write(self.email_only)


def _write(text: Text) -> str:
    return str(text() if callable(text) else text)


def _recipients(users: Iterable | QuerySet):
    """(pk, email, language) of each user. A queryset is read as plain tuples, in chunks: no model
    instances, so nothing deferred to load one row at a time (a related manager's rows would reload
    their key)."""
    if isinstance(users, QuerySet):
        return users.order_by("pk").values_list("pk", "email", "language").iterator(chunk_size=BATCH)
    return ((user.pk, user.email, languages.of(user)) for user in users)


def send(messages: Iterable[Message]) -> int:
    """Each message to each of its users: a notification, and an email to those with an address.

    Rows are written `BATCH` at a time, one transaction a batch whichever messages they come from (a
    transition that tells three groups writes once), each batch's emails with it; the emails are
    then sent by a task, one email a recipient, so that no recipient sees the others. Returns how
    many notifications were made.
    """
    from vpnregistry.applications.mail import start_sending

    now = timezone.now()
    rows: list[Notification] = []
    mails: list[OutgoingMail] = []
    count = 0
    queued = False

    def flush() -> None:
        nonlocal queued
        if rows:
            try:
                with transaction.atomic():
                    Notification.objects.bulk_create(rows)
                    if mails:
                        OutgoingMail.objects.bulk_create(mails)
                        queued = True
            except DatabaseError:
                logger.exception("could not store %d notifications (%r, ...)", len(rows), rows[0].subject)
        rows.clear()
        mails.clear()

    for message in messages:
        written: dict[str, tuple[str, str, str]] = {}  # the message in each language met so far
        for pk, email, language in _recipients(message.users):
            language = languages.supported(language) or languages.default()
            if language not in written:
                written[language] = message.written(language)
            subject, body, private = written[language]
            subject = subject[:200]
            mail_body = f"{body}\n\n{private}" if private else body
            rows.append(
                Notification(recipient_id=pk, subject=subject, body=body, link=message.link, created_at=now)
            )
            if email:
                mails.append(
                    OutgoingMail(
                        recipient_id=pk,
                        to=email,
                        subject=f"[vpnregistry] {subject}",
                        body=mail_body,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
            count += 1
            if len(rows) == BATCH:
                flush()
    flush()
    if queued:
        start_sending()
    return count


def notify_users(
    users: Iterable | QuerySet, *, subject: Text, body: Text, link: str = "", email_only: Text = ""
) -> int:
    """One message to the users, each in their language (see `send`). Returns how many were notified."""
    return send([Message(users, subject, body, link, email_only)])


def notify_organisation(
    organisation, *, subject: Text, body: Text, link: str = "", email_only: Text = ""
) -> None:
    """Every active member of the organisation, each in their own language."""
    notify_users(_members(organisation), subject=subject, body=body, link=link, email_only=email_only)


def _members(organisation) -> QuerySet:
    return organisation.members.filter(is_active=True)


def application_link(application) -> str:
    return reverse("portal:application-detail", args=[application.pk])


def _state_name(state: str) -> str:
    """An application's state as its reader calls it, in the active language."""
    from vpnregistry.applications.models import Application

    try:
        return str(Application.State(state).label)
    except ValueError:
        return state.replace("_", " ")


def notify_transition(*, application, from_state: str, to_state: str, reason: str) -> None:
    """The applicant organisation, and the staff whose work the application now waits for, each in
    their own language (the texts below are written once for each language among them)."""
    from vpnregistry.applications import queues

    number = application.tracking_number
    draft_pk = application.pk
    link = application_link(application)
    secret = getattr(application, "status_secret", None)  # set only by the first submission

    def label() -> str:
        return number or _("draft %(pk)s") % {"pk": draft_pk}

    def subject() -> str:
        return _("%(label)s: %(state)s") % {"label": label(), "state": _state_name(to_state)}

    def body() -> str:
        text = _("Application %(label)s moved from %(from)s to %(to)s.") % {
            "label": label(),
            "from": _state_name(from_state) if from_state else _("new"),
            "to": _state_name(to_state),
        }
        if reason:
            text += "\n\n" + _("Reason: %(reason)s") % {"reason": reason}
        return text

    def private() -> str:
        # In the email only: the secret is never stored, so it is not in the listed notification either.
        if not (secret and to_state == "submitted"):
            return ""
        return _(
            "With this secret and the tracking number, anyone can follow the application on the public "
            "status page: %(secret)s\nKeep it; the registry cannot show it again."
        ) % {"secret": secret}

    messages = [Message(_members(application.organisation), subject, body, link, email_only=private)]
    for step in queues.steps_entered(application, from_state, to_state):

        def waiting_subject(step=step) -> str:
            return _("%(label)s waits for you: %(step)s") % {"label": label(), "step": step.label}

        def waiting_body(step=step) -> str:
            return _("Application %(label)s of %(org)s (%(category)s) now waits for %(step)s.") % {
                "label": label(),
                "org": application.organisation.name,
                "category": application.category.name,
                "step": step.label,
            }

        messages.append(
            Message(
                queues.owners(step, application).exclude(role=Role.APPLICANT),
                waiting_subject,
                waiting_body,
                link,
            )
        )
    send(messages)


# --- the portal's list ---------------------------------------------------------------------------


def notifications_for(user) -> QuerySet[Notification]:
    """The user's own notifications, newest first; nobody else's, whatever their role."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk).order_by("-id")


def mark_read(*, actor, pk=None) -> int:
    """Mark one of the actor's notifications read (404 for anyone else's), or all of them."""
    qs = notifications_for(actor).filter(read_at__isnull=True)
    if pk is not None:
        try:
            notification = notifications_for(actor).get(pk=pk)
        except (Notification.DoesNotExist, ValueError, TypeError):
            raise Http404("no such notification") from None
        qs = qs.filter(pk=notification.pk)
    return qs.update(read_at=timezone.now())
