"""API views for proof anyone can check: a registration's certificate (the holder's PDF, the public
check of its code) and an application's public status (tracking number plus secret).

The public lookups need no sign-in and use none (so no CSRF either), and count against the
per-address lookup limit the portal's pages share.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry.api import serializers_public as s
from vpnregistry.api.public import THROTTLED, PublicLookup
from vpnregistry.api.views import ERROR, VALIDATION_ERROR
from vpnregistry.errors import InvalidInput
from vpnregistry.registrations import certificates
from vpnregistry.registrations.responses import pdf_response
from vpnregistry.timeutil import parse_time


class CertificatePdfView(APIView):
    """The certificate of one of the caller's organisation's registrations, as a PDF (holders only),
    in the language `lang` names, else the request's (Accept-Language)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "lang",
                OpenApiTypes.STR,
                enum=list(certificates.LANGUAGES),
                description="The certificate's language; without it, the request's (Accept-Language)",
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            400: VALIDATION_ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def get(self, request, pk: int):
        language = request.query_params.get("lang")
        if language is not None and language not in certificates.LANGUAGES:
            raise InvalidInput({"lang": [_("The language is en or ur.")]})
        registration = certificates.registration_for_holder(request.user, pk)
        certificate = certificates.issue_certificate(actor=request.user, registration=registration)
        url = certificates.check_url(certificate.code, base=request.build_absolute_uri("/"))
        return pdf_response(certificate, url, language)


class CertificateCheckView(PublicLookup):
    """Public: whether the registration behind a certificate's code is valid now, and was active at
    `at` (ISO 8601; without an offset, the registry's time zone). Names nobody."""

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter(
                "at", OpenApiTypes.STR, description="A time to ask about, e.g. 2026-11-28T10:00 (local)"
            ),
        ],
        responses={200: s.CertificateCheckSerializer, 400: VALIDATION_ERROR, 404: ERROR, 429: THROTTLED},
    )
    def get(self, request, code: str):
        certificate = certificates.find(code)
        if certificate is None:
            return Response({"detail": _("No registration certificate has this code.")}, status=404)
        raw = (request.query_params.get("at") or "").strip()
        at = None
        if raw:
            try:
                at = parse_time(raw)
            except ValueError as exc:
                raise InvalidInput({"at": [str(exc)]}) from None
        check = certificates.public_check(certificate, at=at)
        return Response(s.CertificateCheckSerializer(check).data)
