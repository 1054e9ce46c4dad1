"""Shapes of restriction events, exemption checks and statements, and complaints in the API: no
business logic."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.restrictions.models import Complaint, ComplaintMessage, RestrictionEvent, Service


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


# --- complaints ----------------------------------------------------------------------------


class ComplaintMessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = ComplaintMessage
        fields = ["id", "at", "author", "author_role", "kind", "text", "from_state", "to_state"]


class ComplaintSerializer(serializers.ModelSerializer):
    registration = serializers.CharField(source="registration.reference")
    resource = serializers.CharField(source="registration.value")
    organisation = serializers.CharField(source="organisation.name")
    operator = serializers.CharField(source="operator.code")
    event = serializers.IntegerField(source="event_id")
    event_title = serializers.CharField(source="event.title")
    service = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "state",
            "registration",
            "resource",
            "organisation",
            "operator",
            "event",
            "event_title",
            "happened_at",
            "service",
            "service_text",
            "description",
            "reopened",
            "decision_reason",
            "evidence",
            "created_at",
            "updated_at",
        ]

    def get_evidence(self, obj) -> dict | None:
        """The evidence's name, type, size and SHA-256, when there is any (download it at evidence/)."""
        if not obj.evidence_file:
            return None
        return {
            "name": obj.evidence_name,
            "media_type": obj.evidence_type,
            "size": obj.evidence_size,
            "sha256": obj.evidence_sha256,
        }


class ComplaintDetailSerializer(ComplaintSerializer):
    timeline = ComplaintMessageSerializer(many=True, source="ordered_messages")

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "timeline"]


class ComplaintCreateSerializer(serializers.Serializer):
    registration = serializers.CharField(max_length=12, help_text="the registration's reference, R-...")
    event = serializers.IntegerField(help_text="a published restriction event's id")
    happened_at = serializers.CharField(
        help_text="when it was blocked, inside the event's window; ISO 8601, the registry's zone without "
        "an offset"
    )
    service = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="a code of one of the event's services"
    )
    service_text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="what failed, in words"
    )
    description = serializers.CharField(max_length=5000)
    evidence = serializers.FileField(
        required=False,
        allow_null=True,
        help_text="PDF, PNG, JPEG or plain text, up to 5 MB (multipart/form-data)",
    )


class ComplaintMessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class ComplaintDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["resolved", "rejected"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ComplaintReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class ComplaintPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="the URL of the next page, if any")
    results = ComplaintSerializer(many=True)
