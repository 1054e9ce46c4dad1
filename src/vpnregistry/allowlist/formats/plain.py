"""The plain list (txt) and the canonical document without mobile numbers (json)."""

from __future__ import annotations

from dataclasses import replace

from vpnregistry.allowlist.formats.common import _header, _lines
from vpnregistry.allowlist.formats.document import Allowlist

__all__ = ["render_json", "render_txt"]


def render_txt(allowlist: Allowlist, *, operator: str | None = None) -> str:
    return "".join([_header(allowlist, "#"), *_lines("", allowlist.ipv4), *_lines("", allowlist.ipv6)])


def render_json(allowlist: Allowlist, *, operator: str | None = None) -> str:
    # IP operators get the canonical document without any mobile numbers.
    return replace(allowlist, msisdn={}).to_json()
