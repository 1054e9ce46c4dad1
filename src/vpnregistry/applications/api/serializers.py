"""Shapes of applications in the API (resources, decisions, organisations' documents, the queues,
notifications, the public status): no business logic."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.fields import empty

from vpnregistry.accounts.models import Document
from vpnregistry.applications.models import Application, RejectionReason, Resource
from vpnregistry.audit.models import AuditEvent


class ResourceInputSerializer(serializers.Serializer):
    value = serializers.CharField(
        max_length=100, help_text="An IPv4/IPv6 address or prefix, or a mobile number of Pakistan"
    )
    operator = serializers.CharField(
        max_length=50,
        required=False,
        help_text="The operator's code: required for a mobile number (the mobile operator that attests it)",
    )
    subscriber_id = serializers.CharField(
        max_length=64, help_text="The customer or account number on the bill"
    )
    district = serializers.CharField(
        max_length=60, required=False, help_text="Where it is used: a district code from /api/v1/districts/"
    )
    ported = serializers.BooleanField(
        required=False,
        default=False,
        help_text="For a mobile number naming an operator other than the one whose numbering holds it: "
        "the declaration that it was ported to that operator (required then; the numbering's "
        "operator is told at submission)",
    )


class ApplicationCreateSerializer(serializers.Serializer):
    resources = ResourceInputSerializer(many=True)


class ResourceSerializer(serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(read_only=True, slug_field="code")
    ported = serializers.SerializerMethodField()
    district = serializers.SlugRelatedField(read_only=True, slug_field="code", allow_null=True)
    renews = serializers.SlugRelatedField(
        read_only=True,
        slug_field="reference",
        allow_null=True,
        help_text="the registration this resource renews",
    )

    class Meta:
        model = Resource
        fields = ["id", "kind", "value", "operator", "subscriber_id", "district", "ported", "state", "renews"]

    @extend_schema_field(serializers.BooleanField(help_text="declared ported to its operator"))
    def get_ported(self, obj) -> bool:
        return hasattr(obj, "porting")


class HistorySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEvent
        fields = ["seq", "at", "actor", "action", "from_state", "to_state", "reason"]


class ApplicationSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    category = serializers.SlugRelatedField(read_only=True, slug_field="code")
    agency = serializers.SlugRelatedField(
        read_only=True, slug_field="code", allow_null=True, help_text="set once the application is submitted"
    )
    resources = serializers.SerializerMethodField()
    rejection_reason = serializers.SlugRelatedField(
        read_only=True, slug_field="code", allow_null=True, help_text="code from /api/v1/rejection-reasons/"
    )
    publication = serializers.SerializerMethodField()

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
            "rejection_reason",
            "fee_addresses",
            "fee_amount",
            "payment_reference",
            "paid_at",
            "appeal_grounds",
            "appealed_at",
            "appeal_decided_at",
            "publication",
            "published_serial",
            "resources",
        ]
        read_only_fields = ["published_serial"]

    @extend_schema_field(
        serializers.ChoiceField(
            choices=["pending", "published"],
            allow_null=True,
            help_text="an approved application's registrations: on their way to the allowlist (pending), "
            "or carried by it since `published_serial`; null before approval",
        )
    )
    def get_publication(self, obj) -> str | None:
        if obj.state != Application.State.APPROVED:
            return None
        return "published" if obj.published_serial is not None else "pending"

    def get_resources(self, obj) -> list[dict]:
        visible = self.context["visible_resources"](obj)
        return ResourceSerializer(visible, many=True).data


class IdentifiersSerializer(serializers.Serializer):
    masked = serializers.BooleanField(
        help_text="true unless the caller reviews this application (its agency's reviewers, officers)"
    )
    ntn = serializers.CharField(allow_blank=True)
    secp_number = serializers.CharField(allow_blank=True)
    pseb_number = serializers.CharField(allow_blank=True)
    cnic = serializers.CharField(allow_blank=True)


class SuspensionSerializer(serializers.Serializer):
    registration = serializers.CharField(source="reference", help_text="the suspended registration renewed")
    value = serializers.CharField()
    suspended_at = serializers.DateTimeField(source="state_changed_at", allow_null=True)
    reason = serializers.CharField(source="state_reason", allow_blank=True)


class ConflictSerializer(serializers.Serializer):
    resource = serializers.CharField(help_text="the resource asked for")
    registration = serializers.CharField(help_text="the other organisation's active registration it overlaps")
    value = serializers.CharField()
    organisation = serializers.CharField(help_text="its holder")
    valid_until = serializers.DateTimeField()


class NameAlikeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ApplicationDetailSerializer(ApplicationSerializer):
    """One application; lists (ApplicationSerializer) never carry the organisation's identifiers."""

    history = serializers.SerializerMethodField()
    identifiers = serializers.SerializerMethodField()
    suspensions = serializers.SerializerMethodField(
        help_text="suspended registrations this application renews, with the suspension's reason: "
        "an officer approves it only with `acknowledge_suspension` and a reason"
    )

    conflicts = serializers.SerializerMethodField(
        help_text="for the agency's reviewers and officers only (empty for anybody else): active "
        "registrations of other organisations that a resource overlaps; such an application is "
        "rejected (reason `overlap`), never approved"
    )

    names_alike = serializers.SerializerMethodField(
        help_text="for the agency's reviewers and officers only (empty for anybody else): other "
        "organisations whose names look like this one's (case, spacing, look-alike letters of "
        "another script), to check that the name does not pass for another's"
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [
            *ApplicationSerializer.Meta.fields,
            "suspensions",
            "conflicts",
            "names_alike",
            "identifiers",
            "history",
        ]

    @extend_schema_field(NameAlikeSerializer(many=True))
    def get_names_alike(self, obj) -> list[dict]:
        return NameAlikeSerializer(self.context["names_alike"](obj), many=True).data

    @extend_schema_field(ConflictSerializer(many=True))
    def get_conflicts(self, obj) -> list[dict]:
        return ConflictSerializer(self.context["conflicts"](obj), many=True).data

    @extend_schema_field(SuspensionSerializer(many=True))
    def get_suspensions(self, obj) -> list[dict]:
        return SuspensionSerializer(self.context["suspensions"](obj), many=True).data

    @extend_schema_field(IdentifiersSerializer)
    def get_identifiers(self, obj) -> dict:
        return IdentifiersSerializer(self.context["identifiers"](obj).as_dict()).data

    def get_history(self, obj) -> list[dict]:
        return HistorySerializer(self.context["history"](obj), many=True).data


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject", "return"])
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="required to reject or return; on a return, what the applicant must change",
    )
    reason_code = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=40,
        help_text="a rejection's reason, a code from /api/v1/rejection-reasons/ ('other' if none)",
    )


