"""Serializers: shapes of requests and responses, no business logic."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vpnregistry.accounts.models import Operator
from vpnregistry.applications.models import Application, RejectionReason, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.models import Registration
from vpnregistry.restrictions.models import RestrictionEvent, Service


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


class RegistrationSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    operator = serializers.SlugRelatedField(read_only=True, slug_field="code")
    district = serializers.SlugRelatedField(read_only=True, slug_field="code", allow_null=True)

    class Meta:
        model = Registration
        fields = [
            "id",
            "reference",
            "kind",
            "value",
            "state",
            "state_reason",
            "state_changed_at",
            "organisation",
            "operator",
            "district",
            "valid_from",
            "valid_until",
        ]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
