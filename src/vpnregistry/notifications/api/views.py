"""API views of each user's own notifications: thin wrappers over notifications.services."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from vpnregistry.api.pagination import IdCursorPagination
from vpnregistry.api.schema import QUEUE_ERROR
from vpnregistry.errors import InvalidInput
from vpnregistry.notifications import services as notifications
from vpnregistry.notifications.api import serializers as s
from vpnregistry.notifications.models import Notification

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


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first; `?unread=1` for unread ones only."""

    serializer_class = s.NotificationSerializer
    pagination_class = IdCursorPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = Notification.objects.visible_to(self.request.user)
        if self.action == "list" and _flag(self.request.query_params, "unread"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="Only unread ones")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None, responses={200: s.NotificationSerializer, 401: QUEUE_ERROR, 404: QUEUE_ERROR}
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notifications.mark_read(actor=request.user, pk=pk)
        return Response(s.NotificationSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses={
            200: inline_serializer("MarkedRead", fields={"marked": serializers.IntegerField()}),
            401: QUEUE_ERROR,
        },
    )
    @action(detail=False, methods=["post"], url_path="read")
    def read_all(self, request):
        return Response({"marked": notifications.mark_read(actor=request.user)}, status=status.HTTP_200_OK)
