"""Telling people: an email and a notification in the portal, to everyone concerned by a change.

Who hears of what is decided by the callers (an application's transitions: applications/notifications.py;
complaints, registrations, onboarding: their own services).

Each person is told in their own language (`User.language`, language.py), whoever made the
change and in whichever language: a message's text is a function that `send` calls once for each
language among its recipients, under that language, so one transition tells an Urdu reader in Urdu
and an English one in English, from a request or from a worker alike.

These run after the transaction that made the change has committed, never inside it; recipients are
written in batches, so that a message to many people never holds one large transaction. Each batch's
emails are written with its notifications (`OutgoingMail`) and sent by a task (notifications/mail.py):
a mail server that is down delays them, retried with growing pauses, and never loses one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from vpnregistry import language as languages
from vpnregistry.db import visible_or_404
from vpnregistry.notifications.mail import start_sending
from vpnregistry.notifications.models import Notification, OutgoingMail

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
    notify_users(members(organisation), subject=subject, body=body, link=link, email_only=email_only)


def members(organisation) -> QuerySet:
    return organisation.members.filter(is_active=True)


# --- the portal's list ---------------------------------------------------------------------------


def mark_read(*, actor, pk=None) -> int:
    """Mark one of the actor's notifications read (404 for anyone else's), or all of them."""
    qs = Notification.objects.visible_to(actor).filter(read_at__isnull=True)
    if pk is not None:
        notification = visible_or_404(Notification.objects.visible_to(actor), pk)
        qs = qs.filter(pk=notification.pk)
    return qs.update(read_at=timezone.now())
