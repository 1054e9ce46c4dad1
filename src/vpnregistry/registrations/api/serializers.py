"""Shapes of registrations, of the public certificate check (nothing personal in it) and of
operators' address space changes in the API: no business logic."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.accounts.models import AddressSpaceChange
from vpnregistry.registrations.models import Registration


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


class CertificateCheckSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The verification code, in groups of four.")
    reference = serializers.CharField(help_text="The registration's public reference.")
    resource = serializers.CharField(help_text="The address or prefix; a mobile number only partly.")
    kind = serializers.ChoiceField(choices=Registration._meta.get_field("kind").choices)
    category = serializers.CharField(help_text="The category's name (English).")
    category_ur = serializers.CharField(help_text="The category's name in Urdu; empty when none was written.")
    organisation = serializers.CharField(
        allow_null=True, help_text="The holder's name for companies; null where the holder is a person."
    )
    state = serializers.ChoiceField(choices=Registration.State.choices)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    valid_now = serializers.BooleanField(help_text="Whether the registration is active now.")
    checked_at = serializers.DateTimeField()
    at = serializers.DateTimeField(allow_null=True, help_text="The time asked about (`at`), if any.")
    active_at = serializers.BooleanField(allow_null=True, help_text="Whether it was active at `at`.")


# --- operators' address space changes --------------------------------------------------------


class SpaceChangeSerializer(serializers.ModelSerializer):
    operator = serializers.CharField(source="operator.code", read_only=True)
    proposed_by = serializers.CharField(source="proposed_by.username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = AddressSpaceChange
        fields = [
            "id",
            "operator",
            "action",
            "prefix",
            "note",
            "state",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "reason",
        ]


class SpaceChangeCreateSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=AddressSpaceChange.Action.choices)
    prefix = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SpaceDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