class OfficerDecisionSerializer(DecisionSerializer):
    acknowledge_suspension = serializers.BooleanField(
        required=False,
        default=False,
        help_text="required (true, with a reason) to approve a renewal of a suspended registration "
        "(see the application's `suspensions`)",
    )


class AttestSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class BulkAttestSerializer(AttestSerializer):
    resources = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=1000,
        help_text="ids of pending resources in the operator's space; all are attested or none",
    )


class ResourceListSerializer(serializers.Serializer):
    resources = ResourceInputSerializer(many=True)


class PaymentSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64, help_text="the bank's or the payment system's reference")


class AppealSerializer(serializers.Serializer):
    grounds = serializers.CharField(max_length=5000)


class AppealDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["uphold", "dismiss"])
    reason = serializers.CharField(max_length=2000)


class RejectionReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = RejectionReason
        fields = ["code", "text", "name_ur"]
        extra_kwargs = {"name_ur": {"help_text": "the reason in Urdu; empty when none was written"}}


# --- an organisation's documents, as its members and its reviewers see them ---------------


class DocumentSerializer(serializers.ModelSerializer):
    document_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation = serializers.IntegerField(source="organisation_id", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "organisation",
            "document_type",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "expires_on",
            "deleted_at",
        ]


class DocumentUploadSerializer(serializers.Serializer):
    document_type = serializers.CharField(help_text="A document type code the category asks for.")
    file = serializers.FileField(help_text="PDF, PNG or JPEG (judged by its content), up to 5 MB.")
    expires_on = serializers.DateField(required=False, allow_null=True, help_text="Required for some types.")


