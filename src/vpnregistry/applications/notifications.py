"""What an application's transitions tell whom: the applicant organisation hears of every transition,
and the staff who must act next (the routed agency's reviewers, the operators whose resources wait,
the officers) hear when work starts waiting for them, as the table of steps in `queues` says. Sent
through the notifications app, each reader in their own language."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.applications import queues
from vpnregistry.applications.models import Application
from vpnregistry.notifications.services import Message, members, send


def application_link(application) -> str:
    return reverse("portal:application-detail", args=[application.pk])


def _state_name(state: str) -> str:
    """An application's state as its reader calls it, in the active language."""
    try:
        return str(Application.State(state).label)
    except ValueError:
        return state.replace("_", " ")


def notify_transition(*, application, from_state: str, to_state: str, reason: str) -> None:
    """The applicant organisation, and the staff whose work the application now waits for, each in
    their own language (the texts below are written once for each language among them)."""
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

    messages = [Message(members(application.organisation), subject, body, link, email_only=private)]
    for step in queues.steps_entered(application, from_state, to_state):

        def waiting_subject(step=step) -> str:
            return _("%(label)s waits for you: %(step)s") % {"label": label(), "step": step.label}

        def waiting_body(step=step) -> str:
            return _("Application %(label)s of %(org)s (%(category)s) now waits for %(step)s.") % {
                "label": label(),
                "org": application.organisation.name,
                "category": application.category.local_name,
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
