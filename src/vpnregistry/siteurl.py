"""The registry's public address (https://registry.example): one setting, `SITE_URL`.

It starts the links in emails and the check address printed in certificates' QR codes. It is read
from `VPNREGISTRY_SITE_URL`; `VPNREGISTRY_PUBLIC_URL`, the name the certificates read it by before,
is still read when `VPNREGISTRY_SITE_URL` is unset or empty (when both are set, `VPNREGISTRY_SITE_URL`
wins). Unset, it is empty, and each use falls back as it always did: a certificate prints the address
of the request that downloads it, and an email (which has no request) the development server's.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

ENVIRONMENT = "VPNREGISTRY_SITE_URL"
ALIAS = "VPNREGISTRY_PUBLIC_URL"
# What emails link to when no address is set: `make run`'s server.
DEVELOPMENT = "http://127.0.0.1:8000"


def site_url_from(environ: Mapping[str, str]) -> str:
    """The address the environment gives (without a trailing slash), or "" when it gives none."""
    return (environ.get(ENVIRONMENT) or environ.get(ALIAS) or "").rstrip("/")


def site_url(*, request_base: str = "") -> str:
    """The registry's address without a trailing slash: `SITE_URL`, else `request_base` (the address
    of the request being answered), else the development server's."""
    return settings.SITE_URL or request_base.rstrip("/") or DEVELOPMENT