class RequirementSerializer(serializers.Serializer):
    name = serializers.CharField(source="requirement.name")
    name_ur = serializers.CharField(
        source="requirement.name_ur", help_text="the requirement in Urdu; empty when none was written"
    )
    document_types = serializers.SerializerMethodField()
    met = serializers.BooleanField()
    document = serializers.IntegerField(source="document.pk", allow_null=True, default=None)

    def get_document_types(self, obj) -> list[str]:
        return [t.code for t in obj.types]


# --- the public status ---------------------------------------------------------------------


class SubmittedApplicationSerializer(ApplicationDetailSerializer):
    status_secret = serializers.CharField(
        read_only=True,
        required=False,
        help_text="Given once, on the first submission: with the tracking number it opens the public "
        "status (POST /api/v1/status/). Only its hash is kept; it cannot be shown again.",
    )

    class Meta(ApplicationDetailSerializer.Meta):
        fields = [*ApplicationDetailSerializer.Meta.fields, "status_secret"]


class StatusRequestSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=40)
    secret = serializers.CharField(max_length=80, trim_whitespace=True)


class StatusChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class PublicStatusSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    category = serializers.CharField(help_text="The category's name (English).")
    category_ur = serializers.CharField(help_text="The category's name in Urdu; empty when none was written.")
    state = serializers.ChoiceField(choices=Application.State.choices)
    submitted_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    history = StatusChangeSerializer(many=True)


# --- the queues ----------------------------------------------------------------------------


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


# --- bodies as the services take them ---------------------------------------------------------
# The views read these bodies through the serializers below, which only shape them: the service
# checks what it is given, after the caller's role, in its own words. The schema shows each body with
# its rules through the serializers above (ApplicationCreateSerializer, ResourceListSerializer,
# AppealSerializer, DocumentUploadSerializer).


class AnyValue(serializers.Field):
    """A value passed on as sent (null included), for the service to judge."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class SentText(serializers.CharField):
    """A text as sent, untrimmed; anything else (absent, null, a number, a list) is "", a missing text,
    which the service refuses."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False, allow_blank=True, allow_null=True, trim_whitespace=False, default="", **kwargs
        )

    def validate_empty_values(self, data):
        if data is None:
            return (True, "")
        return super().validate_empty_values(data)

    def to_internal_value(self, data) -> str:
        return data if isinstance(data, str) else ""


class SentFile(serializers.Field):
    """A file sent in a multipart body, else None (the service says that a file is needed)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, default=None, **kwargs)

    def to_internal_value(self, data) -> UploadedFile | None:
        return data if isinstance(data, UploadedFile) else None


RESOURCES_REQUIRED = gettext_lazy("A list of resources is required.")


class ResourceItemsField(serializers.ListField):
    """A list, each item passed on as sent (a mapping, or anything else, which the service names in its
    errors item by item). A form's text is not a list: none is assembled from fields named
    resources[0], ... as DRF would."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "error_messages", dict.fromkeys(("required", "null", "not_a_list"), RESOURCES_REQUIRED)
        )
        super().__init__(child=AnyValue(), **kwargs)

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


class Body(serializers.Serializer):
    """A body read as the service takes it: one that is not an object (a list, a text, null) is read as
    an empty object, every field absent."""

    def run_validation(self, data=empty):
        return super().run_validation(data if isinstance(data, Mapping) else {})


class ResourcesBody(Body):
    resources = ResourceItemsField()


class AppealBody(Body):
    grounds = SentText()


class DocumentUploadBody(Body):
    document_type = SentText()
    file = SentFile()
    expires_on = AnyValue(required=False, default=None)  # a date's format is the service's to judge


class CsvUploadBody(Body):
    file = SentFile()
