"""Stored files streamed through the API (an allowlist file, an exemption job's answer)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.storage import Storage
from django.http import FileResponse, Http404

from vpnregistry import storage


@dataclass(frozen=True)
class Stored:
    """A file in a storage, streamed from there rather than read into memory."""

    files: Storage
    name: str


def stored_file_response(stored: Stored, *, content_type: str, **options) -> FileResponse:
    """The stored file streamed through the app, with its length (404 when it is missing)."""
    try:
        fh = storage.open_stream(stored.files, stored.name)
    except FileNotFoundError:
        raise Http404("this file is no longer kept") from None
    response = FileResponse(fh, content_type=content_type, **options)
    response.headers.setdefault("Content-Length", str(fh.size))  # a stream from the object store
    return response
