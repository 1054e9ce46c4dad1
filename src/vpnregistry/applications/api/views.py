"""API views of applications: applications and their resources, operators' attestations, rejection
reasons, the queues, each user's notifications, and an application's public status.

Parse the request, call one service or selector, return its result.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry.accounts.models import Role
from vpnregistry.api.pagination import AscendingIdPagination, IdCursorPagination
from vpnregistry.api.parsers import JSONParser
from vpnregistry.api.permissions import PublicLookup, role_permission
from vpnregistry.api.schema import ERROR, QUEUE_ERROR, QUEUE_VALIDATION_ERROR, THROTTLED, VALIDATION_ERROR
from vpnregistry.applications import bulk, queues, selectors, services
from vpnregistry.applications.api import serializers as s
from vpnregistry.applications.models import Application, RejectionReason, Resource
from vpnregistry.applications.status import public_status
from vpnregistry.errors import InvalidInput
from vpnregistry.identifiers import identifiers_for
from vpnregistry.registrations.api import views as registration_views
from vpnregistry.registrations.api.serializers import ReasonSerializer


def _decision_response(request, service, serializer=s.DecisionSerializer, **target):
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    return service(actor=request.user, **body.validated_data, **target)


class CSVParser(BaseParser):
    """A CSV body, handed over as bytes (at most the bulk module's limit, plus one byte to notice more)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(bulk.MAX_BYTES + 1) if stream is not None else b""


def _csv_body(request) -> bytes:
    """The CSV of a text/csv body, or of the `file` field of a multipart form."""
    if isinstance(request.data, bytes):
        return request.data
    body = s.CsvUploadBody(data=request.data)
    body.is_valid(raise_exception=True)
    upload = body.validated_data["file"]
    if upload is None:
        raise InvalidInput(
            {"csv": [_("Send the CSV file as the body (text/csv) or as the form's file field.")]}
        )
    return upload.read(bulk.MAX_BYTES + 1)


TRANSITION_RESPONSES = {200: None, 400: VALIDATION_ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


DETAIL_ACTIONS = {
    "submit",
    "verify",
    "decide",
    "withdraw",
    "payment",
    "appeal",
    "appeal_decision",
    "resources",
}


DETAIL_RESPONSES = {**TRANSITION_RESPONSES, 200: s.ApplicationDetailSerializer}


class ApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    pagination_class = IdCursorPagination
    filterset_fields = ["state"]

    def get_queryset(self):
        return selectors.with_resources(
            Application.objects.visible_to(self.request.user).select_related(*selectors.APPLICATION_RELATED)
        )

    def get_serializer_class(self):
        if self.action == "retrieve" or self.action in DETAIL_ACTIONS:
            return s.ApplicationDetailSerializer
        if self.action == "create":
            return s.ApplicationCreateSerializer
        return s.ApplicationSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        context["visible_resources"] = lambda app: selectors.visible_resources(user, app)
        context["history"] = lambda app: selectors.history_of(user, app)
        context["identifiers"] = lambda app: identifiers_for(user, app)
        context["suspensions"] = lambda app: selectors.suspensions_shown(user, app)
        context["conflicts"] = lambda app: selectors.conflicts_shown(user, app)
        context["names_alike"] = lambda app: selectors.names_alike_shown(user, app)
        return context

    def _detail(self, application, status_code=status.HTTP_200_OK):
        data = s.ApplicationDetailSerializer(application, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(
        request=s.ApplicationCreateSerializer,
        responses={201: s.ApplicationDetailSerializer, 400: VALIDATION_ERROR, 403: ERROR},
        examples=[
            OpenApiExample(
                "one prefix",
                value={"resources": [{"value": "14.1.104.0/24", "subscriber_id": "ACC-1001"}]},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        body = s.ResourcesBody(data=request.data)
        if not body.is_valid():
            # This one refusal has always been worded in English alone, whatever the reader's language.
            return Response({"resources": ["A list of resources is required."]}, status=400)
        resources = body.validated_data["resources"]
        application = services.application_create(actor=request.user, resources=resources)
        return self._detail(application, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={**TRANSITION_RESPONSES, 200: s.SubmittedApplicationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        application = services.application_submit(actor=request.user, application=self.get_object())
        # On the first submission the answer carries the status secret, given this once only.
        context = self.get_serializer_context()
        return Response(s.SubmittedApplicationSerializer(application, context=context).data)

    @extend_schema(
        request=s.DecisionSerializer, responses={**TRANSITION_RESPONSES, 200: s.ApplicationDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        application = _decision_response(request, services.application_verify, application=self.get_object())
        return self._detail(application)

    @extend_schema(
        request=s.OfficerDecisionSerializer,
        responses={**TRANSITION_RESPONSES, 200: s.ApplicationDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        application = _decision_response(
            request,
            services.application_decide,
            serializer=s.OfficerDecisionSerializer,
            application=self.get_object(),
        )
        return self._detail(application)

    @extend_schema(request=ReasonSerializer, responses=DETAIL_RESPONSES)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The applicant withdraws its application, at any time before a decision."""
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        application = services.application_withdraw(
            actor=request.user, application=self.get_object(), reason=body.validated_data["reason"]
        )
        return self._detail(application)

    @extend_schema(request=s.PaymentSerializer, responses=DETAIL_RESPONSES)
    @action(detail=True, methods=["post"])
    def payment(self, request, pk=None):
        """An officer records the fee's payment reference; the application goes on to a decision."""
        application = self.get_object()
        services.require_role(request.user, Role.OFFICER)  # the role first, then the input
        body = s.PaymentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reference = body.validated_data["reference"]
        application = services.payment_record(
            actor=request.user, application=application, reference=reference
        )
        return self._detail(application)

    @extend_schema(request=s.AppealSerializer, responses=DETAIL_RESPONSES)
    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        """The applicant appeals a rejection within the appeal window (30 days by default)."""
        application = self.get_object()
        body = s.AppealBody(data=request.data)  # the grounds as sent; the service says what they lack
        body.is_valid(raise_exception=True)
        application = services.application_appeal(
            actor=request.user, application=application, grounds=body.validated_data["grounds"]
        )
        return self._detail(application)

    @extend_schema(request=s.AppealDecisionSerializer, responses=DETAIL_RESPONSES)
    @action(detail=True, methods=["post"], url_path="appeal-decision")
    def appeal_decision(self, request, pk=None):
        """An officer other than the one who rejected or verified upholds or dismisses the appeal."""
        application = self.get_object()
        services.require_role(request.user, Role.OFFICER)
        body = s.AppealDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        application = services.appeal_decide(actor=request.user, application=application, **data)
        return self._detail(application)

    @extend_schema(
        request={"application/json": s.ResourceListSerializer, "text/csv": OpenApiTypes.STR},
        responses={**DETAIL_RESPONSES, 415: ERROR},
    )
    @action(detail=True, methods=["put"], parser_classes=[JSONParser, CSVParser])
    def resources(self, request, pk=None):
        """The applicant replaces the resources of a draft or returned application (JSON or CSV).

        Resources sent again unchanged keep their operator's attestation; the others wait for one.
        """
        application = self.get_object()
        if request.content_type.startswith("text/csv"):
            application = bulk.resources_replace_from_csv(
                actor=request.user, application=application, data=_csv_body(request)
            )
        else:
            body = s.ResourcesBody(data=request.data)
            if not body.is_valid():
                services.require_role(request.user, Role.APPLICANT)  # the role first, then the input
                raise InvalidInput({field: [str(m) for m in errors] for field, errors in body.errors.items()})
            application = services.resources_replace(
                actor=request.user, application=application, resources=body.validated_data["resources"]
            )
        return self._detail(application)

    @extend_schema(
        request={"text/csv": OpenApiTypes.STR, "multipart/form-data": OpenApiTypes.OBJECT},
        responses={201: s.ApplicationDetailSerializer, 400: VALIDATION_ERROR, 403: ERROR, 415: ERROR},
    )
    @action(detail=False, methods=["post"], parser_classes=[CSVParser, MultiPartParser], url_path="csv")
    def csv(self, request):
        """A draft application from a CSV of resources (columns value, subscriber_id, district, operator).

        Every row is checked; any bad row refuses the file, each named as `line N: field: reason`.
        """
        services.require_role(request.user, Role.APPLICANT)
        application = bulk.application_create_from_csv(actor=request.user, data=_csv_body(request))
        return self._detail(application, status.HTTP_201_CREATED)


class ResourceViewSet(viewsets.GenericViewSet):
    """Resources waiting for the calling operator, and its attestations."""

    serializer_class = s.ResourceSerializer
    pagination_class = AscendingIdPagination
    permission_classes = [role_permission("operator")]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        return selectors.operator_resources(self.request.user).select_related(*selectors.RESOURCE_RELATED)

    def list(self, request):
        qs = self.get_queryset()
        if state := request.query_params.get("state"):
            qs = qs.filter(state=state)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.AttestSerializer, responses={**TRANSITION_RESPONSES, 200: s.ResourceSerializer})
    @action(detail=True, methods=["post"])
    def attest(self, request, pk=None):
        resource = selectors.resource_for_operator(request.user, pk)
        resource = _decision_response(
            request, services.resource_attest, s.AttestSerializer, resource=resource
        )
        return Response(s.ResourceSerializer(resource).data)

    @extend_schema(
        operation_id="resources_attest_many",
        request=s.BulkAttestSerializer,
        responses={**TRANSITION_RESPONSES, 200: s.ResourceSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], url_path="attest", url_name="attest-many")
    def attest_many(self, request):
        """The same answer on many resources at once: every one is recorded, or none is."""
        body = s.BulkAttestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        resources = services.resources_attest(
            actor=request.user,
            resource_ids=body.validated_data["resources"],
            decision=body.validated_data["decision"],
            reason=body.validated_data["reason"],
        )
        return Response(s.ResourceSerializer(resources, many=True).data)


class RejectionReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The regulator's list of reasons for a rejection (the active ones): decisions name one by code."""

    serializer_class = s.RejectionReasonSerializer
    pagination_class = PageNumberPagination
    lookup_field = "code"
    queryset = RejectionReason.objects.filter(active=True).order_by("code")


# The registrations' routes (registrations/api) with renewal added: a renewal is a new application, so
# it belongs to the workflow above registrations. The docstring, and so the schema's descriptions, is
# the base's.
class RegistrationWithRenewalViewSet(registration_views.RegistrationViewSet):
    @extend_schema(
        request=None,
        responses={201: s.ApplicationDetailSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """A draft application copied from this registration; approved, it replaces it without a gap."""
        application = services.registrations_renew(actor=request.user, registrations=[self.get_object()])
        user = request.user
        context = {
            "request": request,
            "visible_resources": lambda app: selectors.visible_resources(user, app),
            "history": lambda app: selectors.history_of(user, app),
            "identifiers": lambda app: identifiers_for(user, app),
            "suspensions": lambda app: selectors.suspensions_shown(user, app),
            "conflicts": lambda app: selectors.conflicts_shown(user, app),
            "names_alike": lambda app: selectors.names_alike_shown(user, app),
        }
        return Response(
            s.ApplicationDetailSerializer(application, context=context).data,
            status=status.HTTP_201_CREATED,
        )


class PublicStatusView(PublicLookup):
    """Public: an application's state, dates and changes of state, for its tracking number and the
    status secret given at submission. POST only, so that the secret stays out of URLs and logs; a
    wrong secret and an unknown number get the same answer."""

    @extend_schema(
        request=s.StatusRequestSerializer,
        responses={200: s.PublicStatusSerializer, 400: VALIDATION_ERROR, 404: ERROR, 429: THROTTLED},
    )
    def post(self, request):
        body = s.StatusRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = public_status(body.validated_data["tracking_number"], body.validated_data["secret"])
        if found is None:
            return Response(
                {"detail": _("No application matches this tracking number and secret.")}, status=404
            )
        return Response(s.PublicStatusSerializer(found).data)


# --- the queues ----------------------------------------------------------------------------


FILTERS = [
    OpenApiParameter("step", str, description="A step code of the caller's queue (officers: decision, ...)"),
    OpenApiParameter("category", str, description="A category code"),
    OpenApiParameter("agency", str, description="An agency code"),
    OpenApiParameter("operator", str, description="An operator code"),
    OpenApiParameter("district", str, description="A district code: a resource is used there"),
    OpenApiParameter("province", str, description="A province code: a resource is used there"),
    OpenApiParameter("overdue", bool, description="Only work waiting longer than its step's target"),
    OpenApiParameter("after", str, description="The cursor from the previous page's `next`"),
]


class QueueView(APIView):
    """The work waiting for the caller, oldest first: the agency's, the operator's or the regulator's."""

    permission_classes = [role_permission(*sorted(queues.QUEUE_ROLES))]

    @extend_schema(
        parameters=FILTERS,
        responses={
            200: s.QueuePageSerializer,
            400: QUEUE_VALIDATION_ERROR,
            401: QUEUE_ERROR,
            403: QUEUE_ERROR,
        },
    )
    def get(self, request):
        filters = queues.parse_filters(request.query_params, request.user.role)
        page = queues.queue_page(request.user, filters, request.query_params.get("after", ""))
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["after"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "results": s.QueueItemSerializer(page.items, many=True).data})
