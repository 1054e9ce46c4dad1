"""Shapes of notifications in the API: no business logic."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "link", "created_at", "read_at"]
