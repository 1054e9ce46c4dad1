"""A complaint's evidence: a checked upload, kept in private storage and served only through the views
that check who may read it."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from vpnregistry import storage
from vpnregistry.restrictions.models import Complaint
from vpnregistry.uploads import DOCUMENT_TYPES, MAX_UPLOAD, TEXT, Upload, read_upload

MAX_EVIDENCE = MAX_UPLOAD


def files():
    """The `evidence` storage (a private folder, EVIDENCE_DIR, outside every static folder, or the
    object store): evidence is served only through the views that check access."""
    return storage.get(storage.EVIDENCE)


# One checked upload: the same rules as every upload (see vpnregistry.uploads), plain text allowed too.
Evidence = Upload
# What evidence may be, judged from its content, so what it is served as (the API declares these).
EVIDENCE_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain")


def read_evidence(upload) -> tuple[Evidence | None, list[str]]:
    """Read an uploaded file (anything with .read() and .name) up to the limit; the reasons it is refused."""
    return read_upload(
        upload,
        allowed=DOCUMENT_TYPES | {TEXT},
        refused=_("The file is not a PDF, PNG, JPEG or plain text file (judged by its content)."),
        max_bytes=MAX_EVIDENCE,
        default_name="evidence",
    )


def open_evidence(complaint: Complaint):
    """The evidence file opened for reading, or 404; the caller checked who may read it."""
    if not complaint.evidence_file:
        raise Http404("this complaint has no evidence")
    try:
        return storage.open_stream(files(), complaint.evidence_file)
    except FileNotFoundError:
        raise Http404("the evidence file is missing") from None
