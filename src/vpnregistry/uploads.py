"""Uploaded files judged by their content: the media type from magic bytes, never from the name."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_UPLOAD = 5 * 1024 * 1024
PDF, PNG, JPEG, TEXT = "application/pdf", "image/png", "image/jpeg", "text/plain"
DOCUMENT_TYPES = frozenset({PDF, PNG, JPEG})


def sniff(head: bytes, whole: bytes) -> str | None:
    """The media type from the content itself (never from the name or the declared type)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    try:
        text = whole.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text) or "\x7f" in text:
        return None
    return TEXT


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    media_type: str


def safe_name(name: str, default: str) -> str:
    name = os.path.basename(str(name or default)).strip()
    return re.sub(r"[\x00-\x1f\x7f/\\]", "", name)[:200] or default


def read_upload(
    upload, *, allowed: frozenset[str], refused: str, max_bytes: int = MAX_UPLOAD, default_name: str = "file"
) -> tuple[Upload | None, list[str]]:
    """Read an uploaded file (anything with .read() and .name) up to the limit; the reasons it is refused.

    `refused` is the message for content of a type not in `allowed`.
    """
    if upload is None:
        return None, []
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        return None, [_("The file is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}]
    if not content:
        return None, [_("The file is empty.")]
    media_type = sniff(content[:16], content)
    if media_type not in allowed:
        return None, [refused]
    name = safe_name(getattr(upload, "name", ""), default_name)
    return Upload(name=name, content=content, media_type=media_type), []
