"""Who may read an organisation's documents, and when they are purged: both read the organisation's
applications and registrations, so they live here, above accounts, where the documents are kept
(accounts/documents.py: upload, requirements, the check before submission).

Files are served only after `document_for` has checked who asks. The purge deletes the files of an
organisation that nothing has moved for since the retention period (DOCUMENT_RETENTION_DAYS).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.documents import files
from vpnregistry.accounts.models import Document, Organisation, Role
from vpnregistry.applications.models import Application
from vpnregistry.audit.services import record
from vpnregistry.registrations.models import Registration

logger = logging.getLogger(__name__)

# Applications in these states are finished: they hold nothing open that needs the documents.
CLOSED_APPLICATION_STATES = ("approved", "rejected", "withdrawn")
# Registrations in these states still stand: the organisation's documents are kept.
STANDING_REGISTRATION_STATES = ("active", "suspended")


def may_read_organisation_documents(user, organisation_id: int) -> bool:
    """Its own members; the agency reviewers an application of it was routed to; officers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.APPLICANT:
        return user.organisation_id == organisation_id
    if user.role == Role.OFFICER:
        return True
    if user.role == Role.AGENCY:
        return Application.objects.filter(organisation_id=organisation_id, agency_id=user.agency_id).exists()
    return False


def document_for(user, pk) -> Document:
    """One document the user may read, or 404 (never 403, so that ids disclose nothing)."""
    try:
        document = Document.objects.select_related("document_type").get(pk=int(pk))
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404("no such document") from None
    if not may_read_organisation_documents(user, document.organisation_id):
        raise Http404("no such document")
    return document


# --- retention --------------------------------------------------------------------------------


def purge_candidates(*, now: datetime | None = None) -> QuerySet[Organisation]:
    """Organisations whose documents are due for deletion: nothing of theirs moved since the cutoff.

    Only organisations that still hold a document uploaded before the cutoff are looked at (the
    partial index on live documents); for each, the checks are index seeks on its registrations
    (organisation, state) and applications (organisation, created). Once purged, an organisation
    holds no live document and drops out of the next runs.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DOCUMENT_RETENTION_DAYS)
    live = Document.objects.filter(deleted_at__isnull=True)
    holders = live.filter(uploaded_at__lt=cutoff).values("organisation")
    recent_upload = live.filter(organisation=OuterRef("pk"), uploaded_at__gte=cutoff)
    registration_standing = Registration.objects.filter(organisation=OuterRef("pk")).filter(
        Q(state__in=STANDING_REGISTRATION_STATES)
        | Q(state_changed_at__gte=cutoff)
        | Q(state_changed_at__isnull=True, valid_until__gte=cutoff)
    )
    application_open = Application.objects.filter(organisation=OuterRef("pk")).filter(
        ~Q(state__in=CLOSED_APPLICATION_STATES) | Q(created_at__gte=cutoff) | Q(decided_at__gte=cutoff)
    )
    return (
        Organisation.objects.filter(pk__in=holders)
        .exclude(Exists(recent_upload))
        .exclude(Exists(registration_standing))
        .exclude(Exists(application_open))
        .order_by("pk")
    )


def purge_documents(*, now: datetime | None = None) -> int:
    """Delete the files of every organisation due (rows stay, with deleted_at), each deletion audited.

    Idempotent: a second run finds nothing to do. Returns how many documents were deleted.
    """
    now = now or timezone.now()
    # Files of rows deleted by an earlier run that stopped before removing them.
    _remove_files(
        list(Document.objects.filter(deleted_at__isnull=False).exclude(file="").values_list("pk", flat=True))
    )
    deleted = 0
    for organisation_id in list(purge_candidates(now=now).values_list("pk", flat=True)):
        with transaction.atomic():
            # Checked again under the lock: an upload or an application since the query keeps them.
            if not purge_candidates(now=now).filter(pk=organisation_id).exists():
                continue
            documents = list(
                Document.objects.select_for_update()
                .filter(organisation_id=organisation_id, deleted_at__isnull=True)
                .select_related("document_type")
            )
            for document in documents:
                document.deleted_at = now
                document.save(update_fields=["deleted_at"])
                record(
                    actor=None,
                    action="document.purge",
                    obj=document,
                    at=now,
                    reason=_("Retention period after the organisation's last registration ended."),
                    data={
                        "organisation": organisation_id,
                        "type": document.document_type.code,
                        "sha256": document.sha256,
                        "retention_days": settings.DOCUMENT_RETENTION_DAYS,
                    },
                )
            ids = [d.pk for d in documents]
            transaction.on_commit(lambda ids=ids: _remove_files(ids))
            deleted += len(documents)
    return deleted


def _remove_files(ids: list[int]) -> None:
    """Remove the files of deleted documents, then clear their names; a file that will not go stays named."""
    folder = files()
    removed = []
    for pk, name in Document.objects.filter(pk__in=ids, deleted_at__isnull=False).values_list("pk", "file"):
        try:
            folder.delete(name)
        except Exception:
            logger.exception("could not delete document file %s", name)
        else:
            removed.append(pk)
    Document.objects.filter(pk__in=removed).update(file="")
