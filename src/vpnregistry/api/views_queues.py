"""API for the queues and each user's notifications: thin wrappers over applications.queues/notifications."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry.api.permissions import role_permission
from vpnregistry.applications import queues
from vpnregistry.errors import InvalidInput
from vpnregistry.notifications import services as notifications
from vpnregistry.notifications.models import Notification

ERROR = inline_serializer("QueueError", fields={"detail": serializers.CharField()})
VALIDATION_ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input, keyed by field")


class QueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="application.pk")
    tracking_number = serializers.CharField(source="application.tracking_number")
    organisation = serializers.CharField(source="application.organisation.name")
    category = serializers.CharField(source="application.category.code")
    agency = serializers.CharField(source="application.agency.code", allow_null=True)
    state = serializers.CharField(source="application.state")
    step = serializers.CharField(source="step.code")
    waiting_since = serializers.DateTimeField(source="since")
    waited_seconds = serializers.SerializerMethodField()
    target_days = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()
    pending_resources = serializers.IntegerField(
        source="pending", allow_null=True, help_text="An operator's own resources waiting in it"
    )

    def get_waited_seconds(self, item) -> int:
        return int(item.waited.total_seconds())


QueuePageSerializer = inline_serializer(
    "QueuePage",
    fields={
        "next": serializers.URLField(allow_null=True),
        "results": QueueItemSerializer(many=True),
    },
)

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
        responses={200: QueuePageSerializer, 400: VALIDATION_ERROR, 401: ERROR, 403: ERROR},
    )
    def get(self, request):
        filters = queues.parse_filters(request.query_params, request.user.role)
        page = queues.queue_page(request.user, filters, request.query_params.get("after", ""))
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["after"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "results": QueueItemSerializer(page.items, many=True).data})


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "link", "created_at", "read_at"]


FLAGS = {"1": True, "true": True, "0": False, "false": False}


def _flag(params, name: str) -> bool:
    """A boolean query parameter: 1/true or 0/false (any case); empty or absent is false. Anything
    else (`?unread=-58800`) is refused naming it, not read as false."""
    raw = params.get(name) or ""
    if not raw:
        return False
    value = FLAGS.get(raw.lower())
    if value is None:
        raise InvalidInput({name: [_("Give true or false (or 1 or 0).")]})
    return value


class NewestFirst(CursorPagination):
    ordering = "-id"


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first; `?unread=1` for unread ones only."""

    serializer_class = NotificationSerializer
    pagination_class = NewestFirst
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = notifications.notifications_for(self.request.user)
        if self.action == "list" and _flag(self.request.query_params, "unread"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="Only unread ones")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: NotificationSerializer, 401: ERROR, 404: ERROR})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notifications.mark_read(actor=request.user, pk=pk)
        return Response(NotificationSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses={
            200: inline_serializer("MarkedRead", fields={"marked": serializers.IntegerField()}),
            401: ERROR,
        },
    )
    @action(detail=False, methods=["post"], url_path="read")
    def read_all(self, request):
        return Response({"marked": notifications.mark_read(actor=request.user)}, status=status.HTTP_200_OK)
