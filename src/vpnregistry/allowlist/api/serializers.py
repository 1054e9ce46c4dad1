"""Shapes of the allowlist in the API (which operators are behind): no business logic."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.accounts.models import Operator


class OperatorSyncSerializer(serializers.ModelSerializer):
    last_serial = serializers.IntegerField(source="sync.last_serial", default=None, allow_null=True)
    last_seen = serializers.DateTimeField(source="sync.last_seen", default=None, allow_null=True)
    downloads = serializers.SerializerMethodField(help_text="downloads recorded; 0 before the first")
    behind = serializers.IntegerField(
        help_text="serials between the latest and the operator's latest download"
    )

    class Meta:
        model = Operator
        fields = ["code", "name", "name_ur", "kind", "last_serial", "behind", "last_seen", "downloads"]

    def get_downloads(self, obj) -> int:
        # An operator that never downloaded has no sync row; the count is then 0, not null.
        try:
            return obj.sync.downloads
        except Operator.sync.RelatedObjectDoesNotExist:
            return 0
