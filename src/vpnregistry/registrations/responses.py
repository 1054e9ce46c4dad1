"""A registration's certificate as an HTTP response: the same download in the API and the portal."""

from __future__ import annotations

from django.http import HttpResponse

from vpnregistry.registrations import certificates


def pdf_response(certificate, url: str, language: str | None = None) -> HttpResponse:
    """The certificate as a download (in `language`, else the request's), never cached by anything between."""
    response = HttpResponse(
        certificates.render_pdf(certificate, url=url, language=language), content_type="application/pdf"
    )
    reference = certificate.registration.reference
    response["Content-Disposition"] = f'attachment; filename="certificate-{reference}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
