from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vpnregistry.fieldcrypt import EncryptedTextField


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> NotificationQuerySet:
        """The user's own notifications; nobody else's, whatever their role."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(recipient_id=user.pk)


class Notification(models.Model):
    """A message to one user, listed in the portal beside the email that carried it."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        db_table = "applications_notification"  # made by the applications app before this one existed
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_recipient"),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.subject


class OutgoingMail(models.Model):
    """One email waiting to be sent, sent, or given up on: written with its notification, sent by a task.

    A mail server that is down delays the email, never loses it: the task tries again with growing
    pauses, and after the last try the email is kept as failed, listed for officers. The body is
    encrypted at rest (it may carry an application's status secret) and emptied once sent.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body = EncryptedTextField(blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next try is due; a task that takes the email moves it on first, so that a worker that
    # dies mid-way leaves the email to a later try instead of to nobody.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "applications_outgoingmail"  # likewise
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="mail_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.state})"
