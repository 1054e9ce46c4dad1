"""Email to the people concerned when an application changes state."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail

logger = logging.getLogger(__name__)


def notify_organisation(organisation, *, subject: str, body: str) -> None:
    """One email to each active member, none seeing the others; failures are logged, never raised."""
    recipients = [e for e in organisation.members.filter(is_active=True).values_list("email", flat=True) if e]
    if not recipients:
        return
    try:
        send_mass_mail(
            [(f"[vpnregistry] {subject}", body, settings.DEFAULT_FROM_EMAIL, [r]) for r in recipients],
            fail_silently=False,
        )
    except OSError:
        logger.exception("could not send %r to organisation %s", subject, organisation.pk)


def notify_transition(*, application, from_state: str, to_state: str, reason: str) -> None:
    """Tell the applicant organisation's members that their application moved on."""
    label = application.tracking_number or f"draft {application.pk}"
    body = f"Application {label} moved from {from_state or 'new'} to {to_state}."
    if reason:
        body += f"\n\nReason: {reason}"
    secret = getattr(application, "status_secret", None)  # set only by the first submission
    if secret and to_state == "submitted":
        body += "\n\nWith this secret and the tracking number, anyone can follow the application on the "
        body += f"public status page: {secret}\nKeep it; the registry cannot show it again."
    notify_organisation(application.organisation, subject=f"{label}: {to_state.replace('_', ' ')}", body=body)
