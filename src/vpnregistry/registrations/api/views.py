"""API views of registrations: the steps of their lifecycle, the holder's certificate (a PDF), the
public check of a certificate's code (no sign-in; it counts against the per-address lookup limit the
portal's pages share), and operators' changes to their address space, which officers decide.

Parse the request, call one service or selector, respond.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry.accounts.models import AddressSpaceChange, Role
from vpnregistry.api.pagination import IdCursorPagination
from vpnregistry.api.permissions import PublicLookup, role_permission
from vpnregistry.api.schema import ERROR, THROTTLED, VALIDATION_ERROR
from vpnregistry.db import visible_or_404
from vpnregistry.errors import InvalidInput
from vpnregistry.registrations import certificates, space
from vpnregistry.registrations import selectors as registration_selectors
from vpnregistry.registrations import services as registration_services
from vpnregistry.registrations.api import serializers as s
from vpnregistry.registrations.models import Registration
from vpnregistry.registrations.responses import pdf_response
from vpnregistry.timeutil import parse_time

REGISTRATION_STEP_RESPONSES = {
    200: s.RegistrationSerializer,
    400: VALIDATION_ERROR,
    403: ERROR,
    404: ERROR,
    409: ERROR,
}


class RegistrationViewSet(viewsets.ReadOnlyModelViewSet):
    """Registrations the caller may see, and the steps of their lifecycle."""

    serializer_class = s.RegistrationSerializer
    pagination_class = IdCursorPagination
    filterset_fields = ["state", "kind"]

    def get_queryset(self):
        return Registration.objects.visible_to(self.request.user).select_related(
            *registration_selectors.REGISTRATION_RELATED, "district"
        )

    def _step(self, request, step):
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        registration = registration_services.registration_change_state(
            actor=request.user,
            registration=self.get_object(),
            step=step,
            reason=body.validated_data["reason"],
        )
        return Response(s.RegistrationSerializer(registration).data)

    @extend_schema(request=s.ReasonSerializer, responses=REGISTRATION_STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._step(request, "suspend")

    @extend_schema(request=s.ReasonSerializer, responses=REGISTRATION_STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        return self._step(request, "reinstate")

    @extend_schema(request=s.ReasonSerializer, responses=REGISTRATION_STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._step(request, "revoke")

    @extend_schema(request=s.ReasonSerializer, responses=REGISTRATION_STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def surrender(self, request, pk=None):
        return self._step(request, "surrender")

    @extend_schema(request=s.ReasonSerializer, responses=REGISTRATION_STEP_RESPONSES)
    @action(detail=True, methods=["post"], url_path="report-unassigned")
    def report_unassigned(self, request, pk=None):
        return self._step(request, "report-unassigned")


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
        registration = certificates.registration_for_organisation(request.user, pk)
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


# --- operators' address space changes --------------------------------------------------------

STEP_RESPONSES = {400: VALIDATION_ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


def _body(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class SpaceChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Operators propose changes to their own address space; officers approve or reject them."""

    permission_classes = [role_permission(Role.OPERATOR, Role.OFFICER, Role.AUDITOR)]
    serializer_class = s.SpaceChangeSerializer
    pagination_class = IdCursorPagination
    filterset_fields = ["state", "action"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AddressSpaceChange.objects.none()
        return AddressSpaceChange.objects.visible_to(self.request.user).select_related(*space.CHANGE_RELATED)

    def get_object(self):
        return visible_or_404(
            AddressSpaceChange.objects.visible_to(self.request.user).select_related(*space.CHANGE_RELATED),
            self.kwargs.get("pk"),
        )

    @extend_schema(
        request=s.SpaceChangeCreateSerializer, responses={201: s.SpaceChangeSerializer, **STEP_RESPONSES}
    )
    def create(self, request):
        space.require_operator(request.user)
        change = space.space_change_propose(
            actor=request.user, **_body(s.SpaceChangeCreateSerializer, request)
        )
        return Response(s.SpaceChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SpaceDecisionSerializer, responses={200: s.SpaceChangeSerializer, **STEP_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        change = self.get_object()
        space.require_officer(request.user)
        reason = _body(s.SpaceDecisionSerializer, request)["reason"]
        change = space.space_change_approve(actor=request.user, change=change, reason=reason)
        return Response(s.SpaceChangeSerializer(change).data)

    @extend_schema(
        request=s.SpaceDecisionSerializer, responses={200: s.SpaceChangeSerializer, **STEP_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        change = self.get_object()
        space.require_officer(request.user)
        reason = _body(s.SpaceDecisionSerializer, request)["reason"]
        change = space.space_change_reject(actor=request.user, change=change, reason=reason)
        return Response(s.SpaceChangeSerializer(change).data)
