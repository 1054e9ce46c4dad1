"""An organisation's documents: upload, the check before submission, who may read them, the purge.

Documents belong to the organisation, not to one application: each later application reuses them
until they expire. Files are kept in the `documents` storage (a private folder, DOCUMENTS_DIR, outside
every static folder, or the object store) and served only after `document_for` has checked who asks.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry import storage
from vpnregistry.accounts.models import Document, DocumentRequirement, DocumentType, Organisation, Role
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.uploads import DOCUMENT_TYPES, read_upload

logger = logging.getLogger(__name__)

# Applications in these states are finished: they hold nothing open that needs the documents.
CLOSED_APPLICATION_STATES = ("approved", "rejected", "withdrawn")
# Registrations in these states still stand: the organisation's documents are kept.
STANDING_REGISTRATION_STATES = ("active", "suspended")


def files():
    return storage.get(storage.DOCUMENTS)


def today() -> date:
    return timezone.localdate()


# --- reads ------------------------------------------------------------------------------------


def documents_of(organisation: Organisation) -> QuerySet[Document]:
    """The organisation's documents still on file (newest first)."""
    return (
        Document.objects.filter(organisation=organisation, deleted_at__isnull=True)
        .select_related("document_type", "uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def may_read_organisation_documents(user, organisation_id: int) -> bool:
    """Its own members; the agency reviewers an application of it was routed to; officers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.APPLICANT:
        return user.organisation_id == organisation_id
    if user.role == Role.OFFICER:
        return True
    if user.role == Role.AGENCY:
        from vpnregistry.applications.models import Application

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


def open_document(document: Document):
    """The stored file opened for reading, or 404 once it was deleted; the caller checked access."""
    if document.deleted_at is not None or not document.file:
        raise Http404("this document was deleted")
    try:
        return storage.open_stream(files(), document.file)
    except FileNotFoundError:
        raise Http404("the document file is missing") from None


@dataclass(frozen=True)
class RequirementStatus:
    requirement: DocumentRequirement
    types: list[DocumentType]
    document: Document | None  # the newest valid document that satisfies it, if any

    @property
    def met(self) -> bool:
        return self.document is not None


def requirement_status(organisation: Organisation, *, on: date | None = None) -> list[RequirementStatus]:
    """Each document the organisation's category needs, with the document on file that meets it."""
    on = on or today()
    requirements = list(
        DocumentRequirement.objects.filter(category_id=organisation.category_id)
        .prefetch_related("document_types")
        .order_by("position", "id")
    )
    if not requirements:
        return []
    valid = documents_of(organisation).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))
    newest: dict[int, Document] = {}
    for document in valid:
        newest.setdefault(document.document_type_id, document)
    status = []
    for requirement in requirements:
        types = list(requirement.document_types.all())
        found = [newest[t.pk] for t in types if t.pk in newest]
        status.append(
            RequirementStatus(
                requirement=requirement,
                types=types,
                document=max(found, key=lambda d: (d.uploaded_at, d.pk)) if found else None,
            )
        )
    return status


def require_documents(organisation: Organisation, *, on: date | None = None) -> None:
    """Refuse (InvalidInput naming each one) when a document the category needs is not on file and valid."""
    missing = [s.requirement.local_name for s in requirement_status(organisation, on=on) if not s.met]
    if missing:
        raise InvalidInput(
            {
                "documents": [
                    _("No valid document on file for: %(name)s. Upload it first.") % {"name": name}
                    for name in missing
                ]
            }
        )


def document_types_for(organisation: Organisation) -> QuerySet[DocumentType]:
    """The document types the organisation's category asks for (the ones it may upload)."""
    return DocumentType.objects.filter(requirements__category_id=organisation.category_id).distinct()


# --- writes -----------------------------------------------------------------------------------


def upload_document(*, actor, document_type, upload, expires_on: date | str | None = None) -> Document:
    """A member files a document for its organisation: PDF, PNG or JPEG (from the content), 5 MB at most."""
    if getattr(actor, "role", None) != Role.APPLICANT or not actor.organisation_id:
        raise NotAllowed(_("Only a member of an organisation can file its documents."))
    organisation = actor.organisation
    errors: dict[str, list[str]] = {}
    allowed = {t.code: t for t in document_types_for(organisation)}
    code = document_type.code if isinstance(document_type, DocumentType) else str(document_type or "").strip()
    kind = allowed.get(code)
    if kind is None:
        errors["document_type"] = [
            _("Must be one of the documents your category asks for: %(codes)s.")
            % {"codes": ", ".join(sorted(allowed)) or "-"}
        ]
    if upload is None:
        errors["file"] = [_("A file is required.")]
    else:
        checked, reasons = read_upload(
            upload,
            allowed=DOCUMENT_TYPES,
            refused=_("The file is not a PDF, PNG or JPEG file (judged by its content)."),
            default_name="document",
        )
        if reasons:
            errors["file"] = reasons
    expiry = _clean_expiry(expires_on, errors)
    if kind is not None and kind.needs_expiry and expiry is None and "expires_on" not in errors:
        errors["expires_on"] = [_("This document has an expiry date: give it.")]
    if expiry is not None and expiry < today():
        errors.setdefault("expires_on", []).append(_("This document has already expired."))
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    name = storage.save_new(files(), checked.content)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                organisation=organisation,
                document_type=kind,
                file=name,
                name=checked.name,
                sha256=hashlib.sha256(checked.content).hexdigest(),
                content_type=checked.media_type,
                size=len(checked.content),
                uploaded_by=actor,
                uploaded_at=now,
                expires_on=expiry,
            )
            record(
                actor=actor,
                action="document.upload",
                obj=document,
                at=now,
                data={
                    "organisation": organisation.pk,
                    "type": kind.code,
                    "sha256": document.sha256,
                    "size": document.size,
                    "expires_on": expiry.isoformat() if expiry else None,
                },
            )
    except BaseException:
        files().delete(name)
        raise
    return document


def _clean_expiry(value, errors) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors["expires_on"] = [_("Give the date as YYYY-MM-DD.")]
        return None


# --- retention --------------------------------------------------------------------------------


def purge_candidates(*, now: datetime | None = None) -> QuerySet[Organisation]:
    """Organisations whose documents are due for deletion: nothing of theirs moved since the cutoff.

    Only organisations that still hold a document uploaded before the cutoff are looked at (the
    partial index on live documents); for each, the checks are index seeks on its registrations
    (organisation, state) and applications (organisation, created). Once purged, an organisation
    holds no live document and drops out of the next runs.
    """
    from vpnregistry.applications.models import Application
    from vpnregistry.registrations.models import Registration

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
