"""An organisation's document as an HTTP response: the same download in the API and the portal."""

from __future__ import annotations

from django.http import FileResponse

from vpnregistry.accounts import documents


def document_response(document) -> FileResponse:
    """The file as an attachment, with the media type checked from its content."""
    fh = documents.open_document(document)
    response = FileResponse(
        fh, content_type=document.content_type, as_attachment=True, filename=document.name
    )
    response.headers.setdefault("Content-Length", str(fh.size))  # a stream from the object store
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
