"""API views of complaints that a registered resource was blocked during an event: parse the
request, call one service, respond."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from vpnregistry.accounts.models import Role
from vpnregistry.api.parsers import JSONParser
from vpnregistry.api.schema import ERROR, VALIDATION_ERROR
from vpnregistry.db import visible_or_404
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.restrictions import complaints
from vpnregistry.restrictions.api import serializers as s
from vpnregistry.restrictions.models import Complaint
from vpnregistry.restrictions.responses import evidence_response

STATES = ", ".join(Complaint.State.values)


COMPLAINT_RESPONSES = {400: VALIDATION_ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


class ComplaintViewSet(viewsets.GenericViewSet):
    """Complaints that a registered resource was blocked during an event, tracked to resolution.

    Applicants see their organisation's, operators those about their registrations, officers and
    auditors all; anyone else gets 404. Lists put the oldest open complaints first for operators
    and officers, the newest first for the others.
    """

    serializer_class = s.ComplaintSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Complaint.objects.none()
        return Complaint.objects.visible_to(self.request.user).select_related(*complaints.COMPLAINT_RELATED)

    def get_object(self):
        return visible_or_404(
            Complaint.objects.visible_to(self.request.user).select_related(*complaints.COMPLAINT_RELATED),
            self.kwargs.get("pk"),
        )

    def _detail(self, complaint, status_code=status.HTTP_200_OK):
        complaint = visible_or_404(
            Complaint.objects.visible_to(self.request.user).select_related(*complaints.COMPLAINT_RELATED),
            complaint.pk,
        )
        complaint.ordered_messages = list(complaints.timeline(complaint))
        return Response(s.ComplaintDetailSerializer(complaint).data, status=status_code)

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="from the previous page's `next`"),
            OpenApiParameter(
                "state", str, enum=[c for c, _ in Complaint.State.choices], description="only this state"
            ),
        ],
        responses={200: s.ComplaintPageSerializer, 401: ERROR},
    )
    def list(self, request):
        state = request.query_params.get("state") or None
        if state is not None and state not in Complaint.State.values:
            raise InvalidInput({"state": [_("Must be one of: %(choices)s.") % {"choices": STATES}]})
        page = complaints.page_for(request.user, request.query_params.get("cursor"), state=state)
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "results": s.ComplaintSerializer(page.items, many=True).data})

    @extend_schema(responses={200: s.ComplaintDetailSerializer, 401: ERROR, 404: ERROR})
    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(
        request={
            "application/json": s.ComplaintCreateSerializer,
            "multipart/form-data": s.ComplaintCreateSerializer,
        },
        responses={201: s.ComplaintDetailSerializer, **COMPLAINT_RESPONSES},
    )
    def create(self, request):
        if request.user.role != Role.APPLICANT:
            # The role first: a caller who may not complain learns nothing from validation errors.
            raise NotAllowed(_("Only a registrant (applicant) files complaints."))
        body = s.ComplaintCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complaint = complaints.complaint_file(actor=request.user, **body.validated_data)
        return self._detail(complaint, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ComplaintMessageCreateSerializer,
        responses={201: s.ComplaintDetailSerializer, **COMPLAINT_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        """An answer (the operator concerned) or a comment (the complainant, an officer)."""
        complaint = self.get_object()
        body = s.ComplaintMessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complaints.complaint_message_add(
            actor=request.user, complaint=complaint, text=body.validated_data["text"]
        )
        return self._detail(complaint, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ComplaintDecisionSerializer,
        responses={200: s.ComplaintDetailSerializer, **COMPLAINT_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """An officer closes the complaint: resolved, or rejected with a reason."""
        complaint = self.get_object()
        body = s.ComplaintDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complaints.complaint_decide(actor=request.user, complaint=complaint, **body.validated_data)
        return self._detail(complaint)

    @extend_schema(
        request=s.ComplaintReopenSerializer,
        responses={200: s.ComplaintDetailSerializer, **COMPLAINT_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """The complainant reopens a closed complaint, once."""
        complaint = self.get_object()
        body = s.ComplaintReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complaints.complaint_reopen(
            actor=request.user, complaint=complaint, reason=body.validated_data["reason"]
        )
        return self._detail(complaint)

    @extend_schema(
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="the evidence file, with its checked media type"
                )
                for media_type in complaints.EVIDENCE_TYPES
            },
            401: ERROR,
            404: ERROR,
        }
    )
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        """The complaint's evidence file: for the complainant's organisation, the operator concerned,
        officers and auditors."""
        return evidence_response(self.get_object())
