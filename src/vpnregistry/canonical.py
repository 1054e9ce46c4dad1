"""Canonical JSON: the one writer of the JSON documents the registry signs or hashes.

Keys in sorted order at every depth, and no spaces unless indented. The formats that others read
differ in two ways, and each caller says which it writes (the bytes of each are pinned in
tests/test_canonical_forms.py):

- `ensure_ascii`: True writes every non-ASCII character as a \\u escape (the allowlist's documents,
  read by operators' clients, and the audit log's checkpoints); False writes it as itself, in
  UTF-8 (the exemption statements and the audit log's record hashes).
- `newline`: True ends the document with "\\n" (files: the allowlist's documents, the checkpoints).
- `indent`: None writes one line without spaces (`,` and `:`); a number of spaces writes one
  key a line, with ": " between a key and its value, as `json.dumps` does (the checkpoints,
  which people read).

Django-free: the operators' allowlist client uses it too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable


@functools.cache
def _encoder(ensure_ascii: bool, indent: int | None) -> Callable[[object], str]:
    separators = (",", ":") if indent is None else (",", ": ")
    return json.JSONEncoder(
        sort_keys=True, separators=separators, ensure_ascii=ensure_ascii, indent=indent
    ).encode


def canonical_text(document: object, *, ensure_ascii: bool, newline: bool, indent: int | None = None) -> str:
    """The canonical JSON text of `document` (see the module's note for the options)."""
    text = _encoder(ensure_ascii, indent)(document)
    return text + "\n" if newline else text


def canonical(document: object, *, ensure_ascii: bool, newline: bool, indent: int | None = None) -> bytes:
    """The canonical JSON of `document` as UTF-8 bytes: what is signed, hashed and stored."""
    return canonical_text(document, ensure_ascii=ensure_ascii, newline=newline, indent=indent).encode()
