"""Serializers: shapes of requests and responses, no business logic."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.accounts.models import AddressSpace, Operator
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    organisation = serializers.CharField(allow_null=True)
    agency = serializers.CharField(allow_null=True)
    operator = serializers.CharField(allow_null=True)


class OperatorSerializer(serializers.ModelSerializer):
    address_space = serializers.SlugRelatedField(many=True, read_only=True, slug_field="prefix")

    class Meta:
        model = Operator
        fields = ["id", "code", "name", "kind", "address_space"]


class ResourceInputSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=100, help_text="An IPv4/IPv6 address or prefix")
    subscriber_id = serializers.CharField(
        max_length=64, help_text="The customer or account number on the bill"
    )


class ApplicationCreateSerializer(serializers.Serializer):
    resources = ResourceInputSerializer(many=True)


class ResourceSerializer(serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(read_only=True, slug_field="code")

    class Meta:
        model = Resource
        fields = ["id", "kind", "value", "operator", "subscriber_id", "state"]


class HistorySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEvent
        fields = ["seq", "at", "actor", "action", "from_state", "to_state", "reason"]


class ApplicationSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    category = serializers.SlugRelatedField(read_only=True, slug_field="code")
    agency = serializers.SlugRelatedField(read_only=True, slug_field="code")
    resources = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "tracking_number",
            "state",
            "organisation",
            "category",
            "agency",
            "created_at",
            "submitted_at",
            "verified_at",
            "decided_at",
            "decision_reason",
            "resources",
        ]

    def get_resources(self, obj) -> list[dict]:
        visible = self.context["visible_resources"](obj)
        return ResourceSerializer(visible, many=True).data


class ApplicationDetailSerializer(ApplicationSerializer):
    history = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "history"]

    def get_history(self, obj) -> list[dict]:
        return HistorySerializer(self.context["history"](obj), many=True).data


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AddressSpaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AddressSpace
        fields = ["prefix"]


class OperatorSyncSerializer(serializers.ModelSerializer):
    last_serial = serializers.IntegerField(source="sync.last_serial", default=None, allow_null=True)
    last_seen = serializers.DateTimeField(source="sync.last_seen", default=None, allow_null=True)
    downloads = serializers.IntegerField(source="sync.downloads", default=0)
    behind = serializers.IntegerField(
        help_text="serials between the latest and the operator's latest download"
    )

    class Meta:
        model = Operator
        fields = ["code", "name", "kind", "last_serial", "behind", "last_seen", "downloads"]
