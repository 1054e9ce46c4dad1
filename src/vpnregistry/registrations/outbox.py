"""The durable wish to publish, written by the changes that affect the allowlist.

Every change that affects the allowlist (an approval, a registration's step, an expiry) calls
`request_publication` inside its own transaction. That writes a `PublicationDue` row, so the wish
commits with the change or not at all, and asks for a publisher once the transaction commits: a
Celery task when a broker is set, else a run in this process (vpnregistry/celery.py). The allowlist
app consumes the rows (allowlist/publication.py); the wish lives here, below it, so that the layers
that change registrations never import the one that publishes them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from vpnregistry.celery import dispatch
from vpnregistry.registrations.models import PublicationDue

PUBLISH_TASK = "vpnregistry.publish"


def request_publication(*, reason: str = "", application_id: int | None = None, start: bool = True) -> None:
    """Record, in the current transaction, that the allowlist is due to be published.

    With `start`, a publisher is asked for once the transaction commits (see the module's note);
    callers that publish themselves right after (the sweep) pass `start=False`.
    """
    PublicationDue.objects.create(at=timezone.now(), reason=reason[:200], application_id=application_id)
    if start:
        transaction.on_commit(start_publisher, robust=True)


def start_publisher(*, countdown: float | None = None) -> None:
    dispatch(PUBLISH_TASK, countdown=countdown)
