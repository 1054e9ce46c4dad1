"""Portal pages for proof anyone can check: a registration's certificate (the holder's PDF and the
public check of its code) and an application's public status (tracking number plus secret).

The public lookups count against one per-address limit, shared with the API's, so that codes and
secrets cannot be tried in bulk; both name nobody.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from vpnregistry.applications.status import public_status
from vpnregistry.codes import normalised
from vpnregistry.portal.forms import StatusForm, cleaned
from vpnregistry.registrations import certificates
from vpnregistry.registrations.models import CERTIFICATE_CODE_LENGTH
from vpnregistry.registrations.responses import pdf_response
from vpnregistry.throttling import lookup_allowed
from vpnregistry.timeutil import parse_time


def _too_many(request, wait: int | None) -> HttpResponse:
    response = render(request, "portal/public_throttled.html", {"wait": wait}, status=429)
    if wait:
        response["Retry-After"] = str(wait)
    return response


# --- certificates -----------------------------------------------------------------------------


@login_required
def certificate_pdf(request, pk: int):
    """The holder's certificate of one registration, as a PDF."""
    registration = certificates.registration_for_organisation(request.user, pk)
    certificate = certificates.issue_certificate(actor=request.user, registration=registration)
    url = certificates.check_url(certificate.code, base=request.build_absolute_uri("/"))
    return pdf_response(certificate, url)


@require_GET
def certificate_verify(request):
    """The form: a code typed from a certificate goes to its check page."""
    typed = request.GET.get("code")
    error = ""
    if typed is not None:
        code = normalised(typed, CERTIFICATE_CODE_LENGTH)
        if code is not None:
            return redirect("portal:certificate-check", code=code)
        error = _("A verification code has %(n)d letters and digits, as printed on the certificate.") % {
            "n": CERTIFICATE_CODE_LENGTH
        }
    return render(
        request,
        "portal/certificate_verify.html",
        {"typed": typed or "", "error": error},
        status=400 if error else 200,
    )


@require_GET
def certificate_check(request, code: str):
    """Public: is the registration behind this code valid now, and was it active at `?at=`?"""
    allowed, wait = lookup_allowed(request)
    if not allowed:
        return _too_many(request, wait)
    certificate = certificates.find(code)
    if certificate is None:
        return render(request, "portal/certificate_verify.html", {"typed": code, "unknown": True}, status=404)
    raw_at = (request.GET.get("at") or "").strip()
    at, at_error = None, ""
    if raw_at:
        try:
            at = parse_time(raw_at)
        except ValueError as exc:
            at_error = str(exc)
    check = certificates.public_check(certificate, at=at)
    return render(
        request,
        "portal/certificate_check.html",
        {
            "check": check,
            "code": certificate.code,
            "raw_at": raw_at,
            "at_error": at_error,
            "time_zone": settings.TIME_ZONE,
        },
        status=400 if at_error else 200,
    )


# --- application status -----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def status(request):
    """Public: an application's state and dates, for its tracking number and status secret.

    The form posts, so that the secret stays out of addresses, histories and server logs.
    """
    context = {"tracking_number": "", "status": None, "not_found": False}
    if request.method == "POST":
        allowed, wait = lookup_allowed(request)
        if not allowed:
            return _too_many(request, wait)
        values = cleaned(StatusForm(request.POST))
        context["tracking_number"] = values["tracking_number"]
        context["status"] = public_status(values["tracking_number"], values["secret"])
        context["not_found"] = context["status"] is None
    return render(request, "portal/status.html", context)
