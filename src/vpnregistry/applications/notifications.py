"""Email to the people concerned when an application changes state."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail

logger = logging.getLogger(__name__)


def notify_transition(*, application, from_state: str, to_state: str, reason: str) -> None:
    """Tell the applicant organisation's members; failures are logged, never raised into the workflow."""
    recipients = [
        email
        for email in application.organisation.members.filter(is_active=True).values_list("email", flat=True)
        if email
    ]
    if not recipients:
        return
    label = application.tracking_number or f"draft {application.pk}"
    subject = f"[vpnregistry] {label}: {to_state.replace('_', ' ')}"
    body = f"Application {label} moved from {from_state or 'new'} to {to_state}."
    if reason:
        body += f"\n\nReason: {reason}"
    try:
        send_mass_mail(
            [(subject, body, settings.DEFAULT_FROM_EMAIL, [r]) for r in recipients], fail_silently=False
        )
    except OSError:
        logger.exception("could not send the notification for application %s", application.pk)
