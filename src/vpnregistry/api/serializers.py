"""Serializers: shapes of requests and responses, no business logic."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.accounts.models import Operator
from vpnregistry.restrictions.models import RestrictionEvent, Service


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


class EventSerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    provinces = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    districts = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = RestrictionEvent
        fields = [
            "id",
            "title",
            "legal_reference",
            "description",
            "national",
            "provinces",
            "districts",
            "services",
            "starts_at",
            "ends_at",
            "published_at",
        ]


class EventCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    legal_reference = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    national = serializers.BooleanField(default=False)
    provinces = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, default=list
    )
    districts = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )
    services = serializers.ListField(child=serializers.CharField(max_length=50))
    starts_at = serializers.CharField(help_text="ISO 8601; without an offset, the registry's time zone")
    ends_at = serializers.CharField(help_text="ISO 8601; without an offset, the registry's time zone")
    publish = serializers.BooleanField(default=False)


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["code", "kind", "name", "name_ur"]


class ExemptionEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ExemptionSerializer(serializers.Serializer):
    address = serializers.CharField()
    at = serializers.DateTimeField()
    exempt = serializers.BooleanField()
    registration = serializers.CharField(allow_null=True, help_text="the registration's public reference")
    events = ExemptionEventSerializer(many=True)


class ExemptionJobSerializer(serializers.Serializer):
    """A bulk exemption check answered later (`Prefer: respond-async`, or a body past 50 MB)."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    at = serializers.DateTimeField(help_text="the time the addresses are checked at")
    size = serializers.IntegerField(help_text="bytes of addresses sent")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(help_text="the job and its answer are deleted then")
    url = serializers.CharField(help_text="this job: poll it until its state is done")
    result_url = serializers.CharField(allow_null=True, help_text="the answer (text/csv), once done")
    result_size = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
