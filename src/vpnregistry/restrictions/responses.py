"""A complaint's evidence as an HTTP response: the same download in the API and the portal."""

from __future__ import annotations

from django.http import FileResponse

from vpnregistry.restrictions import evidence
from vpnregistry.restrictions.models import Complaint


def evidence_response(complaint: Complaint) -> FileResponse:
    """The evidence as an attachment with the media type checked from its content."""
    fh = evidence.open_evidence(complaint)
    response = FileResponse(
        fh, content_type=complaint.evidence_type, as_attachment=True, filename=complaint.evidence_name
    )
    response.headers.setdefault("Content-Length", str(fh.size))  # a stream from the object store
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
