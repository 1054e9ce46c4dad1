"""API views of an organisation's documents on file: its members upload and read them, and so do the
reviewers of its applications (who may read which is the applications' rule).

Parse the request, call one service or selector, respond; refusals come from the services.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from vpnregistry.accounts import documents
from vpnregistry.accounts.models import Document, Organisation, Role
from vpnregistry.accounts.responses import document_response
from vpnregistry.api.pagination import IdCursorPagination
from vpnregistry.api.parsers import JSONParser
from vpnregistry.api.permissions import role_permission
from vpnregistry.api.schema import ERROR, VALIDATION_ERROR
from vpnregistry.applications import documents as document_access
from vpnregistry.applications.api import serializers as s
from vpnregistry.errors import InvalidInput
from vpnregistry.uploads import DOCUMENT_TYPES

STEP_RESPONSES = {400: VALIDATION_ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


ORGANISATION_PARAMETER = OpenApiParameter(
    "organisation",
    int,
    description="whose documents (reviewers: an organisation with an application routed to you; "
    "members: their own, the default)",
)


class DocumentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An organisation's documents on file: its members upload; members and its reviewers read."""

    permission_classes = [role_permission(Role.APPLICANT, Role.AGENCY, Role.OFFICER)]
    serializer_class = s.DocumentSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = IdCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()
        return Document.objects.none()

    def get_object(self):
        return document_access.document_for(self.request.user, self.kwargs.get("pk"))

    def _organisation(self, request) -> Organisation:
        wanted = request.query_params.get("organisation")
        if wanted is None:
            if request.user.role == Role.APPLICANT:
                return request.user.organisation
            raise InvalidInput({"organisation": [_("Say whose documents: ?organisation=ID.")]})
        try:
            organisation_id = int(wanted)
        except ValueError:
            raise InvalidInput({"organisation": [_("An organisation id is a number.")]}) from None
        if not document_access.may_read_organisation_documents(request.user, organisation_id):
            raise Http404("no such organisation")
        return get_object_or_404(Organisation, pk=organisation_id)

    @extend_schema(parameters=[ORGANISATION_PARAMETER], responses={200: s.DocumentSerializer(many=True)})
    def list(self, request):
        """The documents still on file (deleted ones are not listed), newest first."""
        qs = documents.documents_of(self._organisation(request)).order_by("-id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.DocumentSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={201: s.DocumentSerializer, **STEP_RESPONSES},
    )
    def create(self, request):
        body = s.DocumentUploadBody(data=request.data)
        body.is_valid(raise_exception=True)
        document = documents.document_upload(
            actor=request.user,
            document_type=body.validated_data["document_type"],
            upload=body.validated_data["file"],
            expires_on=body.validated_data["expires_on"] or None,
        )
        return Response(s.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="the file, with the media type checked from its content"
                )
                for media_type in sorted(DOCUMENT_TYPES)
            },
            401: ERROR,
            403: ERROR,
            404: ERROR,
        }
    )
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        return document_response(self.get_object())

    @extend_schema(
        parameters=[ORGANISATION_PARAMETER],
        responses={200: s.RequirementSerializer(many=True), 400: VALIDATION_ERROR, 404: ERROR},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def requirements(self, request):
        """What the organisation's category needs, and whether a valid document is on file for each."""
        status_rows = documents.requirement_status(self._organisation(request))
        return Response(s.RequirementSerializer(status_rows, many=True).data)
