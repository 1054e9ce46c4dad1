"""An organisation's documents: upload, the check before submission.

Who may read them and when they are purged is the applications app's (applications/documents.py):
both read applications and registrations, which sit above this app.

Documents belong to the organisation, not to one application: each later application reuses them
until they expire. Files are kept in the `documents` storage (a private folder, DOCUMENTS_DIR, outside
every static folder, or the object store) and served only after `document_for` has checked who asks.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry import storage
from vpnregistry.accounts.models import Document, DocumentRequirement, DocumentType, Organisation, Role
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.uploads import DOCUMENT_TYPES, Upload, read_upload

logger = logging.getLogger(__name__)


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


def document_upload(*, actor, document_type, upload, expires_on: date | str | None = None) -> Document:
    """A member files a document for its organisation: PDF, PNG or JPEG (from the content), 5 MB at most."""
    if getattr(actor, "role", None) != Role.APPLICANT or not actor.organisation_id:
        raise NotAllowed(_("Only a member of an organisation can file its documents."))
    organisation = actor.organisation
    kind, checked, expiry = _checked_upload(organisation, document_type, upload, expires_on)
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


def _checked_upload(
    organisation: Organisation, document_type, upload, expires_on
) -> tuple[DocumentType, Upload, date | None]:
    """The document's type, its file read and checked, and its expiry date: InvalidInput naming every
    problem found."""
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
    return kind, checked, expiry


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
